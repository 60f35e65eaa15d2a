#!/bin/sh
# Liveness of the php-fpm container: is php-fpm itself alive? Nothing behind it (database,
# cache, nginx) is asked: restarting php-fpm would not mend them.
#
# Until the image's entrypoint hands over to php-fpm (`exec php-fpm`), PID 1 is the
# entrypoint, busy installing or upgrading Nextcloud and running the hooks. That can take
# minutes or hours, and a restart in the middle of an upgrade is the most reported way to
# break a Nextcloud on Kubernetes. So while PID 1 is not php-fpm, the container is alive.
set -eu
proc=${PROC_ROOT:-/proc}
port=${FPM_PORT:-9000}

case "$(cat "$proc/1/comm")" in
  php-fpm*) ;;
  *) exit 0 ;;
esac
# php-fpm runs: it must accept a connection on its FastCGI port (busy workers still accept:
# requests queue in the listen backlog, which is slow, not dead). php is the one network
# client this image is sure to have.
exec php -r 'exit(@fsockopen("127.0.0.1", (int) $argv[1], $e, $s, 5) ? 0 : 1);' "$port"
