#!/usr/bin/env bash
# Runs nginx and php-fpm the way the Nextcloud pod does, on this host, for the tests.
# Must run as root inside `unshare --mount` (see test/support/web-stack.ts): it builds a
# private view of the file system in which
#   /var/www/html   is the stand-in web root, read-only (as nginx's mount in the pod),
#   /tmp            is an empty tmpfs, the only place nginx can write (the pod's emptyDir),
# then starts php-fpm on 127.0.0.1:9000 and nginx as an unprivileged user in the foreground.
#
#   serve.sh DIR     DIR holds webroot/, nginx.conf and php-fpm.conf
set -euo pipefail
dir=${1:?usage: serve.sh DIR}
fpm=$(command -v php-fpm || ls /usr/sbin/php-fpm* 2>/dev/null | head -n1)

mkdir -p /run/homecloud-test /var/www/html
mount --bind "$dir" /run/homecloud-test
mount --bind "$dir/webroot" /var/www/html
mount -o remount,bind,ro /var/www/html
mount -t tmpfs -o size=2g,mode=1777 tmpfs /tmp

"$fpm" --nodaemonize --fpm-config /run/homecloud-test/php-fpm.conf &
fpm_pid=$!
nginx_pid=
# Whatever ends this script (a signal, nginx failing to start) ends php-fpm too.
trap 'kill -TERM $fpm_pid $nginx_pid 2>/dev/null; wait' EXIT
trap 'exit 143' TERM INT

# Unprivileged like the pod's nginx (uid 101 there; nobody here): it can write only to /tmp.
# Its logs go to /dev/stderr; give that file to nobody, as the container runtime does with a
# container's stdio when it runs as a non-root user.
chown nobody /proc/$$/fd/2
setpriv --reuid=nobody --regid=nogroup --clear-groups \
  nginx -e /dev/stderr -c /run/homecloud-test/nginx.conf &
nginx_pid=$!
wait "$nginx_pid"
