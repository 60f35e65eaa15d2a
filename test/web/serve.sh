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
#   /run/homecloud  is DIR/run-homecloud: the certificate (tls/) and the welcome page (welcome/),
#                   where the pod mounts them,
# and, with HC_ADDRESSES, the PC's LAN addresses on loopback, so clients can connect by them.
#
#   serve.sh DIR PORT...  DIR holds webroot/, nginx.conf, php-fpm.conf (and pool.d/); PORTs are
#                         nginx's; DIR/port-N.sock reaches port N (DIR/http.sock the first)
set -euo pipefail
dir=${1:?usage: serve.sh DIR PORT...}
port=${2:?usage: serve.sh DIR PORT...}
shift
ports=$*
here=$(cd "$(dirname "$0")" && pwd)
fpm=$(command -v php-fpm || ls /usr/sbin/php-fpm* 2>/dev/null | head -n1)

mkdir -p /run/homecloud-test /var/www/html
mount --bind "$dir" /run/homecloud-test
# The checkout may itself be under /tmp, which the tmpfs below hides: take the forwarder along.
cp "$here/forward.js" /run/homecloud-test/forward.js
if [ -n "${HC_NGINX_RUN:-}" ]; then cp "$HC_NGINX_RUN" /run/homecloud-test/nginx-run.sh; fi
mount --bind "$dir/webroot" /var/www/html
mount -o remount,bind,ro /var/www/html
mount -t tmpfs -o size=2g,mode=1777 tmpfs /tmp
# Through the bind above: $dir itself may be under the /tmp just hidden.
if [ -d /run/homecloud-test/run-homecloud ]; then
  mkdir -p /run/homecloud
  mount --bind /run/homecloud-test/run-homecloud /run/homecloud
  # In the pod the certificate is written as nginx's user; here nginx runs as nobody.
  [ -d /run/homecloud/tls ] && chown -R nobody /run/homecloud/tls
fi

ip link set lo up
for a in ${HC_ADDRESSES:-}; do
  case $a in *:*) ip -6 addr add "$a/128" dev lo nodad ;; *) ip addr add "$a/32" dev lo ;; esac
done
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
if [ -n "${HC_NGINX_RUN:-}" ]; then
  # As the pod's web container runs it: nginx under nginx-run.sh (busybox sh), which reloads it
  # when the certificate file changes.
  # (copied into /run/homecloud-test above, before /tmp was hidden)
  setpriv --reuid=nobody --regid=nogroup --clear-groups \
    env CHECK_SECONDS="${HC_CHECK_SECONDS:-60}" busybox sh /run/homecloud-test/nginx-run.sh /run/homecloud-test/nginx.conf /run/homecloud/tls/tls.pem &
else
  setpriv --reuid=nobody --regid=nogroup --clear-groups \
    nginx -e /dev/stderr -c /run/homecloud-test/nginx.conf &
fi
nginx_pid=$!
"${NODE:-node}" /run/homecloud-test/forward.js /run/homecloud-test/http.sock "$port" &
forward_pid=$!
for p in $ports; do
  "${NODE:-node}" /run/homecloud-test/forward.js "/run/homecloud-test/port-$p.sock" "$p" &
  forward_pid="$forward_pid $!"
done
trap 'kill -TERM $fpm_pid $nginx_pid $forward_pid 2>/dev/null; wait' EXIT
wait "$nginx_pid"
