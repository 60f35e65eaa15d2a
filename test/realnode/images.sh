#!/usr/bin/env bash
# Builds the stand-in of every image the manifests name, as one-layer OCI archives, from Debian's
# packages (the programs installed on this machine by .ci/run, or downloaded with apt-get download
# where installing would start a service) and the stand-in files beside this script. No registry
# serves Docker Hub here. See README.md for what each stand-in is and how it differs.
#
#   images.sh            prints the folder holding <name>.tar per image and images.txt
#                        (`archive reference` per line); cached by a digest of every input.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ROOT=${HOMECLOUD_K8S_CACHE:-$HOME/.cache/homecloud-k8s}
log() { printf '[images %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

node=$("$here/../controlplane/build.sh" node)
restic=$("$here/../restic/build.sh")/restic

# What Debian gives the images, by package and version (part of the cache key).
host_packages="postgresql-15 postgresql-client-15 nginx-light php8.2-cli php8.2-fpm php8.2-pgsql rsync busybox"
download_packages="busybox-static redis-server redis-tools libjemalloc2 liblzf1 $("$here/../privacy/squid.sh" --packages)"
versions=$(dpkg-query -W -f '${Package}=${Version}\n' $host_packages) \
  || { echo "images.sh: missing Debian packages (apt-get install $host_packages)" >&2; exit 3; }

debian=$("$here/debian.sh" $download_packages)
key=$( { echo "$versions"; cat "$debian/versions"; "$restic" version; sha256sum "$node/pause";
         cd "$here" && find images.sh oci.py standin su-exec -type f | sort | xargs sha256sum; } | sha256sum | cut -c1-16)
OUT="$ROOT/realnode-images-$key"
if [ -f "$OUT/.complete" ]; then echo "$OUT"; exit 0; fi

start=$(date +%s)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$OUT"

ln -s "$debian/x" "$work/x"
extra_libs="$work/x/usr/lib/x86_64-linux-gnu"

log "su-exec"
(cd "$here/su-exec" && GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS= GO111MODULE=off go build -trimpath -ldflags "-s -w" -o "$work/su-exec" main.go)

# Copies programs and shared objects into a root file system with every library they load,
# at the same paths (Debian's loader searches its multiarch folders).
with_libs() { # rootfs file...
  local rootfs=$1 f lib; shift
  for f in "$@"; do
    [ -e "$rootfs$f" ] || { mkdir -p "$rootfs$(dirname "$f")"; cp -L "$f" "$rootfs$f" 2>/dev/null || cp -L "$work/x$f" "$rootfs$f"; }
    for lib in $(LD_LIBRARY_PATH="$extra_libs" ldd "$rootfs$f" 2>/dev/null | grep -oE '/[^ ]+\.so[^ ]*' | sort -u); do
      local dest=/usr/lib/x86_64-linux-gnu/$(basename "$lib")
      case "$lib" in /lib64/*) dest=$lib ;; esac
      [ -e "$rootfs$dest" ] && continue
      mkdir -p "$rootfs$(dirname "$dest")"
      cp -L "$lib" "$rootfs$dest"
    done
  done
}

base() { # rootfs "name:uid:gid ..." — busybox as /bin/sh and every applet, users, /tmp
  local rootfs=$1 users=$2 u name uid gid
  mkdir -p "$rootfs"/{bin,sbin,etc,tmp,root,run,var/run,usr/bin,usr/local/bin,usr/local/sbin}
  chmod 1777 "$rootfs/tmp"
  cp "$work/x/bin/busybox" "$rootfs/bin/busybox"
  for applet in $("$rootfs/bin/busybox" --list); do
    [ -e "$rootfs/bin/$applet" ] || ln -s busybox "$rootfs/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n' > "$rootfs/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' > "$rootfs/etc/group"
  for u in $users; do
    IFS=: read -r name uid gid <<<"$u"
    echo "$name:x:$uid:$gid:$name:/home/$name:/bin/sh" >> "$rootfs/etc/passwd"
    echo "$name:x:$gid:$name" >> "$rootfs/etc/group"
  done
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' > "$rootfs/etc/nsswitch.conf"
  # Alpine's busybox has nice; Debian's busybox-static does not: coreutils' stands in.
  with_libs "$rootfs" /usr/bin/nice
}

pack() { # name reference rootfs config-json [owners-file]
  log "$1 → $2"
  python3 "$here/oci.py" "$3" "$OUT/$1.tar" "$2" "$4" ${5:-} >/dev/null
  echo "$1.tar $2" >> "$OUT/images.txt.part"
}
path='"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"'
: > "$OUT/images.txt.part"

# --- pause: the sandbox of every pod.
r="$work/pause"; mkdir -p "$r"; cp "$node/pause" "$r/pause"
pack pause registry.k8s.io/pause:3.10 "$r" '{"Entrypoint":["/pause"]}'

# --- busybox: local-path-provisioner's helper pods (they make and remove the volume folders).
r="$work/busybox"; base "$r" ""
pack busybox docker.io/library/busybox:1.36 "$r" "{\"Env\":[$path],\"Cmd\":[\"sh\"]}"

# --- postgres:18-alpine: Debian's PostgreSQL 15 server and client programs (see README.md).
r="$work/postgres"; base "$r" "postgres:70:70"
pg=/usr/lib/postgresql/15
for p in postgres initdb pg_ctl pg_isready psql pg_dump pg_dumpall pg_restore vacuumdb; do
  with_libs "$r" "$pg/bin/$p"; ln -s "$pg/bin/$p" "$r/usr/local/bin/$p"
done
cp -a $pg/lib "$r$pg/"; for so in "$r$pg"/lib/*.so; do with_libs "$r" "${so#$r}"; done
mkdir -p "$r/usr/share/postgresql" && cp -a /usr/share/postgresql/15 "$r/usr/share/postgresql/"
# As the official image's Dockerfile: new clusters listen on every address, not only localhost.
sed -ri "s!^#?(listen_addresses)\s*=\s*\S+.*!\1 = '*'!" "$r/usr/share/postgresql/15/postgresql.conf.sample"
grep -q "^listen_addresses = '\*'" "$r/usr/share/postgresql/15/postgresql.conf.sample"
mkdir -p "$r/usr/share" && cp -a /usr/share/zoneinfo "$r/usr/share/"
# initdb --locale=C.UTF-8: musl accepts it always, Debian's glibc needs the compiled locale.
mkdir -p "$r/usr/lib/locale" && cp -a /usr/lib/locale/C.utf8 "$r/usr/lib/locale/"
cp "$work/su-exec" "$r/sbin/su-exec"
cp "$here/standin/postgres/docker-entrypoint.sh" "$r/usr/local/bin/"
mkdir -p "$r/var/run/postgresql" "$r/var/lib/postgresql" && chmod 3777 "$r/var/run/postgresql"
printf 'var/run/postgresql 70 70\nvar/lib/postgresql 70 70\n' > "$work/postgres.owners"
pack postgres docker.io/library/postgres:18-alpine "$r" \
  "{\"Env\":[$path,\"PG_MAJOR=18\",\"PGDATA=/var/lib/postgresql/18/docker\"],\"Entrypoint\":[\"docker-entrypoint.sh\"],\"Cmd\":[\"postgres\"],\"StopSignal\":\"SIGINT\"}" \
  "$work/postgres.owners"

# --- valkey/valkey:8-alpine: Debian's Redis 7.0 server under valkey's program names.
r="$work/valkey"; base "$r" "valkey:999:1000"
with_libs "$r" /usr/bin/redis-server /usr/bin/redis-cli
ln -s /usr/bin/redis-server "$r/usr/local/bin/valkey-server"
ln -s /usr/bin/redis-cli "$r/usr/local/bin/valkey-cli"
mkdir -p "$r/data"; echo 'data 999 1000' > "$work/valkey.owners"
pack valkey docker.io/valkey/valkey:8-alpine "$r" "{\"Env\":[$path],\"Cmd\":[\"valkey-server\"],\"WorkingDir\":\"/data\"}" "$work/valkey.owners"

# --- nginx:1.28-alpine: Debian's nginx-light (1.22).
r="$work/nginx"; base "$r" "nginx:101:101"
with_libs "$r" /usr/sbin/nginx
mkdir -p "$r/etc/nginx" "$r/var/log/nginx" "$r/var/cache/nginx" "$r/var/lib/nginx"
cp /etc/nginx/fastcgi_params /etc/nginx/mime.types "$r/etc/nginx/"
printf 'events {}\nhttp { include mime.types; server { listen 80; } }\n' > "$r/etc/nginx/nginx.conf"
ln -s /dev/stderr "$r/var/log/nginx/error.log"; ln -s /dev/stdout "$r/var/log/nginx/access.log"
cp "$here/standin/nginx/nginx" "$r/usr/local/sbin/nginx"
printf 'var/cache/nginx 101 101\n' > "$work/nginx.owners"
pack nginx docker.io/library/nginx:1.28-alpine "$r" \
  "{\"Env\":[$path],\"Cmd\":[\"nginx\",\"-g\",\"daemon off;\"],\"StopSignal\":\"SIGQUIT\"}" "$work/nginx.owners"

# --- nextcloud:34-fpm-alpine: Debian's PHP 8.2 (cli and fpm) running the stand-in Nextcloud.
r="$work/nextcloud"; base "$r" "www-data:82:82"
sn="$here/standin/nextcloud"
with_libs "$r" /usr/bin/php8.2 /usr/sbin/php-fpm8.2 /usr/bin/rsync /usr/bin/curl
ln -s /usr/bin/php8.2 "$r/usr/local/bin/php"
cp "$sn/php-fpm" "$r/usr/local/sbin/php-fpm"
ext=$(php -r 'echo ini_get("extension_dir");')
for so in pdo pdo_pgsql pgsql posix ctype fileinfo iconv; do with_libs "$r" "$ext/$so.so"; done
mkdir -p "$r/usr/local/etc/php/conf.d" "$r/usr/local/etc/php-fpm.d" "$r/usr/lib/ssl" "$r/usr/share"
cp "$sn/etc/php-fpm.conf" "$r/usr/local/etc/"; cp "$sn/etc/php-fpm.d/"* "$r/usr/local/etc/php-fpm.d/"
cp "$sn/etc/conf.d/"* "$r/usr/local/etc/php/conf.d/"
cp -L /usr/lib/ssl/openssl.cnf "$r/usr/lib/ssl/openssl.cnf"
cp -a /usr/share/zoneinfo "$r/usr/share/"
mkdir -p "$r/usr/src" "$r/var/www/html"
cp -a "$sn/src" "$r/usr/src/nextcloud"
printf '<?php\n$OC_Version = array(34, 0, 0, 0);\n$OC_VersionString = %s;\n$OC_Edition = %s;\n$OC_Channel = %s;\n$vendor = %s;\n' \
  "'34.0.0'" "''" "'stable'" "'nextcloud'" > "$r/usr/src/nextcloud/version.php"
mkdir -p "$r/usr/src/nextcloud/config" "$r/usr/src/nextcloud/data" "$r/usr/src/nextcloud/custom_apps"
cp "$sn/entrypoint.sh" "$r/entrypoint.sh"
cp "$work/su-exec" "$r/sbin/su-exec"
printf 'var/www/html 82 82\nusr/src/nextcloud 82 82\n' > "$work/nextcloud.owners"
pack nextcloud docker.io/library/nextcloud:34-fpm-alpine "$r" \
  "{\"Env\":[$path,\"PHP_INI_DIR=/usr/local/etc/php\",\"PHP_INI_SCAN_DIR=/usr/local/etc/php/conf.d\",\"NEXTCLOUD_VERSION=34.0.0\",\"PHP_MEMORY_LIMIT=512M\",\"PHP_UPLOAD_LIMIT=512M\"],\"Entrypoint\":[\"/entrypoint.sh\"],\"Cmd\":[\"php-fpm\"],\"WorkingDir\":\"/var/www/html\",\"StopSignal\":\"SIGQUIT\"}" \
  "$work/nextcloud.owners"

# --- restic/restic:0.18.1: restic 0.18.1 (test/restic/build.sh, the release's own module) on busybox.
r="$work/restic"; base "$r" ""
cp "$restic" "$r/usr/bin/restic"
pack restic docker.io/restic/restic:0.18.1 "$r" "{\"Env\":[$path],\"Entrypoint\":[\"/usr/bin/restic\"]}"

# --- ubuntu/squid:6.6-24.04_beta: Debian's Squid 5.7 (the packages test/privacy/squid.sh names) on
# busybox, at the paths Ubuntu's package uses too (its pages, mime table and helpers).
r="$work/squid"; base "$r" "proxy:13:13"
with_libs "$r" /usr/sbin/squid /usr/lib/squid/unlinkd
mkdir -p "$r/usr/share" "$r/var/log/squid" "$r/var/spool/squid" "$r/run"
cp -a "$work/x/usr/share/squid" "$work/x/usr/share/squid-langpack" "$r/usr/share/"
printf 'var/log/squid 13 13\nvar/spool/squid 13 13\n' > "$work/squid.owners"
pack squid docker.io/ubuntu/squid:6.6-24.04_beta "$r" \
  "{\"Env\":[$path],\"Cmd\":[\"squid\",\"-N\",\"-f\",\"/etc/squid/squid.conf\"]}" "$work/squid.owners"

mv "$OUT/images.txt.part" "$OUT/images.txt"
touch "$OUT/.complete"
# Earlier builds of the images are of no further use.
find "$ROOT" -maxdepth 1 -name 'realnode-images-*' ! -path "$OUT" -exec rm -rf {} +
log "done in $(( $(date +%s) - start )) s"
echo "$OUT"
