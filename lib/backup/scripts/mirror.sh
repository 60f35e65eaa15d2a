#!/bin/sh
# Keeps an exact copy of the backup repository (restic) in a folder outside Docker Desktop's
# disk, and checks such a copy. Every file of a restic repository except `config` is immutable
# and named by the SHA-256 of its content, so mirroring is "copy what is missing, check the
# name", and no family file name ever reaches the Windows file system.
#
#   mirror.sh copy SRC FOLDER   mirror repository SRC to FOLDER/repository
#   mirror.sh verify FOLDER [REPO]  read every file of FOLDER/repository and check it against its
#                               name (and its config against REPO's, when given)
#   mirror.sh heal REPO FOLDER  replace each file of REPO that does not match its name with the
#                               copy's, when the copy's does (rot inside Docker Desktop's disk)
#   mirror.sh damaged REPO      list the files of REPO that do not match their names (for the
#                               PC's copy to replace, where the night cannot see it: kind)
#   mirror.sh kin REPO FOLDER   what FOLDER/repository is to REPO: "same", "config-damaged" (REPO's
#                               copy with a rotten config), "other" (another repository), "none"
#
# A copy stopped at any moment (PC shut down, job deadline) leaves a usable repository: new
# files land under a temporary name outside the repository and are renamed in only once
# verified, packs before the indexes that point at them before the snapshots that use them
# (and the repository's config last),
# and nothing is removed until every new file is in (removals go the other way round).
# Prints one "key=value" summary line last, for offsite.sh.
#
# Reading every new file back and hashing it is most of a first night's copy, and busybox hashes
# on one core: several files are copied and checked at once (HASH_JOBS, default the CPUs the
# container sees, at most 4, as a USB disk slows down with more writers than that).
set -eu
set -o pipefail

# Absolute, as the workers it starts may run in another folder.
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
jobs=${HASH_JOBS:-$(nproc 2>/dev/null || echo 1)}
case $jobs in '' | *[!0-9]*) jobs=1 ;; esac
[ "$jobs" -ge 1 ] || jobs=1
[ "$jobs" -le 4 ] || jobs=4

log() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) mirror: $*"; }
fail() { log "FAILED: $*"; exit 1; }

check_folder() { # FOLDER: there, a folder, writable
  [ -e "$1" ] || fail "the off-disk folder $1 is not there (USB disk unplugged? drive letter changed?); plug it in or set backup.offsite.folder"
  [ -d "$1" ] || fail "$1 is not a folder"
  rm -f "$1"/.homecloud-write-test.* 2>/dev/null || true # left by a copy that was killed
  probe="$1/.homecloud-write-test.$$"
  (: > "$probe") 2>/dev/null || fail "cannot write to $1 (read-only, or no permission)"
  rm -f "$probe"
}

size_of() { stat -c %s "$1"; }

repository_files() { # (in a repository) its files named by their content
  for part in keys data index snapshots; do
    [ -d "$part" ] || continue
    find "$part" -type f
  done
}

# SRC COPY: 0 when COPY is SRC's copy; 1 when it is, but its config rotted; 2 another repository.
# The same repository has the same config, byte for byte (it never changes); where only the
# configs differ, a key file in common (key files hold a random salt: two repositories never
# share one) says the copy's config is what rotted.
kinship() {
  cmp -s "$1/config" "$2/config" && return 0
  for k in $(ls "$2/keys" 2>/dev/null); do
    [ -f "$1/keys/$k" ] && return 1
  done
  return 2
}

# The refusal both copy and verify give for a folder holding another repository.
another_repository() { # FOLDER
  fail "$1/repository holds a different backup repository (another install's?). Nothing was changed. If it is the family's earlier backups, npm run restore -- --from \"$1\" brings them back; otherwise move it away or choose another folder (backup.offsite.folder)"
}

damaged_files() { # REPO: its files that do not match their names (or cannot be read), in no set order
  (cd "$1" && repository_files | xargs -r -n 8 -P "$jobs" sh "$self" mismatching)
}

case ${1:-} in
copy)
  src=${2:?usage: mirror.sh copy SRC FOLDER}
  folder=${3:?usage: mirror.sh copy SRC FOLDER}
  [ -f "$src/config" ] || fail "there is no repository at $src yet"
  check_folder "$folder"
  dest="$folder/repository"
  partial="$folder/.partial"
  rm -rf "$partial"
  mkdir -p "$dest" "$partial"
  # Whatever stops this copy, the half-copied file does not keep the space (a full disk).
  trap 'rm -rf "$partial"' EXIT
  # Before anything in the folder changes: is it this repository? (A new install's repository
  # copied over the family's earlier one would erase its history.)
  if [ -f "$dest/config" ]; then
    kin=0
    kinship "$src" "$dest" || kin=$?
    [ "$kin" -ne 2 ] || another_repository "$folder"
    if [ "$kin" -eq 1 ]; then
      log "the copy's config file does not match the repository's (damaged): copying it again"
      rm -f "$dest/config"
    fi
  fi
  copied=0
  bytes=0
  # What later files point at first; config last, since restic opens no folder without it: a
  # first copy stopped midway reads as "no copy yet", never as a damaged one.
  for part in keys data index snapshots config; do
    [ -e "$src/$part" ] || continue
    # (Lists in variables, not files: the folder may be full.)
    todo=$(find "$src/$part" -type f | sort | while IFS= read -r f; do
      rel=${f#"$src"/}
      [ -f "$dest/$rel" ] && [ "$(size_of "$dest/$rel")" = "$(size_of "$f")" ] && continue
      echo "$rel"
    done)
    [ -n "$todo" ] || continue
    # Packs side by side; every kind is complete before the next begins (see above).
    n=1
    [ "$part" = data ] && n=$jobs
    if ! results=$(echo "$todo" | xargs -r -n 1 -P "$n" sh "$self" copy-one "$src" "$dest" "$partial"); then
      echo "$results" | grep -v -e '^copied ' -e 'FAILED: ' || true
      fail "$(echo "$results" | sed -n 's/.*FAILED: //p' | head -n 1)"
    fi
    echo "$results" | grep -v '^copied ' || true
    set -- $(echo "$results" | awk '$1 == "copied" { n++; b += $2 } END { print n + 0, b + 0 }')
    copied=$((copied + $1))
    bytes=$((bytes + $2))
  done
  # What the repository no longer has (after its retention), newest kinds first.
  removed=0
  for part in snapshots index data keys; do
    [ -d "$dest/$part" ] || continue
    gone=$(find "$dest/$part" -type f | while IFS= read -r f; do [ -e "$src/${f#"$dest"/}" ] || echo "$f"; done)
    [ -n "$gone" ] || continue
    while IFS= read -r f; do
      rm -f "$f"
      removed=$((removed + 1))
    done <<EOF
$gone
EOF
  done
  rm -rf "$partial"
  sync
  total=$(du -sk "$dest" | cut -f1)
  log "copied $copied file(s), $bytes bytes; removed $removed; the copy in $folder is $((total / 1024)) MiB"
  echo "copied=$copied bytes=$bytes removed=$removed kib=$total"
  ;;
verify)
  folder=${2:?usage: mirror.sh verify FOLDER [REPO]}
  repo=${3:-}
  dest="$folder/repository"
  [ -f "$dest/config" ] || fail "there is no backup copy in $folder"
  bad=0
  n=$(cd "$dest" && repository_files | wc -l)
  # The one file not named by its content: it must equal the repository's own, byte for byte;
  # unless the folder holds another repository altogether, which is no damage and not touched.
  if [ -n "$repo" ] && [ -f "$repo/config" ]; then
    n=$((n + 1))
    kin=0
    kinship "$repo" "$dest" || kin=$?
    [ "$kin" -ne 2 ] || another_repository "$folder"
    if [ "$kin" -eq 1 ]; then
      bad=$((bad + 1))
      if [ "${REPAIR:-false}" = true ]; then rm -f "$dest/config"; log "DAMAGED: config (removed; the next copy replaces it)"; else log "DAMAGED: config"; fi
    fi
  fi
  for f in $(damaged_files "$dest"); do
    bad=$((bad + 1))
    # REPAIR=true: the next copy brings the file back from the in-cluster repository.
    if [ "${REPAIR:-false}" = true ]; then rm -f "$dest/$f"; log "DAMAGED: $f (removed; the next copy replaces it)"; else log "DAMAGED: $f"; fi
  done
  log "verified $n file(s) in $folder: $bad damaged"
  echo "verified=$n damaged=$bad"
  [ "$bad" -eq 0 ]
  ;;
heal)
  repo=${2:?usage: mirror.sh heal REPO FOLDER}
  folder=${3:?usage: mirror.sh heal REPO FOLDER}
  src="$folder/repository"
  [ -f "$src/config" ] || fail "there is no backup copy in $folder to repair from"
  cmp -s "$repo/config" "$src/config" || fail "the copy in $folder belongs to another repository; nothing was repaired"
  healed=0
  left=0
  for f in $(damaged_files "$repo"); do
    if [ -f "$src/$f" ] && [ "$(sha256sum < "$src/$f" | cut -c1-64)" = "${f##*/}" ]; then
      # Beside it first, then renamed over it: a stop midway leaves the damaged file, not none.
      cp "$src/$f" "$repo/$f.healing" && mv -f "$repo/$f.healing" "$repo/$f" || fail "could not replace $f"
      healed=$((healed + 1))
      log "repaired $f from the copy in $folder"
    else
      left=$((left + 1))
      log "DAMAGED: $f (the copy has no good version of it)"
    fi
  done
  log "repaired $healed file(s) of the repository; $left left damaged"
  echo "healed=$healed left=$left"
  [ "$left" -eq 0 ]
  ;;
damaged)
  damaged_files "${2:?usage: mirror.sh damaged REPO}"
  ;;
kin)
  repo=${2:?usage: mirror.sh kin REPO FOLDER}
  folder=${3:?usage: mirror.sh kin REPO FOLDER}
  if [ ! -f "$folder/repository/config" ]; then echo none; exit 0; fi
  kin=0
  kinship "$repo" "$folder/repository" || kin=$?
  case $kin in 0) echo same ;; 1) echo config-damaged ;; *) echo other ;; esac
  ;;
# The workers the modes above start, several at once (xargs -P); not for use by hand.
copy-one) # SRC DEST PARTIAL REL: prints "copied BYTES"; on failure "FAILED: …", and the others stop
  src=$2
  dest=$3
  partial=$4
  rel=$5
  [ -e "$partial/.stop" ] && exit 0
  trap '[ $? -eq 0 ] || : > "$partial/.stop"' EXIT
  target="$dest/$rel"
  tmp="$partial/${rel##*/}"
  err=$(cp "$src/$rel" "$tmp" 2>&1) || fail "copying $rel: ${err##*: } (folder full?)"
  if [ "$rel" = config ]; then
    cmp -s "$src/config" "$tmp" || fail "config did not arrive intact"
  elif [ "$(sha256sum < "$tmp" | cut -c1-64)" != "${rel##*/}" ]; then
    # A file a killed restic left half-written is not part of the repository (nothing
    # refers to it; restic's prune removes it): it is not copied.
    if [ "$(sha256sum < "$src/$rel" | cut -c1-64)" != "${rel##*/}" ]; then
      log "skipping $rel: half-written by a run that was stopped, not part of any snapshot"
      rm -f "$tmp"
      exit 0
    fi
    fail "$rel did not arrive intact (read back differs); the disk may be failing"
  fi
  mkdir -p "${target%/*}"
  mv "$tmp" "$target"
  echo "copied $(size_of "$target")"
  ;;
mismatching) # FILE...: those whose SHA-256 is not their name
  shift
  for f in "$@"; do
    [ "$(sha256sum 2>/dev/null < "$f" | cut -c1-64)" = "${f##*/}" ] || echo "$f"
  done
  ;;
*)
  echo "usage: mirror.sh copy SRC FOLDER | verify FOLDER [REPO] | heal REPO FOLDER | damaged REPO | kin REPO FOLDER" >&2
  exit 2
  ;;
esac
