#!/bin/sh
# Nextcloud entrypoint hook (post-installation and before-starting), run as www-data.
# Installs the App Store apps named in HOMECLOUD_APPS that are not there yet. It runs
# again on every start, so apps missed while the PC was offline arrive later. A failure
# is logged and never stops Nextcloud from starting; an app the family disabled is left alone.
set -u

OCC=${OCC:-php /var/www/html/occ}

# Both enabled and disabled apps appear in this JSON as "name":"version".
listed=$($OCC app:list --output=json 2>/dev/null) || listed=''

for app in ${HOMECLOUD_APPS:-}; do
  case "$listed" in
    *"\"$app\":"*) continue ;;
  esac
  # The App Store can be slow; never hold the start-up for more than two minutes per app.
  if timeout 120 $OCC app:install "$app"; then
    echo "homecloud: installed the $app app"
  else
    echo "homecloud: could not install the $app app now (is the PC offline?); will try again at the next start" >&2
  fi
done
exit 0
