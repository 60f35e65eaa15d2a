#!/bin/sh
# Prints the complete, undamaged snapshots in SNAPSHOTS_DIR, oldest first, one name a line.
# Shared by backup.sh (what to build on, what retention may consider) and restore-check.sh
# (what to restore by default). Half-written ones (.incomplete-*) and those marked DAMAGED
# are never listed.
set -eu
dir=${1:?usage: good-snapshots.sh SNAPSHOTS_DIR}
ls -1 "$dir" 2>/dev/null | while read -r s; do
  case "$s" in
    [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z) [ -f "$dir/$s/DAMAGED" ] || echo "$s" ;;
  esac
done | sort
