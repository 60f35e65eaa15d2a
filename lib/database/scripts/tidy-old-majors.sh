#!/bin/sh
# Init step of the database pod (postgres image, as root): after `npm run upgrade -- --postgres N`
# the old major's data folder stays on the volume beside the new one, so that `npm run rollback`
# can go back to it. Each folder of another major gets a "keep until" date the first time it is
# seen here (KEEP_DAYS from then) and is removed once that date has passed.
# `npm run upgrade -- --confirm` removes it sooner (REMOVE_NOW=1). Only numbered folders are
# ever touched, and never the one in use.
set -eu
root=${DATA_ROOT:?DATA_ROOT is not set}
current=${PG_MAJOR_IN_USE:?PG_MAJOR_IN_USE is not set}
keep_days=${KEEP_DAYS:-14}
now=$(date -u +%s)
log() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) tidy: $*"; }

for dir in "$root"/*/; do
  [ -d "$dir" ] || continue
  major=$(basename "$dir")
  case "$major" in '' | *[!0-9]*) continue ;; esac
  [ "$major" = "$current" ] && continue
  marker="$dir/homecloud-keep-until"
  if [ "${REMOVE_NOW:-0}" = 1 ]; then
    rm -rf "${dir%/}"
    log "removed PostgreSQL $major's data (confirmed)"
    continue
  fi
  if [ ! -f "$marker" ]; then
    echo $((now + keep_days * 86400)) > "$marker"
    log "PostgreSQL $major's data is kept for $keep_days days (npm run rollback can go back to it)"
    continue
  fi
  until=$(cat "$marker")
  case "$until" in '' | *[!0-9]*) log "unreadable $marker: keeping PostgreSQL $major's data"; continue ;; esac
  if [ "$now" -ge "$until" ]; then
    rm -rf "${dir%/}"
    log "removed PostgreSQL $major's data (kept $keep_days days after the upgrade)"
  fi
done
