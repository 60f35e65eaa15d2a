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
$occ maintenance:data-fingerprint
log "files restored from $name; clients will resync"
