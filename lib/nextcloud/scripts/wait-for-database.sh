#!/bin/sh
# Nextcloud entrypoint hook (before-starting), run as www-data.
# After the PC boots, Nextcloud can start before PostgreSQL accepts connections; occ in
# the next hooks would then fail and the container would crash-loop. Wait for it instead.
set -eu

host=${POSTGRES_HOST:?POSTGRES_HOST is not set}
port=${POSTGRES_PORT:-5432}
limit=${HOMECLOUD_DB_WAIT_SECONDS:-300}
waited=0

# php is the one network client this image is sure to have.
until php -r 'exit(@fsockopen($argv[1], (int)$argv[2], $e, $s, 3) ? 0 : 1);' "$host" "$port"; do
  if [ "$waited" -ge "$limit" ]; then
    echo "homecloud: the database at $host:$port did not answer within ${limit}s" >&2
    exit 1
  fi
  [ $((waited % 30)) -eq 0 ] && echo "homecloud: waiting for the database at $host:$port (${waited}s)"
  sleep 5
  waited=$((waited + 5))
done
