#!/bin/sh
# Nextcloud entrypoint hook (before-starting), run as www-data on every start.
# The image applies NEXTCLOUD_TRUSTED_DOMAINS only at first install; this brings
# trusted_domains, the phone region and the background-job mode in line with
# homecloud's settings each time, so editing the settings and deploying is enough.
set -eu

OCC=${OCC:-php /var/www/html/occ}

i=0
for domain in ${HOMECLOUD_TRUSTED_DOMAINS:?HOMECLOUD_TRUSTED_DOMAINS is not set}; do
  $OCC config:system:set trusted_domains "$i" --value="$domain" >/dev/null
  i=$((i + 1))
done
# Remove entries left over from a longer earlier list.
while $OCC config:system:get trusted_domains "$i" >/dev/null 2>&1; do
  $OCC config:system:delete trusted_domains "$i" >/dev/null
  i=$((i + 1))
done
echo "homecloud: trusted domains: $HOMECLOUD_TRUSTED_DOMAINS"

if [ -n "${HOMECLOUD_PHONE_REGION:-}" ]; then
  $OCC config:system:set default_phone_region --value="$HOMECLOUD_PHONE_REGION" >/dev/null
fi

# Background jobs run from the cron container every 5 minutes, not on page loads.
$OCC background:cron >/dev/null
