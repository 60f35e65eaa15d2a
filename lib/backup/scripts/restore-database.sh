#!/bin/sh
# Restore, step 2 of 3 (postgres image, same tag as the server): roles first (a new server
# lacks the one Nextcloud logs in as; existing ones are left as they are), then the
# database in one transaction, so a failure leaves the database as it was.
set -eu
set -o pipefail

coord=${COORD_DIR:?COORD_DIR is not set}
name=$(cat "$coord/snapshot")
dir="${BACKUP_DIR:-/backup}/snapshots/$name"
log() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) restore: $*"; }

if [ -f "$dir/roles.sql" ]; then
  # The role we connect as keeps its current password (it comes from this install's
  # credentials, which may be newer than the snapshot); "already exists" errors are expected.
  grep -v -E "^(CREATE|ALTER) ROLE \"?${PGUSER:?PGUSER is not set}\"?[ ;]" "$dir/roles.sql" \
    | psql -X -q -d "$PGDATABASE" >/dev/null 2>&1 || true
fi
log "restoring the database from $name"
pg_restore --clean --if-exists --single-transaction --exit-on-error --dbname="${PGDATABASE:?PGDATABASE is not set}" "$dir/database.dump"
log "database restored"
