#!/bin/sh
# Nextcloud background jobs: runs cron.php every 5 minutes inside one long-lived container
# (as www-data, uid 82, the owner of config.php) instead of a Kubernetes CronJob, which
# would start a whole pod every 5 minutes. The image's own /cron.sh needs root for crond.
set -u

interval=${CRON_INTERVAL_SECONDS:-300}
webroot=${NEXTCLOUD_WEBROOT:-/var/www/html}
php_bin=${PHP_BIN:-php}

# Stop promptly when Kubernetes stops the pod, even in the middle of a sleep.
trap 'echo "homecloud cron: stopping"; exit 0' TERM INT

echo "homecloud cron: running cron.php every ${interval}s"
while :; do
  started=$(date +%s)
  if grep -qs "'installed' => true" "$webroot/config/config.php"; then
    $php_bin -f "$webroot/cron.php" || echo "homecloud cron: cron.php failed with exit code $?" >&2
  else
    echo "homecloud cron: Nextcloud is not installed yet; waiting"
  fi
  elapsed=$(( $(date +%s) - started ))
  pause=$(( interval - elapsed ))
  [ "$pause" -lt 1 ] && pause=1
  sleep "$pause" &
  wait $!
done
