#!/bin/sh
# Keeps an exact copy of the backup repository (restic) in a folder outside Docker Desktop's
# disk, and checks such a copy. Every file of a restic repository except `config` is immutable
# and named by the SHA-256 of its content, so mirroring is "copy what is missing, check the
# name", and no family file name ever reaches the Windows file system.
#
#   mirror.sh copy SRC FOLDER   mirror repository SRC to FOLDER/repository
#   mirror.sh verify FOLDER     read every file of FOLDER/repository and check it against its name
#   mirror.sh heal REPO FOLDER  replace each file of REPO that does not match its name with the
#                               copy's, when the copy's does (rot inside Docker Desktop's disk)
#   mirror.sh damaged REPO      list the files of REPO that do not match their names (for the
#                               PC's copy to replace, where the night cannot see it: kind)
#
# A copy stopped at any moment (PC shut down, job deadline) leaves a usable repository: new
# files land under a temporary name outside the repository and are renamed in only once
# verified, packs before the indexes that point at them before the snapshots that use them
# (and the repository's config last),
# and nothing is removed until every new file is in (removals go the other way round).
# Prints one "key=value" summary line last, for offsite.sh.
set -eu
set -o pipefail

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

damaged_files() { # REPO: its files (below keys data index snapshots) that do not match their names
  for part in keys data index snapshots; do
    [ -d "$1/$part" ] || continue
    for f in $(cd "$1" && find "$part" -type f); do
      [ "$(sha256sum < "$1/$f" | cut -c1-64)" = "${f##*/}" ] || echo "$f"
    done
  done
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
  if [ -f "$dest/config" ] && ! cmp -s "$src/config" "$dest/config"; then
    fail "$dest holds a different backup repository (another install's?); move it away or choose another folder: nothing was changed"
  fi
  copied=0
  bytes=0
  # What later files point at first; config last, since restic opens no folder without it: a
  # first copy stopped midway reads as "no copy yet", never as a damaged one.
  for part in keys data index snapshots config; do
    [ -e "$src/$part" ] || continue
    (cd "$src" && find "$part" -type f) | sort > "$partial/.list"
    while IFS= read -r rel; do
      target="$dest/$rel"
      [ -f "$target" ] && [ "$(size_of "$target")" = "$(size_of "$src/$rel")" ] && continue
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
          continue
        fi
        fail "$rel did not arrive intact (read back differs); the disk may be failing"
      fi
      mkdir -p "${target%/*}"
      mv "$tmp" "$target"
      copied=$((copied + 1))
      bytes=$((bytes + $(size_of "$target")))
    done < "$partial/.list"
  done
  # What the repository no longer has (after its retention), newest kinds first.
  removed=0
  for part in snapshots index data keys; do
    [ -d "$dest/$part" ] || continue
    (cd "$dest" && find "$part" -type f) > "$partial/.list"
    while IFS= read -r rel; do
      [ -e "$src/$rel" ] && continue
      rm -f "$dest/$rel"
      removed=$((removed + 1))
    done < "$partial/.list"
  done
  rm -rf "$partial"
  sync
  total=$(du -sk "$dest" | cut -f1)
  log "copied $copied file(s), $bytes bytes; removed $removed; the copy in $folder is $((total / 1024)) MiB"
  echo "copied=$copied bytes=$bytes removed=$removed kib=$total"
  ;;
verify)
  folder=${2:?usage: mirror.sh verify FOLDER}
  dest="$folder/repository"
  [ -f "$dest/config" ] || fail "there is no backup copy in $folder"
  bad=0
  n=0
  for part in keys data index snapshots; do
    [ -d "$dest/$part" ] || continue
    for f in $(cd "$dest" && find "$part" -type f); do
      n=$((n + 1))
      [ "$(sha256sum < "$dest/$f" | cut -c1-64)" = "${f##*/}" ] && continue
      bad=$((bad + 1))
      # REPAIR=true: the next copy brings the file back from the in-cluster repository.
      if [ "${REPAIR:-false}" = true ]; then rm -f "$dest/$f"; log "DAMAGED: $f (removed; the next copy replaces it)"; else log "DAMAGED: $f"; fi
    done
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
*)
  echo "usage: mirror.sh copy SRC FOLDER | verify FOLDER | heal REPO FOLDER | damaged REPO" >&2
  exit 2
  ;;
esac
