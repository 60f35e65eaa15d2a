#!/usr/bin/env bash
# Debian's Squid, unpacked (never installed: its package would start a proxy on port 3128 of
# this machine) into a cache folder, for the egress point's tests and the real node's stand-in
# of ubuntu/squid. Prints the folder; its x/ holds the files (x/usr/sbin/squid).
#   squid.sh --packages   prints the package names only
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
packages="squid squid-common squid-langpack libecap3 libltdl7 libnetfilter-conntrack3 libtdb1 libmnl0"
if [ "${1:-}" = --packages ]; then echo "$packages"; exit 0; fi
# shellcheck disable=SC2086 # one package per word
exec "$here/../realnode/debian.sh" $packages
