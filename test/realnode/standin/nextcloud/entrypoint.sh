#!/bin/sh
# The stand-in of nextcloud/docker's entrypoint.sh (fpm-alpine variant), the parts homecloud relies
# on: install or upgrade only when the command is php-fpm; the version rules (no downgrade, one
# major at a time); code copied from /usr/src/nextcloud keeping config/ data/ custom_apps/ themes/;
# install from POSTGRES_* and NEXTCLOUD_ADMIN_*; the hook folders run as www-data, a failing hook
# stops the container; redis-session.ini written when REDIS_HOST is set.
set -eu

run_as() {
  if [ "$(id -u)" = 0 ]; then su-exec www-data "$@"; else "$@"; fi
}

run_path() {
  hooks="/docker-entrypoint-hooks.d/$1"
  [ -d "$hooks" ] || return 0
  echo "=> Searching for hook scripts (*.sh) to run, located in the folder \"$hooks\""
  for script in $(find "$hooks" -maxdepth 1 -name '*.sh' | sort); do
    if [ ! -x "$script" ]; then
      echo "==> The script \"$script\" was skipped, because it lacks the executable flag"
      continue
    fi
    echo "==> Running the script (cwd: $(pwd)): \"$script\""
    run_as "$script" || { rc=$?; echo "==> Failed at executing script \"$script\". Exit code: $rc"; exit 1; }
    echo "==> Finished executing the script: \"$script\""
  done
}

version_of() { # version.php → 34.0.0.0
  php -r 'if (!is_file($argv[1])) { echo "0.0.0.0"; exit; } require $argv[1]; echo implode(".", $OC_Version);' "$1"
}

newer() { # a b → 0 when a > b
  [ "$1" != "$2" ] && [ "$(printf '%s\n%s\n' "$1" "$2" | sort -t. -k1,1n -k2,2n -k3,3n -k4,4n | tail -n 1)" = "$1" ]
}

if [ "${1:-}" = php-fpm ]; then
  if [ -n "${REDIS_HOST:-}" ]; then
    {
      echo 'session.save_handler = redis'
      echo "session.save_path = \"tcp://${REDIS_HOST}:${REDIS_HOST_PORT:-6379}?auth=${REDIS_HOST_PASSWORD:-}\""
    } > /usr/local/etc/php/conf.d/redis-session.ini
  fi
  installed=$(version_of /var/www/html/version.php)
  image=$(version_of /usr/src/nextcloud/version.php)
  if newer "$installed" "$image"; then
    echo "Can't start Nextcloud because the version of the data ($installed) is higher than the docker image version ($image) and downgrading is not supported. Are you sure you have pulled the newest image version?"
    exit 1
  fi
  if newer "$image" "$installed"; then
    if [ "$installed" != 0.0.0.0 ] && [ $(( ${image%%.*} - ${installed%%.*} )) -gt 1 ]; then
      echo "Can't start Nextcloud because upgrading from $installed to $image is not supported."
      echo "It is only possible to upgrade one major version at a time. For example, if you want to upgrade from version 14 to 16, you will have to upgrade from version 14 to 15, then from 15 to 16."
      exit 1
    fi
    echo "Initializing nextcloud $image ..."
    if [ "$installed" != 0.0.0.0 ]; then
      echo "Upgrading nextcloud from $installed ..."
      run_path pre-upgrade
    else
      echo "New nextcloud instance"
    fi
    for entry in /usr/src/nextcloud/* /usr/src/nextcloud/.[!.]*; do
      [ -e "$entry" ] || continue
      name=$(basename "$entry")
      case "$name" in config|data|custom_apps|themes) [ -e "/var/www/html/$name" ] && continue ;; esac
      rm -rf "/var/www/html/$name"
      cp -a "$entry" "/var/www/html/$name"
    done
    [ "$(id -u)" = 0 ] && chown -R www-data:www-data /var/www/html
    if [ "$installed" = 0.0.0.0 ]; then
      if [ -n "${NEXTCLOUD_ADMIN_USER:-}" ] && [ -n "${NEXTCLOUD_ADMIN_PASSWORD:-}" ] && [ -n "${POSTGRES_HOST:-}" ]; then
        run_path pre-installation
        echo "Installing with PostgreSQL database"
        # Upstream tries 11 times, 10 s apart, then gives up; the code is already copied, so
        # the next start finds version.php and never installs again.
        max_retries=10
        try=0
        until [ "$try" -gt "$max_retries" ] || run_as php /var/www/html/occ maintenance:install --database pgsql \
          --database-name "$POSTGRES_DB" --database-host "$POSTGRES_HOST" --database-user "$POSTGRES_USER" \
          --database-pass "$POSTGRES_PASSWORD" --admin-user "$NEXTCLOUD_ADMIN_USER" --admin-pass "$NEXTCLOUD_ADMIN_PASSWORD" \
          --data-dir "${NEXTCLOUD_DATA_DIR:-/var/www/html/data}"; do
          echo "Retrying install..."
          try=$((try + 1))
          sleep 10
        done
        if [ "$try" -gt "$max_retries" ]; then
          echo "Installing of nextcloud failed!"
          exit 1
        fi
        i=1
        for domain in ${NEXTCLOUD_TRUSTED_DOMAINS:-}; do
          run_as php /var/www/html/occ config:system:set trusted_domains "$i" --value="$domain"
          i=$((i + 1))
        done
        run_path post-installation
      else
        echo "Please run the web-based installer on first connect!"
      fi
    else
      run_as php /var/www/html/occ upgrade
      run_path post-upgrade
    fi
    echo "Initializing finished"
  fi
  run_path before-starting
fi

exec "$@"
