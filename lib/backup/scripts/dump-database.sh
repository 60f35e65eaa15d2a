#!/bin/sh
# The database half of the nightly backup. Runs in the postgres image (pg_dump refuses
# servers newer than itself) beside backup.sh, which runs in the Nextcloud image; the two
# talk through files in a shared folder ($COORD_DIR):
#   start            written by backup.sh once Nextcloud is in maintenance mode; holds the
#                    snapshot's work folder
#   abort            written by backup.sh when it gives up before asking for the dump
#   database.done    written here: "<sha256> <bytes> <server version>"
#   database.failed  written here: why the dump failed
# The dump goes to a temporary name, is read back completely (a table-of-contents listing
# would pass a truncated file), checksummed, and only then renamed into place.
set -eu
set -o pipefail

coord=${COORD_DIR:?COORD_DIR is not set}
wait_limit=${DUMP_WAIT_SECONDS:-7200}
# This script is its container's PID 1, and the kernel gives a PID 1 no signal it has no
# handler for: without this, SIGTERM (the job's deadline, a shutdown) would be ignored.
trap 'exit 143' TERM INT

log() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) database: $*"; }
fail() {
  log "FAILED: $*"
  echo "$*" > "$coord/database.failed"
  exit 1
}

# Why a PostgreSQL program failed, on one line: its first "error:" line names the cause (the
# lines after it, e.g. "before or while processing the request.", do not); else its last lines.
why() {
  cause=$(sed -n 's/^[a-z_]*: error: //p' "$errors" | head -n 1)
  if [ -n "$cause" ]; then echo "$cause"; else tail -n 2 "$errors" | tr '\n' ' '; fi
}

waited=0
while [ ! -f "$coord/start" ]; do
  if [ -f "$coord/abort" ]; then
    log "the backup stopped before the dump; nothing to do"
    exit 0
  fi
  [ "$waited" -ge "$wait_limit" ] && fail "backup.sh never asked for the dump (waited ${wait_limit}s)"
  sleep 1
  waited=$((waited + 1))
done

target=$(cat "$coord/start")
partial="$target/.database.dump.partial"
errors="$coord/database.err"
trap 'rm -f "$partial" "$target/.roles.sql.partial"' EXIT

version=$(psql -X -t -A -c 'SHOW server_version' 2>"$errors") \
  || fail "cannot reach the database: $(why)"
log "dumping ${PGDATABASE:-?} from PostgreSQL $version"
# Lowest priority: the family's PC stays responsive while the backup runs.
nice -n 19 pg_dump --format=custom --file="$partial" 2>"$errors" \
  || fail "pg_dump failed: $(why)"
nice -n 19 pg_restore --file=/dev/null "$partial" 2>"$errors" \
  || fail "the dump does not read back: $(why)"
# Roles are not part of a database dump, but Nextcloud logs in as a role its installer
# created: keep them (with their password hashes) so a restore onto a new server works.
nice -n 19 pg_dumpall --globals-only > "$target/.roles.sql.partial" 2>"$errors" \
  || fail "could not save the database roles: $(why)"
mv "$target/.roles.sql.partial" "$target/roles.sql"
sum=$(sha256sum "$partial" | cut -d' ' -f1)
size=$(wc -c < "$partial" | tr -d ' ')
mv "$partial" "$target/database.dump"
printf '%s  database.dump\n%s  roles.sql\n' "$sum" "$(sha256sum "$target/roles.sql" | cut -d' ' -f1)" > "$target/database.sha256"
printf '%s %s %s\n' "$sum" "$size" "$version" > "$coord/database.done.tmp"
mv "$coord/database.done.tmp" "$coord/database.done"
log "verified $size bytes, sha256 $sum"
