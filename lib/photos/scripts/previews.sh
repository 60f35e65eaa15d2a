#!/bin/sh
# The nightly thumbnail job (lib/photos/previews.ts), as www-data in the Nextcloud image.
# Makes the previews of new photos ahead of time, with Nextcloud's own code (the previewgenerator
# app), so albums open at once in the morning instead of keeping the family's sync waiting:
#   1. waits while the night's backup runs (its lock in the backup volume beats);
#   2. previews of photos added since the last night (occ preview:pre-generate);
#   3. until the whole library has them once, goes on through it (occ preview:generate-all),
#      which skips every photo that has its previews already: a big library takes a few nights;
#   4. stops at TIME_LIMIT_SECONDS after the start, whatever it is doing, and goes on next night;
#   5. ends with a summary (how many photos still wait) as its termination message for status.
# It reads photos and writes only previews, Nextcloud's cache of them: stopping it anywhere
# loses nothing but the preview being made.
set -u

webroot=${NEXTCLOUD_WEBROOT:-/var/www/html}
OCC=${OCC:-php $webroot/occ}
limit=${TIME_LIMIT_SECONDS:?TIME_LIMIT_SECONDS is not set}
backup_lock="${BACKUP_DIR:-/backup}/.lock"
# A backup lock without a beat for this long belongs to a run that was killed (see backup.sh).
lock_quiet=${LOCK_QUIET_SECONDS:-600}
poll=${POLL_SECONDS:-30}
caught_up="$webroot/.homecloud-previews-caught-up"
termination_log=${TERMINATION_LOG:-/dev/termination-log}
count=${COUNT_WAITING:-php /homecloud/previews-waiting.php}

started=$(date +%s)
deadline=$((started + limit))

log() { echo "homecloud previews: $*"; }

# The summary status reads: what happened, why, and how many photos still wait (null: unknown).
finish() {
  waiting=$($count "$webroot/config/config.php" 2>/dev/null) || waiting=''
  case "$waiting" in ''|*[!0-9]*) waiting=null ;; esac
  summary=$(printf '{"result":"%s","reason":"%s","waiting":%s,"caughtUp":%s,"seconds":%s}' \
    "$1" "$2" "$waiting" "$([ -f "$caught_up" ] && echo true || echo false)" "$(( $(date +%s) - started ))")
  { echo "$summary" > "$termination_log"; } 2>/dev/null || true
  log "$2 ($waiting photos wait for thumbnails)"
  log "$summary"
  exit "${3:-0}"
}

left() { echo $((deadline - $(date +%s))); }

# Runs occ until the deadline, gently (nice: the family's own requests come first).
# Returns 0 when done, 124 when stopped at the deadline, occ's code otherwise.
until_deadline() {
  [ "$(left)" -gt 0 ] || return 124
  timeout -s TERM "$(left)" nice -n 10 $OCC "$@"
  rc=$?
  [ "$rc" -ne 0 ] && [ "$(left)" -le 0 ] && return 124
  return "$rc"
}

status=$($OCC status --output=json 2>/dev/null) || status=''
case "$status" in
  *'"installed":true'*) ;;
  *) finish skipped "Nextcloud is not installed yet (or did not answer); nothing to do tonight" ;;
esac

# 1. The backup first: its maintenance window, and the processor, are the night's first job.
said=''
while [ -d "$backup_lock" ]; do
  beat=$(cat "$backup_lock/beat" 2>/dev/null || echo 0)
  [ $(( $(date +%s) - ${beat:-0} )) -ge "$lock_quiet" ] && break
  [ "$(left)" -gt "$poll" ] || finish skipped "the backup was still running at the time limit; thumbnails wait for tomorrow night"
  [ -n "$said" ] || log "the backup is running; waiting for it to end"
  said=yes
  sleep "$poll"
done

case "$($OCC status --output=json 2>/dev/null)" in
  *'"maintenance":true'*) finish skipped "Nextcloud is in maintenance mode (an upgrade or a restore); thumbnails wait for tomorrow night" ;;
esac

# 2. Photos added since last night.
until_deadline preview:pre-generate
rc=$?
[ "$rc" -eq 124 ] && finish stopped "stopped at the time limit; goes on tomorrow night"
[ "$rc" -eq 0 ] || finish failed "occ preview:pre-generate failed (exit code $rc); see this job's log" 1

# 3. The rest of the library, once.
if [ ! -f "$caught_up" ]; then
  log "going through the whole library once (photos that have previews are skipped)"
  until_deadline preview:generate-all
  rc=$?
  [ "$rc" -eq 124 ] && finish stopped "stopped at the time limit while catching up with the library; goes on tomorrow night"
  [ "$rc" -eq 0 ] || finish failed "occ preview:generate-all failed (exit code $rc); see this job's log" 1
  date +%s > "$caught_up"
  log "the whole library has its previews; from now on only new photos"
fi
finish done "done"
