#!/bin/sh
# Brings a snapshot back from a backup repository (the copy outside Docker Desktop) into this
# install's backup volume, for restore-check/-database/-files to restore (restic image).
#
#   import.sh REPOSITORY [SNAPSHOT]
#
# REPOSITORY: the copy (mounted from the PC's folder, or uploaded by the client). SNAPSHOT: a
# snapshot name (2026-11-26T013000Z); default: the newest one that restores completely: a
# snapshot whose data is damaged is skipped for the next older one, and says so.
# RESTIC_PASSWORD: the key to open it (this install's), or RECOVERY_KEY_FILE (the one kept).
# INSTALL_KEY (optional): this install's own key, added to the repository when it differs, so
# the nightly job can go on using the same repository.
# When this install has no repository of its own yet, the copy becomes it (the nightly copy
# then continues where the old PC stopped). The home CA saved with the snapshot (offsite.sh) is
# put aside in .imported-ca, out of the plain snapshot folder, for the client to take; "ca=yes"
# says so. Prints "snapshot=<name>" last.
set -eu
set -o pipefail

repo=${1:?usage: import.sh REPOSITORY [SNAPSHOT]}
# The recovery key the family kept, when this install's own key does not open the copy (a new
# PC, a lost credentials file). A file, so the key never shows on a command line.
if [ -n "${RECOVERY_KEY_FILE:-}" ]; then
  RESTIC_PASSWORD=$(cat "$RECOVERY_KEY_FILE")
  export RESTIC_PASSWORD
fi
wanted=${2:-}
backup_dir=${BACKUP_DIR:-/backup}
export RESTIC_CACHE_DIR=${RESTIC_CACHE_DIR:-$backup_dir/.restic-cache}
own="$backup_dir/repository"
snapshots="$backup_dir/snapshots"
work="$backup_dir/.import"
log() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) import: $*"; }
fail() { log "FAILED: $*"; exit 1; }
trap 'rm -rf "$work"' EXIT

[ -f "$repo/config" ] || fail "there is no homecloud backup copy in $repo (it should hold a folder \"repository\" with a file \"config\")"
# --no-lock wherever the copy is only read: it may be mounted read-only.
if ! opened=$(restic -r "$repo" --no-lock cat config 2>&1 >/dev/null); then
  case $opened in
    *"wrong password"* | *"no key found"*)
      fail "the backup copy does not open with this key: give the recovery key shown when homecloud was installed (npm run admin-password on the old PC)" ;;
    *) fail "the backup copy in $repo cannot be read: $(echo "$opened" | tail -n 1)" ;;
  esac
fi

# Newest first: offsite.sh tags each restic snapshot with the homecloud snapshot's name (a UTC
# time stamp, so names sort by time). Read from the table, whose columns every restic has.
list=$(restic -r "$repo" snapshots --host homecloud --compact --no-lock 2>/dev/null \
  | grep -o '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z' | sort -ru)
[ -n "$list" ] || fail "the backup copy in $repo holds no snapshot yet"
if [ -n "$wanted" ]; then
  list=$(echo "$list" | grep -x "$wanted" || true)
  [ -n "$list" ] || fail "snapshot $wanted is not in the backup copy"
fi

mkdir -p "$snapshots"
chosen=''
skipped=''
echo "$list" | while read -r name; do
  rm -rf "$work"
  mkdir -p "$work"
  log "restoring snapshot $name from the copy"
  if restic -r "$repo" restore latest --host homecloud --tag "$name" --target "$work" --no-lock >/dev/null 2> "$work.err" \
    && staged=$(find "$work" -type d -name .offsite-stage | head -n 1) && [ -n "$staged" ] \
    && [ -f "$staged/summary.json" ] && (cd "$staged" && sha256sum -c database.sha256 >/dev/null 2>&1) \
    && sh "$(dirname "$0")/manifest.sh" check "$staged/files" "$staged/MANIFEST" >/dev/null; then
    # A snapshot of that name already here is moved out of sight before it is removed (as
    # retention does), so a stop in between never leaves it half-deleted under its own name.
    if [ -e "$snapshots/$name" ]; then mv "$snapshots/$name" "$snapshots/.removing-$name" && rm -rf "$snapshots/.removing-$name"; fi
    rm -rf "$backup_dir/.imported-ca"
    if [ -d "$staged/home-ca" ]; then chmod 700 "$staged/home-ca" && mv "$staged/home-ca" "$backup_dir/.imported-ca"; fi
    mv "$staged" "$snapshots/$name"
    echo "$name" > "$work.chosen"
    break
  fi
  log "snapshot $name in the copy is damaged ($(tail -n 1 "$work.err" 2>/dev/null | cut -c1-200)); trying the next older one"
done
rm -f "$work.err"
[ -f "$work.chosen" ] || fail "no snapshot in the copy restores completely"
chosen=$(cat "$work.chosen")
rm -f "$work.chosen"

# This install's own repository: the copy becomes it when there is none yet, or only an empty
# one (no snapshot, no index): the new install's first nightly job creates its repository early
# (offsite.sh), and may have run before this restore. One that holds anything is left as it is.
own_empty() { [ -z "$(ls "$own/snapshots" "$own/index" 2>/dev/null | grep -v ':$' | grep .)" ]; }
if [ "$repo" != "$own" ] && { [ ! -e "$own" ] || own_empty; }; then
  log "adopting the copy as this install's backup repository"
  rm -rf "$own.partial"
  cp -a "$repo" "$own.partial" && rm -rf "$own.partial/locks" && rm -rf "$own" && mv "$own.partial" "$own" \
    || fail "could not copy the repository into the backup volume (full?)"
fi
if [ -n "${INSTALL_KEY:-}" ] && [ -f "$own/config" ] && ! RESTIC_PASSWORD="$INSTALL_KEY" restic -r "$own" cat config >/dev/null 2>&1; then
  printf '%s\n' "$INSTALL_KEY" > "$backup_dir/.install-key"
  restic -r "$own" key add --new-password-file "$backup_dir/.install-key" >/dev/null 2>&1 || { rm -f "$backup_dir/.install-key"; fail "could not add this install's key to the repository"; }
  rm -f "$backup_dir/.install-key"
  log "this install's key now opens the repository too (the old recovery key still does)"
fi
log "snapshot $chosen is ready to restore"
if [ -f "$backup_dir/.imported-ca/ca.key" ]; then echo "ca=yes"; fi
echo "snapshot=$chosen"
