#!/bin/sh
# Moves the database to a new PostgreSQL major (`npm run upgrade -- --postgres N`). Runs in the
# NEW major's image, in a Job beside the old server, while Nextcloud is stopped:
#   1. initdb a new data folder ($PGDATA, e.g. /var/lib/postgresql/19/docker) on the database
#      volume, beside the old major's folder, which is only ever read;
#   2. the new pg_dump reads the old server over the network (a newer pg_dump reads older
#      servers, never the other way round) and pg_restore fills the new one in one transaction;
#   3. every table's row count and content digest is compared between old and new.
# Only then does the client switch the Deployment to the new image. A run that is killed leaves
# its marker, and the next run starts the new folder over; the old major's data never changes.
# Prints "upgraded: <tables> tables, <rows> rows equal" last; the reason on failure.
set -eu
set -o pipefail

: "${PGDATA:?PGDATA is not set}" "${OLD_HOST:?OLD_HOST is not set}" "${PGUSER:?PGUSER is not set}"
: "${PGPASSWORD:?PGPASSWORD is not set}" "${PGDATABASE:?PGDATABASE is not set}"
trap 'exit 143' TERM INT

log() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) database-upgrade: $*"; }
fail() {
  log "FAILED: $*"
  { echo "$*" > "${TERMINATION_LOG:-/dev/termination-log}"; } 2>/dev/null || true
  exit 1
}

work="$PGDATA.upgrade"

# initdb and postgres refuse root: prepare the folders, then go on as the postgres user.
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$(dirname "$PGDATA")"
  chown postgres:postgres "$(dirname "$PGDATA")"
  [ -d "$work" ] && chown -R postgres:postgres "$work"
  [ -d "$PGDATA" ] && chown -R postgres:postgres "$PGDATA"
  for helper in gosu su-exec; do
    command -v "$helper" >/dev/null 2>&1 && exec "$helper" postgres sh "$0" "$@"
  done
  command -v runuser >/dev/null 2>&1 && exec runuser -u postgres -- sh "$0" "$@"
  fail "no way to switch to the postgres user (gosu, su-exec or runuser) in this image"
fi

# The same row text on both sides whatever the servers' defaults (dates, floats, bytea).
export PGOPTIONS='-c DateStyle=ISO,YMD -c TimeZone=UTC -c extra_float_digits=3 -c bytea_output=hex -c IntervalStyle=postgres'
old() { psql -X -q -t -A -v ON_ERROR_STOP=1 -h "$OLD_HOST" -p "${OLD_PORT:-5432}" "$@"; }

# Before anything is touched: the server to copy from must run an older major than the folder
# this run fills (/var/lib/postgresql/<major>/docker). Started by hand after the switch, this Job
# would otherwise be pointed at the live database's own folder.
old_version=$(old -d "$PGDATABASE" -c 'SHOW server_version_num') || fail "cannot reach the old database at $OLD_HOST"
old_major=$((old_version / 10000))
target=$(basename "$(dirname "$PGDATA")")
case "$target" in
  '' | *[!0-9]*) ;;
  *) [ "$old_major" -lt "$target" ] || fail "the database at $OLD_HOST already runs PostgreSQL $old_major: nothing to copy into $target; nothing was changed" ;;
esac

# A killed run: the half-made new database is thrown away and made again.
if [ -e "$work/incomplete" ]; then
  log "an earlier attempt did not finish: starting the new data folder over"
  rm -rf "$PGDATA" "$work"
fi
# A folder of this major that tidy-old-majors.sh marked for removal was left by an upgrade that
# was rolled back: the family went back to the older data, so this one is replaced.
if [ -s "$PGDATA/PG_VERSION" ] && [ -f "$(dirname "$PGDATA")/homecloud-keep-until" ]; then
  log "replacing the PostgreSQL data left by an earlier upgrade that was rolled back"
  rm -rf "$PGDATA" "$(dirname "$PGDATA")/homecloud-keep-until"
fi
# An earlier copy of this run's own making that was never switched to (the Job was stopped
# after the copy was checked, or the switch failed): the old server has run on since, so it is
# made again from it.
if [ -s "$PGDATA/PG_VERSION" ] && [ -f "$PGDATA/homecloud-copied-from" ]; then
  log "replacing an earlier copy that was never switched to"
  rm -rf "$PGDATA"
fi
[ -s "$PGDATA/PG_VERSION" ] && fail "$PGDATA already holds a PostgreSQL $(cat "$PGDATA/PG_VERSION") database; refusing to overwrite it"
mkdir -p "$work"
chmod 700 "$work"
: > "$work/incomplete"

socket="$work"
umask 077
printf '%s' "$PGPASSWORD" > "$work/pw"
new() { psql -X -q -t -A -v ON_ERROR_STOP=1 -h "$socket" "$@"; }

log "old server: $(old -d "$PGDATABASE" -c 'SHOW server_version'); new: $(postgres --version)"

# UTF-8 with byte-order collation, as the Alpine image's initdb makes it (musl has no locales).
initdb -D "$PGDATA" -U "$PGUSER" --auth=scram-sha-256 --pwfile="$work/pw" -E UTF8 --locale=C.UTF-8 >"$work/initdb.log" 2>&1 \
  || fail "initdb failed: $(tail -n 3 "$work/initdb.log" | tr '\n' ' ')"
# The image's own initdb (which this one replaces) opens the server to the pod network.
echo 'host all all all scram-sha-256' >> "$PGDATA/pg_hba.conf"
pg_ctl -D "$PGDATA" -w -t 300 -l "$work/server.log" -o "-c listen_addresses='' -k $socket" start >/dev/null \
  || fail "the new server did not start: $(tail -n 3 "$work/server.log" | tr '\n' ' ')"
stop_new() { pg_ctl -D "$PGDATA" -w -m fast stop >/dev/null 2>&1 || true; }
trap 'stop_new; exit 143' TERM INT

# Roles first (Nextcloud's own database user among them); ours already exists.
pg_dumpall -h "$OLD_HOST" -p "${OLD_PORT:-5432}" --roles-only \
  | grep -v -E "^(CREATE|ALTER) ROLE \"?${PGUSER}\"?[ ;]" | new -d postgres >/dev/null \
  || { stop_new; fail "copying the roles failed"; }
new -d postgres -c "CREATE DATABASE \"$PGDATABASE\" OWNER \"$PGUSER\" TEMPLATE template0 ENCODING 'UTF8'" >/dev/null \
  || { stop_new; fail "creating the database failed"; }
log "dumping the old database"
pg_dump -h "$OLD_HOST" -p "${OLD_PORT:-5432}" -Fc -f "$work/database.dump" "$PGDATABASE" || { stop_new; fail "pg_dump of the old database failed"; }
log "restoring it into the new server"
pg_restore -h "$socket" --single-transaction --exit-on-error -d "$PGDATABASE" "$work/database.dump" \
  || { stop_new; fail "pg_restore into the new server failed"; }

# Every table, both sides: "<table> <rows> <digest of the sorted row digests>".
digests() {
  "$@" -d "$PGDATABASE" -c "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables
    WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1" | while IFS= read -r t; do
    echo "$t $("$@" -d "$PGDATABASE" -c "SELECT count(*) || ' ' || coalesce(md5(string_agg(h, '' ORDER BY h)), '-') FROM (SELECT md5(x::text) AS h FROM $t x) d")"
  done
}
digests old > "$work/old.digests" || { stop_new; fail "reading the old tables failed"; }
digests new > "$work/new.digests" || { stop_new; fail "reading the new tables failed"; }
if ! cmp -s "$work/old.digests" "$work/new.digests"; then
  differ=$(diff "$work/old.digests" "$work/new.digests" | grep '^[<>]' | head -n 3 | tr '\n' ' ')
  stop_new
  fail "the new database differs from the old one: $differ"
fi
# A restored database has no planner statistics: without them its first queries are slow.
vacuumdb -h "$socket" --analyze-only -q -d "$PGDATABASE" || log "ANALYZE failed (the server collects statistics itself later)"
stop_new
tables=$(wc -l < "$work/old.digests" | tr -d ' ')
rows=$(awk '{ s += $2 } END { print s + 0 }' "$work/old.digests")
# Checked and complete: from here a run that is stopped leaves a copy the next run may replace.
echo "$old_version" > "$PGDATA/homecloud-copied-from"
rm -rf "$work"
summary="upgraded: $tables tables, $rows rows equal (from server version $old_version)"
log "$summary"
{ echo "$summary" > "${TERMINATION_LOG:-/dev/termination-log}"; } 2>/dev/null || true
