#!/usr/bin/env bash
# Fetches busybox 1.37, the version current Alpine releases ship (the images' own busybox was
# not inspected: no container engine here), for `npm run bench -- offsite`: from 1.36 on, busybox's sha256sum uses the CPU's SHA instructions, and the off-disk
# copy's read-back check is mostly sha256sum. The machine's own busybox (Debian 12: 1.35) is
# about 8 times slower there. Debian's busybox-static build of that version, checked against the
# checksum in Debian's package index, is cached outside the checkout.
# Benchmarks only: that build runs its own applets before PATH (Alpine's does not), so the
# tests' command doubles would not be called; the test tier keeps the machine's busybox.
#
# Usage: BENCH_BUSYBOX=$(bench/fetch-busybox.sh)/busybox npm run bench -- offsite
# Env:   HOMECLOUD_BUSYBOX_CACHE  cache root (default: $HOME/.cache/homecloud-busybox)
set -euo pipefail

VERSION=${BUSYBOX_VERSION:-1.37.0}
SUITE=${BUSYBOX_SUITE:-trixie}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
DIR="${HOMECLOUD_BUSYBOX_CACHE:-$HOME/.cache/homecloud-busybox}/$VERSION"

if [ -x "$DIR/busybox" ]; then
  echo "$DIR"
  exit 0
fi
fail() { echo "fetch-busybox.sh: $*" >&2; exit 1; }
arch=$(dpkg --print-architecture 2>/dev/null) || fail "needs dpkg (Debian or Ubuntu) to unpack the package"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

curl -fsS "$MIRROR/dists/$SUITE/main/binary-$arch/Packages.xz" -o "$tmp/Packages.xz" || fail "cannot read Debian's $SUITE package index at $MIRROR"
xz -d "$tmp/Packages.xz"
entry=$(awk '/^Package: busybox-static$/ { p = 1 } p && /^$/ { exit } p' "$tmp/Packages")
version=$(sed -n 's/^Version: //p' <<<"$entry")
file=$(sed -n 's/^Filename: //p' <<<"$entry")
sum=$(sed -n 's/^SHA256: //p' <<<"$entry")
case $version in
  *:"$VERSION"-*) ;;
  *) fail "Debian $SUITE has busybox-static ${version:-(none)}, not $VERSION; set BUSYBOX_SUITE to a suite that has it" ;;
esac
curl -fsS "$MIRROR/$file" -o "$tmp/busybox.deb" || fail "cannot download $MIRROR/$file"
echo "$sum  $tmp/busybox.deb" | sha256sum -c --quiet - >/dev/null || fail "$file does not match the checksum in Debian's index"
dpkg-deb -x "$tmp/busybox.deb" "$tmp/unpacked"
says=$("$tmp/unpacked/usr/bin/busybox" 2>/dev/null || true)
[[ $says == "BusyBox v$VERSION "* ]] || fail "the package's busybox is not $VERSION"
mkdir -p "$DIR"
install -m 755 "$tmp/unpacked/usr/bin/busybox" "$DIR/busybox.partial"
mv "$DIR/busybox.partial" "$DIR/busybox"
echo "fetch-busybox.sh: busybox $VERSION ($version, Debian $SUITE) in $DIR" >&2
echo "$DIR"
