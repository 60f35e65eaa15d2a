#!/bin/bash
# Second half of pod-enter.sh, already in a private mount namespace:
#   pod-chroot.sh POD_DIR CONTAINER COMMAND [ARGS...]
set -euo pipefail
pod=$1 container=$2
shift 2
root="$pod/root-$container"

# The host's programs, libraries and /etc as the container image: an overlay whose changes
# stay in the pod's folder, as a container's writable layer does (the host's files are never
# written). Merged-/usr links are kept as links.
for d in bin sbin lib lib32 lib64 libx32 usr etc; do
  if [ -L "/$d" ]; then
    [ -L "$root/$d" ] || ln -s "$(readlink "/$d")" "$root/$d"
  elif [ -d "/$d" ]; then
    mkdir -p "$root/$d" "$pod/layer-$container/$d" "$pod/work-$container/$d"
    mount -t overlay overlay -o "lowerdir=/$d,upperdir=$pod/layer-$container/$d,workdir=$pod/work-$container/$d" "$root/$d"
  fi
done
for d in dev proc; do
  mkdir -p "$root/$d"
  mount --rbind "/$d" "$root/$d"
done
mkdir -p "$root/tmp"

# The pod's volumes, as pod-sim.py listed them: source, mount path, ro|rw.
while IFS=$'\t' read -r src dst mode; do
  [ -n "$src" ] || continue
  if [ -d "$src" ]; then mkdir -p "$root$dst"; else mkdir -p "$(dirname "$root$dst")"; touch "$root$dst"; fi
  mount --bind "$src" "$root$dst"
  if [ "$mode" = ro ]; then mount -o remount,bind,ro "$root$dst"; fi
done < "$pod/mounts-$container"

# homecloud's images are all Alpine: busybox's sh, tar, sha256sum… come first, as there, and
# what busybox lacks (php, restic, pg_dump) comes from the host.
alpine=''
if command -v busybox >/dev/null; then
  [ -d "$root/.alpine-bin" ] || { mkdir -p "$root/.alpine-bin.tmp" && busybox --install -s "$root/.alpine-bin.tmp" && mv "$root/.alpine-bin.tmp" "$root/.alpine-bin"; }
  alpine=/.alpine-bin:
fi

cd "$root"
exec chroot "$root" /usr/bin/env PATH=${alpine}/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
