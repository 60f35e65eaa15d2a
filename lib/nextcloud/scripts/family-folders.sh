#!/bin/sh
# Nextcloud entrypoint hook (before-starting), run as www-data on every start.
# Makes the folders the phone pages name (HOMECLOUD_FAMILY_FOLDERS, e.g. "SMS") in every
# account that has logged in once, so a phone's auto-upload finds them waiting. An account
# that never logged in has no home folder yet; it gets them at the next start.
# Never stops Nextcloud from starting: a folder missed now is made next time.
set -u

OCC=${OCC:-php /var/www/html/occ}
[ -n "${HOMECLOUD_FAMILY_FOLDERS:-}" ] || exit 0

data=$($OCC config:system:get datadirectory 2>/dev/null) || data=''
if [ -z "$data" ]; then
  echo "homecloud: could not read Nextcloud's data folder; the family folders are made at the next start" >&2
  exit 0
fi

# Plain output lists "  - <user id>: <display name>"; user ids never hold a colon.
$OCC user:list --limit=100000 2>/dev/null | sed -n 's/^  - \([^:]*\): .*$/\1/p' | while IFS= read -r user; do
  home="$data/$user/files"
  [ -d "$home" ] || continue
  for folder in $HOMECLOUD_FAMILY_FOLDERS; do
    [ -d "$home/$folder" ] && continue
    # Made on disk, then scanned so Nextcloud (and the phone) sees it.
    if mkdir "$home/$folder" && $OCC files:scan --path="/$user/files/$folder" >/dev/null; then
      echo "homecloud: made the $folder folder for $user"
    else
      echo "homecloud: could not make the $folder folder for $user now; will try at the next start" >&2
    fi
  done
done
exit 0
