#!/bin/sh
# Nightly database backup (runs in the backup CronJob, in the same postgres image as the
# server, because pg_dump refuses servers newer than itself).
#
# Writes a custom-format dump to a temporary name on the backup volume, verifies it by
# reading every byte back through pg_restore, records its checksum, and only then renames
# it into place: a dump that is visible under its final name is complete and readable.
# Any failure exits non-zero and leaves every earlier backup untouched.
#
# Env: PGHOST PGUSER PGDATABASE PGPASSWORD (libpq), BACKUP_DIR (default /backup).
set -eu
set -o pipefail

backup_dir=${BACKUP_DIR:-/backup}
db_dir="$backup_dir/database"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
name="nextcloud-$stamp.dump"
partial="$db_dir/.$name.partial"

log() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) backup: $*"; }
cleanup() {
  status=$?
  rm -f "$partial" "$db_dir/.$name.sha256.partial"
  [ "$status" -eq 0 ] || log "FAILED (exit $status); earlier backups are untouched"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

mkdir -p "$db_dir"
log "dumping database ${PGDATABASE:-?} on ${PGHOST:-?}"
pg_dump --format=custom --file="$partial"

# A table-of-contents listing passes a truncated file; restoring to /dev/null reads it all.
log "verifying $(wc -c < "$partial") bytes"
pg_restore --file=/dev/null "$partial"

sum=$(sha256sum "$partial" | cut -d' ' -f1)
echo "$sum  $name" > "$db_dir/.$name.sha256.partial"
mv "$partial" "$db_dir/$name"
mv "$db_dir/.$name.sha256.partial" "$db_dir/$name.sha256"
log "done: $db_dir/$name (sha256 $sum)"
