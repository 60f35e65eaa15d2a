#!/bin/sh
# The web container's command: nginx, reloaded when its certificate file is replaced.
# nginx reads certificates only when it starts or reloads; the `certificates` container renews
# the file every couple of months. A reload is graceful: open connections finish on the old
# workers. Stopping the container (TERM) stops nginx at once, as before this wrapper.
#
#   nginx-run.sh NGINX_CONF TLS_FILE        CHECK_SECONDS: how often to look (default 60)
set -u
conf=${1:?usage: nginx-run.sh NGINX_CONF TLS_FILE}
tls=${2:?usage: nginx-run.sh NGINX_CONF TLS_FILE}
every=${CHECK_SECONDS:-60}

nginx -c "$conf" &
pid=$!
stopping=
sleeper=
trap 'stopping=1; kill -TERM $pid 2>/dev/null; kill $sleeper 2>/dev/null' TERM INT
trap 'stopping=1; kill -QUIT $pid 2>/dev/null; kill $sleeper 2>/dev/null' QUIT

seen=$(cksum < "$tls" 2>/dev/null)
while [ -z "$stopping" ] && kill -0 "$pid" 2>/dev/null; do
  sleep "$every" &
  sleeper=$!
  wait $sleeper
  [ -n "$stopping" ] && break
  now=$(cksum < "$tls" 2>/dev/null)
  if [ -n "$now" ] && [ "$now" != "$seen" ]; then
    # Only a file nginx accepts: a reload with a broken one would be refused anyway, but say why.
    if out=$(nginx -t -q -c "$conf" 2>&1); then
      kill -HUP "$pid" && echo "homecloud: new server certificate, nginx reloaded"
      seen=$now
    else
      echo "homecloud: not reloading nginx, the new certificate file is not usable yet: $out" >&2
    fi
  fi
done
wait "$pid"
