#!/usr/bin/env bash
# Runs nginx and php-fpm the way the Nextcloud pod does, on this host, for the tests.
# Must run as root inside `unshare --mount --net` (see test/support/web-stack.ts): it builds a
# private view of the file system in which
#   /var/www/html   is the stand-in web root, read-only (as nginx's mount in the pod),
#   /tmp            is an empty tmpfs, the only place nginx can write (the pod's emptyDir),
# and a private network with only loopback, as a pod has: nginx's port and php-fpm's 9000 are
# free there whatever runs on this machine. It starts php-fpm on 127.0.0.1:9000, nginx as an
# unprivileged user, and a forwarder from DIR/http.sock to nginx's port for the tests outside.
#
#   serve.sh DIR PORT     DIR holds webroot/, nginx.conf, php-fpm.conf (and pool.d/); PORT is nginx's
set -euo pipefail
dir=${1:?usage: serve.sh DIR PORT}
port=${2:?usage: serve.sh DIR PORT}
here=$(cd "$(dirname "$0")" && pwd)
fpm=$(command -v php-fpm || ls /usr/sbin/php-fpm* 2>/dev/null | head -n1)

mkdir -p /run/homecloud-test /var/www/html
mount --bind "$dir" /run/homecloud-test
# The checkout may itself be under /tmp, which the tmpfs below hides: take the forwarder along.
cp "$here/forward.js" /run/homecloud-test/forward.js
mount --bind "$dir/webroot" /var/www/html
mount -o remount,bind,ro /var/www/html
mount -t tmpfs -o size=2g,mode=1777 tmpfs /tmp

ip link set lo up
# As in the pod (net.ipv4.ip_unprivileged_port_start=0): the unprivileged nginx binds port 80.
echo 0 > /proc/sys/net/ipv4/ip_unprivileged_port_start

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
"${NODE:-node}" /run/homecloud-test/forward.js /run/homecloud-test/http.sock "$port" &
forward_pid=$!
trap 'kill -TERM $fpm_pid $nginx_pid $forward_pid 2>/dev/null; wait' EXIT
wait "$nginx_pid"
