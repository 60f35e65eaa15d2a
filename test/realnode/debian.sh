#!/usr/bin/env bash
# Debian packages the real node uses without installing them (installing containerd or Redis
# would start a service on the machine): downloaded with apt-get download and unpacked into a
# cache folder keyed by their versions. Prints the folder; its x/ holds the unpacked files.
#
#   debian.sh PACKAGE...
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: debian.sh PACKAGE..." >&2; exit 2; }
ROOT=${HOMECLOUD_K8S_CACHE:-$HOME/.cache/homecloud-k8s}
versions=$(for p in "$@"; do
  v=$(apt-cache show --no-all-versions "$p" 2>/dev/null | sed -n 's/^Version: //p' | head -n 1)
  [ -n "$v" ] || { echo "debian.sh: apt knows no package $p (run apt-get update)" >&2; exit 3; }
  echo "$p=$v"
done)
OUT="$ROOT/debian-$(echo "$versions" | sha256sum | cut -c1-16)"
if [ -f "$OUT/.complete" ]; then echo "$OUT"; exit 0; fi
rm -rf "$OUT"; mkdir -p "$OUT/debs"
(cd "$OUT/debs" && apt-get download "$@" >/dev/null 2>&1) || { echo "debian.sh: apt-get download $* failed" >&2; exit 3; }
for deb in "$OUT"/debs/*.deb; do dpkg -x "$deb" "$OUT/x"; done
echo "$versions" > "$OUT/versions"
touch "$OUT/.complete"
echo "$OUT"
