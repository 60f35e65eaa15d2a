#!/bin/bash
# What `kubectl exec` runs on the simulated node. kwok looks every command name up in a
# folder of links to this script (made by cluster.sh), with the pod's folder and container
# in the environment (set by pod-sim.py's Exec rules). The command then runs "in the
# container": in a private mount namespace, chrooted into the container's folder, with the
# host's programs read-only and the pod's volumes mounted where the pod spec says.
set -euo pipefail
# kwok's own PATH is the folder of links to this script: use the host's tools from here on,
# or each of them would come back here.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
name=${0##*/}
pod=${HOMECLOUD_POD_DIR:?pod-enter: no simulated pod folder (HOMECLOUD_POD_DIR)}
container=${HOMECLOUD_CONTAINER:?pod-enter: no container name (HOMECLOUD_CONTAINER)}
here=$(dirname "$(readlink -f "$0")")

# Without root, a user namespace grants the mounts and the chroot.
enter=(unshare --mount --propagation private)
[ "$(id -u)" = 0 ] || enter=(unshare --user --map-root-user --mount --propagation private)

# `kubectl cp` into the pod runs `tar -x…` reading stdin, which kwok never closes: let the
# archive's own end close it (see tar-stream-end.py).
if [ "$name" = tar ] && [[ "${1:-}" =~ ^-?[a-zA-Z]*x ]]; then
  python3 "$here/tar-stream-end.py" | "${enter[@]}" /bin/bash "$here/pod-chroot.sh" "$pod" "$container" "$name" "$@"
  exit "${PIPESTATUS[1]}"
fi
exec "${enter[@]}" /bin/bash "$here/pod-chroot.sh" "$pod" "$container" "$name" "$@"
