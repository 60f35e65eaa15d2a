#!/bin/sh
# Brings a snapshot back from a backup repository (the copy outside Docker Desktop) into this
# install's backup volume, for restore-check/-database/-files to restore (restic image).
#
#   import.sh REPOSITORY [SNAPSHOT]
#
# REPOSITORY: the copy (mounted from the PC's folder, or uploaded by the client). SNAPSHOT: a
# snapshot name (2026-11-26T013000Z); default: the newest one that restores completely.
# RESTIC_PASSWORD: the key to open it (this install's), or RECOVERY_KEY_FILE (the one kept).
# INSTALL_KEY (optional): this install's own key, added to the repository when it differs, so
# the nightly job can go on using the same repository.
#
# A copy is read to its last readable byte: every file of a restic repository but `config` is
# named by the SHA-256 of its content, so a rotten key, index or snapshot file is found before
# restic meets it. A damaged key file is passed over for the others; a damaged index is rebuilt
# from the data packs; a damaged snapshot file is left out; a snapshot whose data is damaged is
# skipped for the next older one. Repairs happen on a private working copy in the backup volume:
# the folder itself is never written.
#
# The copy then becomes this install's repository (the nightly copy continues the family's
# history, under the family's recovery key), unless the install's own already is that same
# repository. The install's own is kept aside as repository.before-restore (a fresh install's
# first nights, or the history of the install being replaced). The home CA saved with the
# snapshot (offsite.sh) is put aside in .imported-ca for the client; "ca=yes" says so. Prints
# "snapshot=<name>" last.
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
private="$backup_dir/.incoming"
log() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) import: $*"; }
fail() { log "FAILED: $*"; exit 1; }
trap 'rm -rf "$work"' EXIT
# The copy is only read (--no-lock: it may be mounted read-only), and never through restic's
# cache, which could hold sound versions of files that are rotten in the copy.
copy() { restic -r "$repo" --no-lock --no-cache "$@"; }
# The files of one part of the copy (keys, index, snapshots) that do not match their names.
damaged_in() {
  [ -d "$repo/$1" ] || return 0
  for f in "$repo/$1"/*; do
    [ -f "$f" ] && [ "$(sha256sum < "$f" | cut -c1-64)" != "${f##*/}" ] && echo "${f##*/}"
  done
  return 0
}
short() { echo "$1" | cut -c1-10 | tr '\n' ' ' | sed 's/ $//'; }
count() { echo "$1" | grep -c . || true; }

[ -f "$repo/config" ] || fail "there is no homecloud backup copy in $repo (it should hold a folder \"repository\" with a file \"config\")"
bad_keys=$(damaged_in keys)
bad_index=$(damaged_in index)
bad_snapshots=$(damaged_in snapshots)

# --- the key: restic stops at the first key file it cannot read, so with a damaged one each
# sound key file is tried by name (the recovery key has a key file of its own).
opened() {
  case $1 in
    *"wrong password"* | *"no key found"* | *"LoadRaw(<key/"*)
      fail "the backup copy does not open with this key${bad_keys:+ (its key file $(short "$bad_keys") is damaged)}: give the recovery key shown when homecloud was installed (npm run admin-password on the old PC)" ;;
    *"config or key"*"damaged"*)
      fail "the copy's config file is damaged, and it cannot be opened without it; restore from the backups inside Docker Desktop (npm run restore) if they are still there" ;;
    *) fail "the backup copy in $repo cannot be read: $(echo "$1" | tail -n 1)" ;;
  esac
}
if [ -z "$bad_keys" ]; then
  out=$(copy cat config 2>&1 >/dev/null) || opened "$out"
else
  log "key file $(short "$bad_keys") of the copy is damaged: trying the other key files"
  for k in $(ls "$repo/keys"); do
    echo "$bad_keys" | grep -qx "$k" && continue
    if RESTIC_KEY_HINT=$k copy cat config >/dev/null 2>&1; then export RESTIC_KEY_HINT=$k; break; fi
  done
  [ -n "${RESTIC_KEY_HINT:-}" ] || opened "wrong password"
fi

# --- a damaged index: rebuilt from the data packs, on the private working copy.
if [ -n "$bad_index" ]; then
  log "$(count "$bad_index") index file(s) of the copy are damaged: rebuilding the index from the data, on a working copy"
  if [ "$repo" != "$private" ]; then
    rm -rf "$private"
    cp -a "$repo" "$private" || fail "could not make a working copy in the backup volume (full?)"
    repo=$private
  fi
  (cd "$repo/index" && rm -f $bad_index)
  # (restic before 0.16 names it rebuild-index.)
  out=$(restic -r "$repo" --no-cache repair index 2>&1 || restic -r "$repo" --no-cache rebuild-index 2>&1) \
    || fail "rebuilding the copy's index failed: $(echo "$out" | tail -n 1)"
fi

# --- its snapshots, newest first (offsite.sh tags each with the homecloud snapshot's name, a
# UTC time stamp), read from the table, whose columns every restic has: "<name> <id>".
[ -z "$bad_snapshots" ] || log "snapshot file(s) $(short "$bad_snapshots") of the copy are damaged: left out"
list=$(copy snapshots --host homecloud --compact 2>/dev/null \
  | sed -n 's/^\([0-9a-f]\{8\}\) .* \([0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T[0-9]\{6\}Z\).*/\2 \1/p' | sort -ru) || true
[ -n "$list" ] || fail "the backup copy in $repo holds no readable snapshot"
if [ -n "$wanted" ]; then
  list=$(echo "$list" | grep "^$wanted " || true)
  [ -n "$list" ] || fail "snapshot $wanted is not in the backup copy (or its file there is damaged)"
fi

# The restored snapshot into the snapshot folder, its home CA aside for the client.
take_in() { # STAGED NAME
  # A snapshot of that name already here is moved out of sight before it is removed (as
  # retention does), so a stop in between never leaves it half-deleted under its own name.
  if [ -e "$snapshots/$2" ]; then mv "$snapshots/$2" "$snapshots/.removing-$2" && rm -rf "$snapshots/.removing-$2"; fi
  rm -rf "$backup_dir/.imported-ca"
  if [ -d "$1/home-ca" ]; then chmod 700 "$1/home-ca" && mv "$1/home-ca" "$backup_dir/.imported-ca"; fi
  mv "$1" "$snapshots/$2"
  echo "$2" > "$work.chosen"
}

mkdir -p "$snapshots"
echo "$list" | while read -r name id; do
  rm -rf "$work"
  mkdir -p "$work"
  log "restoring snapshot $name from the copy"
  if copy restore "$id" --target "$work" >/dev/null 2> "$work.err" \
    && staged=$(find "$work" -type d -name .offsite-stage | head -n 1) && [ -n "$staged" ] \
    && [ -f "$staged/summary.json" ] && (cd "$staged" && sha256sum -c database.sha256 >/dev/null 2>&1) \
    && sh "$(dirname "$0")/manifest.sh" check "$staged/files" "$staged/MANIFEST" >/dev/null; then
    take_in "$staged" "$name"
    break
  fi
  log "snapshot $name in the copy is damaged ($(tail -n 1 "$work.err" 2>/dev/null | cut -c1-200)); trying the next older one"
done
rm -f "$work.err"

# --- none restores completely (a rotten pack that every snapshot shares, as an unchanged photo's
# does): the newest whose database dump is whole is restored as far as its data allows. What could
# not be read is listed in LOST (MANIFEST's keys) and removed: a half-read file must never reach the
# family's folders. restore-check.sh accepts exactly those missing; restore-files.sh says so.
if [ ! -f "$work.chosen" ]; then
  echo "$list" | while read -r name id; do
    rm -rf "$work"
    mkdir -p "$work"
    copy restore "$id" --target "$work" >/dev/null 2>&1 || true
    staged=$(find "$work" -type d -name .offsite-stage | head -n 1)
    [ -n "$staged" ] && [ -f "$staged/summary.json" ] && (cd "$staged" && sha256sum -c database.sha256 >/dev/null 2>&1) || continue
    { sh "$(dirname "$0")/manifest.sh" check "$staged/files" "$staged/MANIFEST" || true; } | sed 's/: FAILED.*$//' > "$work.lost"
    while IFS= read -r key; do
      case $key in *\\*) p=$(printf '%b/' "$key") && p=${p%/} ;; *) p=$key ;; esac
      rm -f "$staged/files/$p"
    done < "$work.lost"
    mv "$work.lost" "$staged/LOST"
    log "snapshot $name restores only in part: $(wc -l < "$staged/LOST" | tr -d ' ') file(s) could not be read from the copy (listed in its LOST file)"
    take_in "$staged" "$name"
    break
  done
fi
[ -f "$work.chosen" ] || fail "no snapshot in the copy has a readable database dump"
chosen=$(cat "$work.chosen")
rm -f "$work.chosen"

# --- the copy becomes this install's repository, unless it already is (the same config, byte
# for byte: a repository's config never changes). What the install had is kept aside, once.
if [ "$repo" != "$own" ] && ! { [ -f "$own/config" ] && cmp -s "$repo/config" "$own/config"; }; then
  log "adopting the copy as this install's backup repository"
  rm -rf "$own.partial"
  # The private working copy (an upload, or a repaired copy) is moved; the folder itself is copied.
  if [ "$repo" = "$private" ]; then mv "$repo" "$own.partial"; else cp -a "$repo" "$own.partial"; fi \
    && rm -rf "$own.partial/locks" || fail "could not copy the repository into the backup volume (full?)"
  # Key files that are damaged can open nothing, and would stop restic on every later night.
  for k in $bad_keys; do rm -f "$own.partial/keys/$k"; done
  if [ -n "$(ls "$own/snapshots" 2>/dev/null)" ]; then
    rm -rf "$own.before-restore"
    mv "$own" "$own.before-restore"
    log "this install's own backup repository ($(ls "$own.before-restore/snapshots" | wc -l) snapshot(s)) is kept aside as repository.before-restore"
  fi
  rm -rf "$own" && mv "$own.partial" "$own" || fail "could not put the copy in place of this install's repository"
fi
if [ -n "${INSTALL_KEY:-}" ] && [ -f "$own/config" ] && ! RESTIC_PASSWORD="$INSTALL_KEY" restic -r "$own" cat config >/dev/null 2>&1; then
  printf '%s\n' "$INSTALL_KEY" > "$backup_dir/.install-key"
  restic -r "$own" key add --new-password-file "$backup_dir/.install-key" >/dev/null 2>&1 || { rm -f "$backup_dir/.install-key"; fail "could not add this install's key to the repository"; }
  rm -f "$backup_dir/.install-key"
  log "this install's key now opens the repository too (the old recovery key still does)"
fi
log "snapshot $chosen is ready to restore"
if [ -f "$backup_dir/.imported-ca/ca.key" ]; then echo "ca=yes"; fi
if [ -f "$snapshots/$chosen/LOST" ]; then sed 's/^/lost=/' "$snapshots/$chosen/LOST"; fi
echo "snapshot=$chosen"
