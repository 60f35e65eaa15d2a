#!/bin/sh
# The Nextcloud pod's `certificates` container: checks the server certificate every
# CHECK_SECONDS (6 h) and renews it when it nears expiry (issue-certificate.php decides);
# nginx-run.sh in the web container notices the new file and reloads nginx.
# A failed check is logged and tried again next time: the current certificate stays in use.
set -u
here=$(dirname "$0")
sleeper=
# QUIT is how Kubernetes stops this container: the Nextcloud image's stop signal (php-fpm's). As
# the container's first process the shell ignores every signal it does not trap.
trap 'kill $sleeper 2>/dev/null; exit 0' TERM INT QUIT
while :; do
  # -n: no php.ini, none of the image's shared extensions (see lib/https/server-certificate.ts).
  php -n "$here/issue-certificate.php" || echo "homecloud: the certificate check failed; the current certificate stays in use, next try in ${CHECK_SECONDS:-21600} s" >&2
  # In the background, so TERM is handled at once instead of after the sleep.
  sleep "${CHECK_SECONDS:-21600}" &
  sleeper=$!
  wait $sleeper
done
