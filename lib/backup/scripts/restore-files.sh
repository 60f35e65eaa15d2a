#!/bin/sh
# Restore, step 3 of 3 (Nextcloud image, as www-data): put config/ data/ themes/
# custom_apps/ back exactly as in the snapshot (files added since are removed), then tell
# Nextcloud's clients their data changed (maintenance:data-fingerprint) so they resync.
set -eu
set -o pipefail

coord=${COORD_DIR:?COORD_DIR is not set}
webroot=${NEXTCLOUD_WEBROOT:-/var/www/html}
occ=${OCC:-php $webroot/occ}
name=$(cat "$coord/snapshot")
dir="${BACKUP_DIR:-/backup}/snapshots/$name"
log() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) restore: $*"; }

for sub in config data themes custom_apps; do
  [ -d "$dir/files/$sub" ] || continue
  log "restoring $sub/"
  mkdir -p "$webroot/$sub"
  rsync -a --delete "$dir/files/$sub/" "$webroot/$sub/"
done
$occ maintenance:mode --off >/dev/null 2>&1 || true
# Files lost from a rotten copy (LOST, MANIFEST's keys): Nextcloud forgets them by rescanning
# the folders they were in.
lost=''
if [ -f "$dir/LOST" ]; then
  lost=$(wc -l < "$dir/LOST" | tr -d ' ')
  { grep '^data/[^/]*/files/' "$dir/LOST" || true; } | sed 's#^data/##; s#/[^/]*$##' | sort -u | while IFS= read -r folder; do
    log "rescanning /$folder (files lost from the backup copy)"
    $occ files:scan --path="/$folder" >/dev/null 2>&1 || log "could not rescan /$folder: run occ files:scan --all later"
  done
fi
$occ maintenance:data-fingerprint
log "files restored from $name${lost:+, except $lost file(s) lost from the backup copy}; clients will resync"
