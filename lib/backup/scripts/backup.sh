#!/bin/sh
# The nightly backup. Runs in the Nextcloud image (it has occ and rsync) as www-data,
# beside dump-database.sh in the postgres image; see that script for how they talk.
#
#  0. takes the maintenance lock (lease.sh), shared with the PC's restore, update, upgrade…:
#     while another operation holds it the night is skipped, with the reason in last-run.json
#  1. takes the backup lock (a second run exits at once; the lock of a run killed outright is
#     taken over once it has not beaten for ten heartbeats, or has expired)
#     and removes what killed runs left half-written
#  2. verifies the newest earlier snapshot against its checksums before building on it (a damaged
#     one is marked, and the next older one is verified in its place)
#  3. puts Nextcloud in maintenance mode, and takes it out again on every exit path
#  4. asks for the database dump and, meanwhile, snapshots config/ data/ themes/ custom_apps/
#     with rsync --link-dest: unchanged files are hard links to the previous snapshot
#  5. checksums what changed, carries the rest of the previous manifest over, writes
#     summary.json, and renames the snapshot into place only when all of it succeeded
#  6. applies retention, only after a fully successful backup
# Any failure exits non-zero and leaves every earlier snapshot untouched. The outcome of every
# run, good or bad, is written to $BACKUP_DIR/last-run.json for the status report.
set -eu
set -o pipefail

backup_dir=${BACKUP_DIR:-/backup}
webroot=${NEXTCLOUD_WEBROOT:-/var/www/html}
coord=${COORD_DIR:?COORD_DIR is not set}
occ=${OCC:-php $webroot/occ}
maintenance=${MAINTENANCE_MODE:-true}
verify_previous=${VERIFY_PREVIOUS:-true}
lock_stale=${LOCK_STALE_SECONDS:-14400}
heartbeat_every=${BACKUP_HEARTBEAT_SECONDS:-30}
# A run refreshes .lock/beat every heartbeat_every seconds; a lock without a beat for this long
# belongs to a run that was stopped without its traps (power cut, PC switched off, OOM kill).
lock_quiet=${LOCK_QUIET_SECONDS:-$((heartbeat_every * 10))}
lock_beat_pid=''
# The maintenance lock (a Lease, see lease.sh): MAINTENANCE_LOCK=false leaves it alone (tests
# of this script alone); LEASE_SECONDS is how long a silent holder keeps it.
maintenance_lock=${MAINTENANCE_LOCK:-true}
lease_seconds=${LEASE_SECONDS:-60}
lease_beat_pid=''
owns_lease=false
# With the off-disk copy in this pod (offsite.sh), the lock is kept until it ends too.
offsite_in_pod=${OFFSITE_IN_POD:-false}
# Refreshed while this run holds maintenance mode; the cron container turns maintenance off
# when it goes stale (a run killed midway), see cron-loop.sh.
marker="$webroot/.homecloud-backup-maintenance"
heartbeat_pid=''
dump_wait=${DUMP_WAIT_SECONDS:-7200}
snapshots="$backup_dir/snapshots"
termination_log=${TERMINATION_LOG:-/dev/termination-log}

started=$(date -u +%s)
stamp=$(date -u -d "@$started" +%Y-%m-%dT%H%M%SZ)
work="$snapshots/.incomplete-$stamp"
logs="$backup_dir/logs"
log_file="$logs/$stamp.log"
owns_lock=false
maintenance_on=false
damaged=''
error=''

mkdir -p "$snapshots" "$logs"
log() {
  line="$(date -u +%Y-%m-%dT%H:%M:%SZ) backup: $*"
  echo "$line"
  echo "$line" >> "$log_file"
}
fail() {
  error=$*
  log "FAILED: $*"
  exit 1
}
json_string() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g' | tr '\n\t' '  ')"; }

write_last_run() { # result
  finished=$(date -u +%s)
  {
    printf '{"time":%s,"finished":%s,"durationSeconds":%s,"result":%s,"snapshot":%s,"error":%s,"damagedSnapshot":%s}\n' \
      "$(json_string "$(date -u -d "@$started" +%Y-%m-%dT%H:%M:%SZ)")" \
      "$(json_string "$(date -u -d "@$finished" +%Y-%m-%dT%H:%M:%SZ)")" \
      "$((finished - started))" "$(json_string "$1")" "$(json_string "${snapshot_name:-}")" \
      "$(json_string "$error")" "$(json_string "$damaged")"
  } > "$backup_dir/.last-run.json.tmp" && mv "$backup_dir/.last-run.json.tmp" "$backup_dir/last-run.json"
  # Kubernetes keeps a container's termination message in the pod's status: this is how
  # the status report reads the outcome without mounting the backup volume.
  summary="$snapshots/${snapshot_name:-none}/summary.json"
  if [ -n "${snapshot_name:-}" ] && [ -f "$summary" ]; then
    head -c 3000 "$summary" > "$termination_log" 2>/dev/null || true
  else
    cat "$backup_dir/last-run.json" > "$termination_log" 2>/dev/null || true
  fi
}

heartbeat() { # FILE: the time, written every heartbeat_every seconds until told to end
  # Its sleep ends with it: a sleep left behind would hold the job's output open for up to
  # heartbeat_every seconds after the backup is done.
  trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
  while :; do
    date -u +%s > "$1.tmp" && mv "$1.tmp" "$1"
    sleep "$heartbeat_every" &
    sleeper=$!
    wait "$sleeper"
  done
}
maintenance_release() { # turns maintenance off and stops the heartbeat; fails when occ does
  $occ maintenance:mode --off >/dev/null || return 1
  maintenance_on=false
  [ -n "$heartbeat_pid" ] && kill "$heartbeat_pid" 2>/dev/null
  heartbeat_pid=''
  rm -f "$marker" "$marker.tmp"
}

finish() {
  code=$?
  # Never leave the database container waiting for a dump that will not be asked for.
  [ -f "$coord/start" ] || touch "$coord/abort" 2>/dev/null || true
  if [ "$maintenance_on" = true ]; then
    if maintenance_release 2>/dev/null; then
      log "maintenance mode off"
    else
      # The heartbeat stops, so the cron container turns it off within minutes.
      log "could not turn maintenance mode off: run 'occ maintenance:mode --off'"
      code=1
    fi
  elif [ -n "$heartbeat_pid" ]; then
    rm -f "$marker" "$marker.tmp"
  fi
  [ -n "$heartbeat_pid" ] && kill "$heartbeat_pid" 2>/dev/null
  # Ended (not only told to end) before the lock folder goes, so no last beat recreates a file in it.
  if [ -n "$lock_beat_pid" ]; then kill "$lock_beat_pid" 2>/dev/null; wait "$lock_beat_pid" 2>/dev/null; fi
  if [ "$owns_lock" = true ]; then
    rm -rf "$work"
    [ "$code" -eq 0 ] && result=success || result=failed
    [ "$code" -ne 0 ] && [ -z "$error" ] && error="stopped (exit $code)"
    write_last_run "$result" || true
    rm -rf "$backup_dir/.lock"
  fi
  # Last, for offsite.sh (the third container, which starts work only now): tonight's snapshot.
  echo "$code ${snapshot_name:-}" > "$coord/backup.exit.tmp" && mv "$coord/backup.exit.tmp" "$coord/backup.exit" || true
  if [ "$owns_lease" = true ]; then
    # The copy works under the same lock; stopped by a signal, the Job is ending anyway.
    if [ "$offsite_in_pod" = true ] && [ "$code" -ne 143 ]; then
      waited=0
      while [ ! -f "$coord/offsite.exit" ] && [ "$waited" -lt "$dump_wait" ]; do sleep 1; waited=$((waited + 1)); done
    fi
    if [ -n "$lease_beat_pid" ]; then kill "$lease_beat_pid" 2>/dev/null; wait "$lease_beat_pid" 2>/dev/null; fi
    lease release >/dev/null 2>&1 || log "the maintenance lock could not be released; it expires by itself within $lease_seconds s"
  fi
  exit "$code"
}
trap finish EXIT
trap 'error="stopped by a signal (timeout or shutdown)"; exit 143' TERM INT HUP

# --- 0. the maintenance lock
lease() { LEASE_STATE="$coord/lease" LEASE_SECONDS="$lease_seconds" sh "$(dirname "$0")/lease.sh" "$@"; }
lease_beat() { # renews the lock every third of its length until told to end
  trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
  while :; do
    sleep $((lease_seconds / 3)) &
    sleeper=$!
    wait "$sleeper"
    said=$(lease renew 2>&1) || true
    [ -z "$said" ] || log "maintenance lock: $said"
  done
}
if [ "$maintenance_lock" = true ]; then
  said=$(lease take 2>&1) && taken=0 || taken=$?
  if [ "$taken" -eq 0 ]; then
    owns_lease=true
    [ "$said" = taken ] || log "maintenance lock: $said"
    lease_beat &
    lease_beat_pid=$!
  elif [ "$taken" -eq 3 ] && ! echo "$said" | grep -q 'could not be'; then
    # Another operation runs (a restore, an upgrade…), or a restore was cut short: a backup now
    # would save a half-changed home cloud as the newest snapshot. The night is skipped; a
    # restore pauses the CronJob, and the night missed runs when it resumes.
    error=$said
    log "skipped: $error"
    write_last_run skipped
    exit 0
  else
    # The lock cannot be read at all (the API server does not answer): a night without a backup
    # is the greater harm, and the backup lock below still keeps two backups apart.
    log "backing up without the maintenance lock: ${said:-lease.sh failed}"
  fi
fi

# --- 1. lock
if ! mkdir "$backup_dir/.lock" 2>/dev/null; then
  since=$(cat "$backup_dir/.lock/since" 2>/dev/null || echo 0)
  beat=$(cat "$backup_dir/.lock/beat" 2>/dev/null || echo '')
  if [ -n "$beat" ] && [ $((started - beat)) -gt "$lock_quiet" ]; then
    log "removing the lock of a backup that stopped without finishing (no sign of life for $((started - beat)) s)"
  elif [ $((started - since)) -lt "$lock_stale" ]; then
    echo "backup: another backup has been running since $(date -u -d "@$since" +%H:%M:%SZ); not starting a second one" >&2
    exit 75
  else
    log "removing a stale lock left by a run that was killed"
  fi
  rm -rf "$backup_dir/.lock"
  mkdir "$backup_dir/.lock"
fi
echo "$started" > "$backup_dir/.lock/since"
owns_lock=true
heartbeat "$backup_dir/.lock/beat" &
lock_beat_pid=$!
log "starting snapshot $stamp"
# Half-written snapshots of runs that were killed (power cut, PC shut down, out of memory):
# whoever holds the lock is the only writer, so any that exist now belong to nobody.
# The same for snapshots whose removal by retention was cut short (.removing-*).
for stale in "$snapshots"/.incomplete-* "$snapshots"/.removing-*; do
  [ -e "$stale" ] || continue
  rm -rf "$stale" && log "removed ${stale##*/}, left by a run that was stopped"
done

# --- 2. the newest earlier snapshot, verified before anything is linked to it
good_snapshots() { sh "$(dirname "$0")/good-snapshots.sh" "$snapshots"; }
manifest() { sh "$(dirname "$0")/manifest.sh" "$@"; }
# A damaged one is marked and the next older one is verified in turn: unchanged files are hard
# links shared between snapshots, so rot in one inode shows in every snapshot that links it, and
# an unverified older base would carry the rotten file into tonight's snapshot.
base=$(good_snapshots | tail -n 1)
while [ -n "$base" ] && [ "$verify_previous" = true ]; do
  log "verifying the previous snapshot $base"
  (cd "$snapshots/$base" && sha256sum -c database.sha256 >/dev/null 2>&1 && manifest check files MANIFEST >/dev/null) && break
  damaged="${damaged:+$damaged }$base"
  (cd "$snapshots/$base" && { sha256sum -c database.sha256 2>/dev/null; manifest check files MANIFEST; } | grep -v ': OK$' > DAMAGED) || true
  [ -s "$snapshots/$base/DAMAGED" ] || echo "checksum mismatch" > "$snapshots/$base/DAMAGED"
  log "snapshot $base does not match its checksums ($(wc -l < "$snapshots/$base/DAMAGED" | tr -d ' ') damaged); it is kept and marked DAMAGED"
  base=$(good_snapshots | tail -n 1)
done
if [ -n "$damaged" ]; then log "building on ${base:-nothing}: ${base:+unchanged files are linked to it, }everything else is copied afresh"; fi

# --- 3. maintenance mode
if [ "$maintenance" = true ]; then
  date -u +%s > "$marker" || fail "cannot write $marker in the Nextcloud volume"
  heartbeat "$marker" &
  heartbeat_pid=$!
  $occ maintenance:mode --on >/dev/null || fail "could not put Nextcloud in maintenance mode"
  maintenance_on=true
  log "maintenance mode on"
fi

# --- 4. database dump (other container) and files snapshot (here), side by side
mkdir -p "$work/files"
echo "$work" > "$coord/start.tmp" && mv "$coord/start.tmp" "$coord/start"
for dir in config data themes custom_apps; do
  [ -d "$webroot/$dir" ] || continue
  link=''
  [ -n "$base" ] && [ -d "$snapshots/$base/files/$dir" ] && link="--link-dest=$snapshots/$base/files/$dir/"
  # Only regular files and folders: the manifest covers files, and nothing else belongs here.
  nice -n 19 rsync -a --no-specials --no-devices $link "$webroot/$dir/" "$work/files/$dir/" \
    2> "$work/.rsync-err" || fail "copying $dir failed: $(tail -n 2 "$work/.rsync-err" | tr '\n' ' ')"
done
# What rsync copied rather than linked to the previous snapshot has one link: a new or changed
# file. (Its own list of names is escaped by locale, so it is not used; see manifest.sh.)
(cd "$work/files" && find . -type f -links 1 -print0 | manifest keys) > "$work/.changed" \
  || fail "could not list the copied files"
log "files copied: $(wc -l < "$work/.changed" | tr -d ' ') new or changed"

waited=0
until [ -f "$coord/database.done" ]; do
  [ -f "$coord/database.failed" ] && fail "database: $(cat "$coord/database.failed")"
  [ "$waited" -ge "$dump_wait" ] && fail "the database dump did not finish within ${dump_wait}s"
  sleep 1
  waited=$((waited + 1))
done
read -r db_sum db_bytes pg_version < "$coord/database.done"

# Everything is copied: the family can use Nextcloud again while checksums are computed.
if [ "$maintenance_on" = true ]; then
  maintenance_release || fail "could not turn maintenance mode off"
  log "maintenance mode off"
fi

# --- 5. checksums: new ones for what changed, the previous manifest for the rest
(cd "$work/files" && find . -type f -print0 | manifest keys) > "$work/.present" || fail "could not list the copied files"
(cd "$work/files" && find . -type f -links 1 -print0 | manifest sum .) > "$work/.new-sums" \
  || fail "could not checksum the copied files"
{
  if [ -n "$base" ] && [ -f "$snapshots/$base/MANIFEST" ]; then
    awk -v changed="$work/.changed" -v present="$work/.present" '
      BEGIN { while ((getline p < changed) > 0) skip[p] = 1; while ((getline p < present) > 0) keep[p] = 1 }
      { key = substr($0, 1, 1) == "\\" ? substr($0, 68) : substr($0, 67); if ((key in keep) && !(key in skip)) print }' "$snapshots/$base/MANIFEST"
  fi
  cat "$work/.new-sums"
} > "$work/MANIFEST"
[ "$(wc -l < "$work/MANIFEST")" -eq "$(wc -l < "$work/.present")" ] \
  || fail "the manifest does not cover every file (previous snapshot incomplete?)"

changed_count=$(wc -l < "$work/.changed" | tr -d ' ')
nextcloud_version=$(sed -n "s/^\$OC_VersionString = '\(.*\)';/\1/p" "$webroot/version.php" 2>/dev/null || true)
files_bytes=$(du -sk "$work/files" | cut -f1)
new_kib=$files_bytes
[ -n "$base" ] && new_kib=$(du -sk "$snapshots/$base/files" "$work/files" | tail -n 1 | cut -f1)
rm -f "$work/.changed" "$work/.present" "$work/.new-sums" "$work/.rsync-err"
finished=$(date -u +%s)
snapshot_name=$stamp
# The disk the backups are on (on Docker Desktop: its virtual disk, where the family's files
# are too; the claim's size is not enforced there): status warns before it fills up.
set -- $(df -Pk "$backup_dir" 2>/dev/null | awk 'NR == 2 { print $2, $4 }')
disk_kib=${1:-0}
disk_free_kib=${2:-0}
printf '{"snapshot":%s,"time":%s,"durationSeconds":%s,"result":"success","nextcloudVersion":%s,"postgresVersion":%s,"database":{"file":"database.dump","bytes":%s,"sha256":%s},"files":{"count":%s,"changed":%s,"kib":%s,"newKib":%s,"manifest":"MANIFEST"},"disk":{"kib":%s,"freeKib":%s},"base":%s}\n' \
  "$(json_string "$stamp")" "$(json_string "$(date -u -d "@$started" +%Y-%m-%dT%H:%M:%SZ)")" "$((finished - started))" \
  "$(json_string "$nextcloud_version")" "$(json_string "$pg_version")" "$db_bytes" "$(json_string "$db_sum")" \
  "$(wc -l < "$work/MANIFEST" | tr -d ' ')" "$changed_count" \
  "$files_bytes" "$new_kib" "$disk_kib" "$disk_free_kib" "$(json_string "$base")" > "$work/summary.json"
cp "$log_file" "$work/backup.log"
mv "$work" "$snapshots/$stamp"
log "snapshot $stamp complete: database $db_bytes bytes, files ${files_bytes} KiB (${new_kib} KiB new)"

# --- 6. retention, only now that a full backup succeeded
if [ -n "$damaged" ]; then
  error="snapshot(s) $damaged damaged (see their DAMAGED files); a fresh snapshot $stamp was made from verified data"
  log "retention skipped: $error"
  exit 1
fi
good_snapshots | sh "$(dirname "$0")/nights.sh" | KEEP_DAILY=${RETAIN_DAILY:-7} KEEP_WEEKLY=${RETAIN_WEEKLY:-4} KEEP_MONTHLY=${RETAIN_MONTHLY:-6} \
  sh "$(dirname "$0")/retention.sh" | while read -r old; do
  [ "$old" = "$stamp" ] && continue
  # Renamed out of sight first: a removal cut short (power cut) must not leave a snapshot
  # that looks complete with files missing; the next run finishes removing it.
  mv "$snapshots/$old" "$snapshots/.removing-$old" && rm -rf "$snapshots/.removing-$old" && log "retention: removed $old"
done
# Keep the newest 60 run logs.
ls -1 "$logs" | sort -r | tail -n +61 | while read -r old; do rm -f "$logs/$old"; done
log "done"
