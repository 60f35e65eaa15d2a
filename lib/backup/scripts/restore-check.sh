#!/bin/sh
# Restore, step 1 of 3 (Nextcloud image): choose the snapshot and prove it is whole before
# anything is touched. RESTORE_SNAPSHOT names one; default: the newest good snapshot.
# Refuses a snapshot from a newer Nextcloud major than the configured image
# (NEXTCLOUD_IMAGE_MAJOR): Nextcloud cannot run on data from a newer version.
# Writes the chosen name to $COORD_DIR/snapshot for the next steps.
set -eu
set -o pipefail

snapshots="${BACKUP_DIR:-/backup}/snapshots"
coord=${COORD_DIR:?COORD_DIR is not set}
log() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) restore: $*"; }
refuse() { log "REFUSED: $*"; exit 1; }

name=${RESTORE_SNAPSHOT:-}
if [ -z "$name" ]; then
  name=$(sh "$(dirname "$0")/good-snapshots.sh" "$snapshots" | tail -n 1)
  [ -n "$name" ] || refuse "there is no complete snapshot in $snapshots"
fi
dir="$snapshots/$name"
[ -f "$dir/summary.json" ] || refuse "snapshot $name does not exist or is incomplete"
[ -f "$dir/DAMAGED" ] && refuse "snapshot $name is marked DAMAGED: choose another"

version=$(sed -n 's/.*"nextcloudVersion":"\([^"]*\)".*/\1/p' "$dir/summary.json")
major=${version%%.*}
if [ -n "${NEXTCLOUD_IMAGE_MAJOR:-}" ] && [ -n "$major" ] && [ "$major" -gt "$NEXTCLOUD_IMAGE_MAJOR" ]; then
  refuse "snapshot $name was made by Nextcloud $version, newer than the configured image (major $NEXTCLOUD_IMAGE_MAJOR): set images.nextcloud to a $major image first, deploy, then restore"
fi

log "verifying snapshot $name (Nextcloud ${version:-unknown})"
(cd "$dir" && sha256sum -c database.sha256 >/dev/null 2>&1) || refuse "the database dump in $name does not match its checksum"
sh "$(dirname "$0")/manifest.sh" check "$dir/files" "$dir/MANIFEST" > "$coord/damaged" || true
# A snapshot brought back from a rotten copy in part (import.sh): exactly the files its LOST
# lists may be missing, no other may differ.
if [ -f "$dir/LOST" ] && [ -s "$coord/damaged" ]; then
  sed 's/: FAILED.*$//' "$coord/damaged" | { grep -vxF -f "$dir/LOST" || true; } | sed 's/$/: FAILED/' > "$coord/damaged.other"
  mv "$coord/damaged.other" "$coord/damaged"
  log "$(wc -l < "$dir/LOST" | tr -d ' ') file(s) of $name could not be read from the backup copy and are not restored (listed in $dir/LOST)"
fi
if [ -s "$coord/damaged" ]; then
  refuse "$(wc -l < "$coord/damaged" | tr -d ' ') file(s) in $name do not match their checksums, e.g. $(head -n 1 "$coord/damaged")"
fi
echo "$name" > "$coord/snapshot"
log "snapshot $name is whole"
