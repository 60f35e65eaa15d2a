#!/usr/bin/env bash
# Builds restic at the version of the image the nightly job runs (lib/config/settings.ts, backupStore),
# from the Go module proxy, so that CI tests the backup scripts against the restic they will
# meet, not Debian 12's older package (0.14). Cached outside the checkout by version and never
# rebuilt once there. .ci/run puts it in place of Debian's for the test run only (see there).
#
# Usage: test/restic/build.sh                 prints the folder holding `restic` on stdout
#        test/restic/build.sh --cached-only   exit 1 instead of building
# Env:   HOMECLOUD_RESTIC_CACHE  cache root (default: $HOME/.cache/homecloud-restic)
set -euo pipefail
cd "$(dirname "$0")/../.."

VERSION=${RESTIC_VERSION:-$(sed -n "s/^ *backupStore: 'restic\/restic:\([0-9.]*\)'.*/\1/p" lib/config/settings.ts)}
[ -n "$VERSION" ] || { echo "build.sh: cannot read restic's version from lib/config/settings.ts (backupStore)" >&2; exit 2; }
DIR="${HOMECLOUD_RESTIC_CACHE:-$HOME/.cache/homecloud-restic}/$VERSION"

if [ -x "$DIR/restic" ]; then
  echo "$DIR"
  exit 0
fi
[ "${1:-}" = --cached-only ] && exit 1
command -v go >/dev/null || { echo "build.sh: Go is not installed; cannot build restic $VERSION" >&2; exit 3; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "[restic build $(date +%H:%M:%S)] restic $VERSION from the Go module proxy (a few minutes, once)" >&2
# Checked by Go against the module checksum database, like the control plane's modules.
GOTOOLCHAIN=local CGO_ENABLED=0 GOBIN="$work/bin" go install "github.com/restic/restic/cmd/restic@v$VERSION" >&2
"$work/bin/restic" version | grep -q "^restic $VERSION " || { echo "build.sh: the build does not say it is restic $VERSION" >&2; exit 1; }
mkdir -p "$DIR"
mv "$work/bin/restic" "$DIR/restic.partial"
mv "$DIR/restic.partial" "$DIR/restic"
echo "$DIR"
