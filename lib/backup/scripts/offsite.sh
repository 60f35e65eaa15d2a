#!/bin/sh
# The nightly job's third container (the restic image): once backup.sh has made tonight's
# snapshot, puts it into the backup repository and copies the repository off Docker Desktop's
# disk. restic brings what a copy on Windows needs: content-addressed files (no family file
# name, owner or mode reaches Windows), deduplication (an unchanged photo costs nothing), an
# encrypted store with checks of its own, and retention.
#
#  1. waits for backup.sh (through the shared folder, like dump-database.sh); on the first
#     night it creates the repository meanwhile
#  2. stages the snapshot under one fixed path as hard links, so restic recognises unchanged
#     files from the previous night without reading them, with the home CA beside it (CA_DIR:
#     only in the encrypted repository, never in the plain snapshot folders, so a restore on a
#     new PC brings it back and the phones go on trusting the home cloud)
#  3. restic backup, then restic forget --prune with the off-disk retention (when it can drop any)
#  4. scrub, every SCRUB_EVERY_DAYS: every kept snapshot against its checksums (damaged ones are
#     marked DAMAGED), every byte of the repository, and every file of the off-disk copy
#  5. OFFSITE_MODE=cluster: mirrors the repository into the Windows folder mounted at
#     OFFSITE_FOLDER (kubeadm clusters). OFFSITE_MODE=client: the PC's scheduled task copies it.
# The outcome goes to $BACKUP_DIR/offsite.json and the container's termination message.
set -eu
set -o pipefail
# PID 1 of its container: without a handler, SIGTERM would wait out the grace period.
trap 'error="stopped by a signal (timeout or shutdown)"; exit 143' TERM INT HUP

backup_dir=${BACKUP_DIR:-/backup}
coord=${COORD_DIR:?COORD_DIR is not set}
export RESTIC_REPOSITORY=${RESTIC_REPOSITORY:-$backup_dir/repository}
export RESTIC_CACHE_DIR=${RESTIC_CACHE_DIR:-$backup_dir/.restic-cache}
: "${RESTIC_PASSWORD:?RESTIC_PASSWORD is not set (the backup recovery key)}"
mode=${OFFSITE_MODE:-client}
folder=${OFFSITE_FOLDER:-}
folder_name=${OFFSITE_FOLDER_NAME:-$folder}
wait_for=${BACKUP_WAIT_SECONDS:-7200}
scrub_days=${SCRUB_EVERY_DAYS:-7}
termination_log=${TERMINATION_LOG:-/dev/termination-log}
here=$(dirname "$0")
stage="$backup_dir/.offsite-stage"

started=$(date -u +%s)
error=''
snapshot=''
copy=''
scrub=''
log() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) offsite: $*"; }
fail() { error=$*; log "FAILED: $*"; exit 1; }
json_string() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g' | tr '\n\t' '  ')"; }

finish() {
  code=$?
  rm -rf "$stage"
  [ "$code" -eq 0 ] && result=success || result=failed
  [ "$code" -ne 0 ] && [ -z "$error" ] && error="stopped (exit $code)"
  [ -n "${skipped:-}" ] && result=skipped
  repo_kib=$(du -sk "$RESTIC_REPOSITORY" 2>/dev/null | cut -f1 || echo 0)
  # When the copy outside last succeeded, carried from night to night: the job history Kubernetes
  # keeps is three nights long, and a week with the USB disk unplugged must still say since when.
  last_copy=$(sed -n 's/.*"lastCopy":"\([^"]*\)".*/\1/p' "$backup_dir/offsite.json" 2>/dev/null || true)
  [ "$code" -eq 0 ] && [ -n "$copy" ] && last_copy=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  {
    printf '{"time":%s,"result":%s,"mode":%s,"folder":%s,"snapshot":%s,"repositoryKib":%s,"copy":{%s},"lastCopy":%s,"scrub":{%s},"error":%s}\n' \
      "$(json_string "$(date -u -d "@$started" +%Y-%m-%dT%H:%M:%SZ)")" "$(json_string "$result")" "$(json_string "$mode")" \
      "$(json_string "$folder_name")" "$(json_string "$snapshot")" "${repo_kib:-0}" "$copy" "$(json_string "$last_copy")" "$scrub" "$(json_string "$error")"
  } > "$backup_dir/.offsite.json.tmp" && mv "$backup_dir/.offsite.json.tmp" "$backup_dir/offsite.json"
  cat "$backup_dir/offsite.json" > "$termination_log" 2>/dev/null || true
  # For backup.sh, which holds the maintenance lock until the copy ends.
  touch "$coord/offsite.exit" 2>/dev/null || true
  exit "$code"
}
trap finish EXIT

# --- 1. tonight's snapshot (backup.sh writes "<exit code> <snapshot>" when it stops)
# The repository does not depend on it: on the first night it is created while backup.sh still
# makes the snapshot (restic init calibrates and derives the key: about two seconds of one core,
# out of the night's way). Only with the init lock: a second run started beside this one stops
# at backup.sh's lock, but gets here before that; a lock left by a killed run is cleared below,
# after the wait, by the run that holds backup.sh's lock.
init_lock="$backup_dir/.repository-init"
created=''
if [ ! -f "$RESTIC_REPOSITORY/config" ] && mkdir "$init_lock" 2>/dev/null; then
  log "creating the backup repository"
  # (Failing here, it is tried again below, where a failure ends the night with its reason.)
  restic init >/dev/null 2>&1 && created=yes
  rmdir "$init_lock"
fi
waited=0
until [ -f "$coord/backup.exit" ]; do
  [ "$waited" -ge "$wait_for" ] && fail "the backup did not finish within ${wait_for}s"
  sleep 1
  waited=$((waited + 1))
done
read -r backup_code snapshot < "$coord/backup.exit" || true
if [ -z "${snapshot:-}" ]; then
  skipped=yes
  error="the backup made no snapshot tonight (exit $backup_code); nothing new to copy"
  log "$error"
  exit 0
fi
snapdir="$backup_dir/snapshots/$snapshot"
[ -f "$snapdir/summary.json" ] || fail "snapshot $snapshot is not complete"

# --- 2. the repository, and the snapshot staged under a fixed path
# Every restic command first derives the repository key from the recovery key (scrypt, about
# half a second by design): on a normal night the backup itself is the first command to open it.
rm -rf "$init_lock"
if [ -z "$created" ] && [ -d "$RESTIC_REPOSITORY" ] \
  && [ -z "$(ls "$RESTIC_REPOSITORY/snapshots" "$RESTIC_REPOSITORY/index" 2>/dev/null | grep -v ':$' | grep .)" ] \
  && { [ ! -f "$RESTIC_REPOSITORY/config" ] || ! restic cat config >/dev/null 2>&1; }; then
  # Created by a run that was stopped midway (its key written, its config missing or cut short):
  # it holds nothing yet. Created again over it, it would hold two keys for one recovery key,
  # one of them to no repository.
  log "the backup repository was left half-created by a run that was stopped: creating it again"
  rm -rf "$RESTIC_REPOSITORY"
fi
if [ ! -f "$RESTIC_REPOSITORY/config" ]; then
  log "creating the backup repository"
  restic init >/dev/null || fail "could not create the backup repository in $RESTIC_REPOSITORY"
fi
# A new install whose folder holds the family's earlier backups (uninstalled with the folder
# kept, Docker Desktop reset, a new PC): before its first snapshot, the repository becomes the
# folder's, so the nights go on from the family's history. Copied in as the mirror copies out
# (each file checked against its name), beside the new one, then renamed in place of it: a stop
# midway leaves the new empty repository, and the next night starts again where this one was.
# A folder whose repository this key does not open is left alone: the copy below refuses it.
adopting="$backup_dir/.adopting"
if [ "$mode" = cluster ] && [ -n "$folder" ] && [ -z "$(ls "$RESTIC_REPOSITORY/snapshots" 2>/dev/null)" ] \
  && [ "$(sh "$here/mirror.sh" kin "$RESTIC_REPOSITORY" "$folder")" = other ] \
  && restic -r "$folder/repository" --no-lock --no-cache cat config >/dev/null 2>&1; then
  log "$folder_name holds this family's earlier backups (this install's recovery key opens them): going on from them"
  mkdir -p "$adopting"
  out=$(sh "$here/mirror.sh" copy "$folder/repository" "$adopting") \
    || { echo "$out"; fail "could not bring in the earlier backups from $folder_name: $(echo "$out" | sed -n 's/.*FAILED: //p' | tail -n 1)"; }
  rm -rf "$RESTIC_REPOSITORY.new"
  mv "$RESTIC_REPOSITORY" "$RESTIC_REPOSITORY.new" && mv "$adopting/repository" "$RESTIC_REPOSITORY" \
    || fail "could not put the earlier backups in place of the new repository"
  rm -rf "$RESTIC_REPOSITORY.new" "$adopting"
  log "the repository now holds the $(find "$RESTIC_REPOSITORY/snapshots" -type f | wc -l) snapshot(s) of the earlier backups"
else
  rm -rf "$adopting" "$RESTIC_REPOSITORY.new"
fi
key_opens() {
  restic cat config >/dev/null 2>&1 \
    || fail "the backup repository does not open with this install's recovery key (backup-key in the credentials); was the key replaced?"
}
# A run killed midway (PC shut down) leaves its lock behind, from another pod's host name, which
# restic would honour for 30 minutes. Nothing else writes here: a second backup run stops at
# backup.sh's lock and never gets this far, and restores read with --no-lock.
[ -z "$(ls "$RESTIC_REPOSITORY/locks" 2>/dev/null)" ] || restic unlock --remove-all >/dev/null 2>&1 || true
rm -rf "$stage"
cp -al "$snapdir" "$stage" || fail "could not stage snapshot $snapshot"
ca_dir=${CA_DIR:-}
if [ -n "$ca_dir" ] && [ -f "$ca_dir/ca.crt" ] && [ -f "$ca_dir/ca.key" ]; then
  (umask 077 && mkdir "$stage/home-ca" && cat "$ca_dir/ca.crt" > "$stage/home-ca/ca.crt" && cat "$ca_dir/ca.key" > "$stage/home-ca/ca.key") \
    || fail "could not stage the home CA"
fi

# --- 3. into the repository, and retention
# The snapshot's own start time, in local time, so retention counts the family's nights.
epoch=$(date -u -d "$(echo "$snapshot" | sed 's/^\(....-..-..\)T\(..\)\(..\)\(..\)Z$/\1 \2:\3:\4/')" +%s)
log "adding snapshot $snapshot to the repository"
restic backup --quiet --host homecloud --tag "$snapshot" --time "$(date -d "@$epoch" '+%Y-%m-%d %H:%M:%S')" \
  --ignore-ctime "$stage" || { key_opens; fail "restic backup of $snapshot failed"; }
# A repository that fails its retention (prune reads what it repacks) is scrubbed tonight, so
# the report says what is damaged rather than only that something failed. (restic check runs in
# the scrub: every night it would cost about as much as the backup of an unchanged tree.)
trouble=''
# --keep-last 2: a second snapshot to fall back to even after two backups on one day. So while
# the repository holds two snapshots or fewer (one file each in snapshots/), retention has
# nothing to drop, and restic forget (another key derivation, and a read of every snapshot) is
# left out: on the first two nights that is about a second.
if [ "$(find "$RESTIC_REPOSITORY/snapshots" -type f | wc -l)" -gt 2 ]; then
  restic forget --quiet --host homecloud --keep-last 2 --keep-daily "${KEEP_DAILY:-7}" --keep-weekly "${KEEP_WEEKLY:-4}" \
    --keep-monthly "${KEEP_MONTHLY:-12}" --prune >/dev/null || trouble="applying the repository's retention failed"
fi
[ -n "$trouble" ] && log "$trouble; scrubbing now"

# --- 4. scrub, when due
last_scrub=$(sed -n 's/.*"epoch":\([0-9]*\).*/\1/p' "$backup_dir/scrub.json" 2>/dev/null || true)
# Damaged files of the repository that the PC's copy is to replace (kind): checked again every
# night until they are, so status says when they are.
damaged_list="$backup_dir/repository-damaged"
if [ "${SCRUB_NOW:-false}" = true ] || [ -n "$trouble" ] || [ -f "$damaged_list" ] || [ -z "$last_scrub" ] \
  || [ $((started - last_scrub)) -ge $((scrub_days * 86400)) ]; then
  log "scrub: reading everything that is kept"
  damaged=''
  for s in $(sh "$here/good-snapshots.sh" "$backup_dir/snapshots"); do
    d="$backup_dir/snapshots/$s"
    bad=$({ (cd "$d" && sha256sum -c database.sha256 2>/dev/null) | grep -v ': OK$' || true; sh "$here/manifest.sh" check "$d/files" "$d/MANIFEST" || true; })
    if [ -n "$bad" ]; then
      echo "$bad" > "$d/DAMAGED"
      damaged="${damaged:+$damaged }$s"
    fi
  done
  repo_ok=true
  repaired=false
  restic check --read-data >/dev/null 2>&1 || repo_ok=false
  # Rot inside Docker Desktop's disk: files named by their content can come back from the copy.
  if [ "$repo_ok" = false ] && [ "$mode" = cluster ] && [ -n "$folder" ] && [ -f "$folder/repository/config" ]; then
    if sh "$here/mirror.sh" heal "$RESTIC_REPOSITORY" "$folder" && restic check --read-data >/dev/null 2>&1; then
      repo_ok=true
      repaired=true
      log "scrub: the repository was damaged and is repaired from the copy in $folder_name"
    fi
  fi
  if [ "$repo_ok" = true ]; then
    # Replaced by the PC's copy since the last scrub (kind: npm run offsite)?
    [ -f "$damaged_list" ] && repaired=true
    rm -f "$damaged_list"
  else
    sh "$here/mirror.sh" damaged "$RESTIC_REPOSITORY" > "$damaged_list.tmp" && mv "$damaged_list.tmp" "$damaged_list"
    [ "$mode" = client ] && log "scrub: $(wc -l < "$damaged_list") damaged file(s) in the repository; npm run offsite replaces them from the PC's copy"
  fi
  copy_ok=true
  if [ "$mode" = cluster ] && [ -n "$folder" ] && [ "$(sh "$here/mirror.sh" kin "$RESTIC_REPOSITORY" "$folder")" != other ] \
    && [ -f "$folder/repository/config" ]; then
    # Damaged files there are removed, so tonight's copy (step 5) replaces them. (Another
    # repository there is no damage of this one: the copy below refuses it, changing nothing.)
    REPAIR=true sh "$here/mirror.sh" verify "$folder" "$RESTIC_REPOSITORY" || copy_ok=false
  fi
  result=good
  { [ -n "$damaged" ] || [ "$repo_ok" = false ] || [ "$copy_ok" = false ]; } && result=damaged
  printf '{"epoch":%s,"time":%s,"result":%s,"damagedSnapshots":%s,"repository":%s,"offsiteCopy":%s}\n' "$started" \
    "$(json_string "$(date -u -d "@$started" +%Y-%m-%dT%H:%M:%SZ)")" "$(json_string "$result")" "$(json_string "$damaged")" \
    "$(json_string "$([ "$repaired" = true ] && echo repaired || { [ "$repo_ok" = true ] && echo good || echo damaged; })")" "$(json_string "$([ "$copy_ok" = true ] && echo good || echo damaged)")" \
    > "$backup_dir/scrub.json"
  scrub="\"result\":$(json_string "$result"),\"damagedSnapshots\":$(json_string "$damaged"),\"repaired\":$repaired,\"repository\":$(json_string "$([ "$repo_ok" = true ] && echo good || echo damaged)"),\"offsiteCopy\":$(json_string "$([ "$copy_ok" = true ] && echo good || echo damaged)")"
  log "scrub: $result${damaged:+ (snapshots marked DAMAGED: $damaged)}"
fi

# A damaged repository is not copied over the good copy outside.
[ -n "$trouble" ] && fail "$trouble${scrub:+ (scrub: see npm run status)}"

# --- 5. the copy outside Docker Desktop's disk
if [ "$mode" = cluster ]; then
  [ -n "$folder" ] || fail "OFFSITE_FOLDER is not set"
  out=$(sh "$here/mirror.sh" copy "$RESTIC_REPOSITORY" "$folder") || { echo "$out"; fail "$(echo "$out" | sed -n 's/.*FAILED: //p' | tail -n 1)"; }
  echo "$out" | sed '$d'
  set -- $(echo "$out" | tail -n 1)
  copy="\"time\":$(json_string "$(date -u +%Y-%m-%dT%H:%M:%SZ)"),\"${1%%=*}\":${1#*=},\"${2%%=*}\":${2#*=},\"${3%%=*}\":${3#*=},\"${4%%=*}\":${4#*=}"
  log "off-disk copy in $folder_name is up to date"
else
  log "the off-disk copy to $folder_name is made by the PC's scheduled task (homecloud offsite)"
fi
[ -n "$scrub" ] && case $scrub in *'"damaged"'*) fail "the scrub found damage: see npm run status" ;; esac
log "done"
