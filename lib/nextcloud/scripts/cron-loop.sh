#!/bin/sh
# Nextcloud background jobs: runs cron.php every 5 minutes inside one long-lived container
# (as www-data, uid 82, the owner of config.php) instead of a Kubernetes CronJob, which
# would start a whole pod every 5 minutes. The image's own /cron.sh needs root for crond.
set -u

interval=${CRON_INTERVAL_SECONDS:-300}
webroot=${NEXTCLOUD_WEBROOT:-/var/www/html}
php_bin=${PHP_BIN:-php}
# While the nightly backup holds Nextcloud in maintenance mode it refreshes this file (see
# backup.sh). A backup killed midway (PC shut down, out of memory) cannot turn maintenance
# off again: when the file has not been refreshed for this long, this loop does.
marker="$webroot/.homecloud-backup-maintenance"
stale=${BACKUP_HEARTBEAT_STALE_SECONDS:-180}

release_orphaned_maintenance() {
  [ -f "$marker" ] || return 0
  beat=$(cat "$marker" 2>/dev/null || echo 0)
  [ $(( $(date +%s) - ${beat:-0} )) -ge "$stale" ] || return 0
  if $php_bin "$webroot/occ" maintenance:mode --off >/dev/null; then
    rm -f "$marker"
    echo "homecloud cron: a backup stopped midway left maintenance mode on; turned it off"
  else
    echo "homecloud cron: could not turn off the maintenance mode a stopped backup left on" >&2
  fi
}

# Stop promptly when Kubernetes stops the pod, even in the middle of a sleep. It does so with
# QUIT, the Nextcloud image's stop signal (php-fpm's); as the container's first process the
# shell would ignore any signal it does not trap, and every stop would wait out the grace period.
trap 'echo "homecloud cron: stopping"; exit 0' TERM INT QUIT

echo "homecloud cron: running cron.php every ${interval}s (counted from the end of each run)"
while :; do
  if grep -qs "'installed' => true" "$webroot/config/config.php"; then
    release_orphaned_maintenance
    $php_bin -f "$webroot/cron.php" || echo "homecloud cron: cron.php failed with exit code $?" >&2
  else
    echo "homecloud cron: Nextcloud is not installed yet; waiting"
  fi
  # Nextcloud runs a job only when MORE than its interval has passed since the job last started
  # (TimedJob), and a job starts anywhere within a run. Runs started exactly 300 s apart gave the
  # 5-minute jobs (calendar reminders) every other run, 10 minutes late. The full interval and a
  # second more after a run ends puts every job's next chance past its interval: every 5-minute
  # job runs in every run, and the runs are as many an hour as before, give or take one.
  sleep $((interval + 1)) &
  wait $!
done
