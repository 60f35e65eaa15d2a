#!/bin/sh
# Nextcloud entrypoint hook (before-starting), run as www-data on every start.
# The image applies NEXTCLOUD_TRUSTED_DOMAINS only at first install; this brings
# trusted_domains, the phone region and the background-job mode in line with
# homecloud's settings each time, so editing the settings and deploying is enough.
set -eu

OCC=${OCC:-php /var/www/html/occ}

# set_list KEY VALUE...: a list in config.php, exactly these values.
# shellcheck source=occ-lib.sh
. "${HOMECLOUD_OCC_LIB:-/docker-entrypoint-hooks.d/occ-lib.sh}"

# shellcheck disable=SC2086 # one domain per word
set_list trusted_domains ${HOMECLOUD_TRUSTED_DOMAINS:?HOMECLOUD_TRUSTED_DOMAINS is not set}
echo "homecloud: trusted domains: $HOMECLOUD_TRUSTED_DOMAINS"

if [ -n "${HOMECLOUD_PHONE_REGION:-}" ]; then
  $OCC config:system:set default_phone_region --value="$HOMECLOUD_PHONE_REGION" >/dev/null
fi

# Background jobs run from the cron container every 5 minutes, not on page loads.
$OCC background:cron >/dev/null

# The address the family uses: links in mails and shares, and the first URL Nextcloud's
# setup checks request (the pod resolves its names to itself, where nginx listens).
if [ -n "${HOMECLOUD_CLI_URL:-}" ]; then
  $OCC config:system:set overwrite.cli.url --value="$HOMECLOUD_CLI_URL" >/dev/null
fi

# How many previews are made at once: php-fpm's pool is sized for one request at PHP's
# memory_limit at a time, and a new preview of a big photo is that request (php-sizing.ts).
if [ -n "${HOMECLOUD_PREVIEWS_NEW_AT_ONCE:-}" ]; then
  $OCC config:system:set preview_concurrency_new --type=integer --value="$HOMECLOUD_PREVIEWS_NEW_AT_ONCE" >/dev/null
fi
if [ -n "${HOMECLOUD_PREVIEWS_AT_ONCE:-}" ]; then
  $OCC config:system:set preview_concurrency_all --type=integer --value="$HOMECLOUD_PREVIEWS_AT_ONCE" >/dev/null
fi

# Served over HTTPS by nginx in the same pod: links and redirects Nextcloud builds say https.
$OCC config:system:set overwriteprotocol --value=https >/dev/null

# Nextcloud's own requests to its address (setup checks, federation with itself) verify TLS
# against its bundle plus imported certificates: add the home CA, replaced when it changes.
if [ -n "${HOMECLOUD_CA_FILE:-}" ] && [ -r "$HOMECLOUD_CA_FILE" ]; then
  $OCC security:certificates:import "$HOMECLOUD_CA_FILE" >/dev/null
  echo "homecloud: Nextcloud trusts the home CA for its own requests"
fi

# Heavy background jobs run in a four-hour window that Nextcloud counts in UTC hours; the
# setting is a local hour, converted here on every start (PHP knows the zone rules, and
# a restart after a daylight-saving change picks up the new offset).
if [ -n "${HOMECLOUD_MAINTENANCE_WINDOW_START:-}" ]; then
  utc=$(php -r '$d = new DateTime(sprintf("today %02d:00", $argv[1]), new DateTimeZone(getenv("TZ") ?: "UTC"));
    echo (int) $d->setTimezone(new DateTimeZone("UTC"))->format("G");' "$HOMECLOUD_MAINTENANCE_WINDOW_START")
  $OCC config:system:set maintenance_window_start --type=integer --value="$utc" >/dev/null
  echo "homecloud: maintenance window from $HOMECLOUD_MAINTENANCE_WINDOW_START:00 local time ($utc:00 UTC)"
fi

# Photo previews (lib/photos/preview-settings.ts): which files get them (Nextcloud's defaults and
# HEIC, iPhones' format), the largest one's size and their JPEG quality (measured with
# `npm run bench -- previews`), and which sizes the nightly job makes ahead of time: the square
# thumbnails of the Files and Photos grids and the viewer's picture (the previewgenerator
# README's minimal set; 4096 means "the largest", capped at preview_max_x).
if [ -n "${HOMECLOUD_PREVIEW_PROVIDERS:-}" ]; then
  # shellcheck disable=SC2086 # one class name per word
  set_list enabledPreviewProviders $HOMECLOUD_PREVIEW_PROVIDERS
  $OCC config:system:set preview_max_x --type=integer --value="$HOMECLOUD_PREVIEW_MAX" >/dev/null
  $OCC config:system:set preview_max_y --type=integer --value="$HOMECLOUD_PREVIEW_MAX" >/dev/null
  $OCC config:app:set preview jpeg_quality --value="$HOMECLOUD_PREVIEW_QUALITY" >/dev/null
  $OCC config:app:set previewgenerator squareSizes --value="64 256" >/dev/null
  $OCC config:app:set previewgenerator fillWidthHeightSizes --value="256 4096" >/dev/null
  $OCC config:app:set previewgenerator widthSizes --value="" >/dev/null
  $OCC config:app:set previewgenerator heightSizes --value="" >/dev/null
  echo "homecloud: previews up to ${HOMECLOUD_PREVIEW_MAX} px at JPEG quality ${HOMECLOUD_PREVIEW_QUALITY}, HEIC included"
fi

# Client Push (lib/nextcloud/client-push.ts): where the apps find the push server (what
# `occ notify_push:setup` stores once its checks pass; they need php-fpm running, which it is not
# yet during this hook), and that its requests, coming from inside the pod, are a proxy's.
if [ -n "${HOMECLOUD_PUSH_ENDPOINT:-}" ]; then
  $OCC config:app:set notify_push base_endpoint --value="$HOMECLOUD_PUSH_ENDPOINT" >/dev/null
  set_list trusted_proxies 127.0.0.1 ::1
  echo "homecloud: Client Push at $HOMECLOUD_PUSH_ENDPOINT"
fi
