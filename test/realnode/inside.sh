#!/usr/bin/env bash
# The first process of run.sh's namespaces (pids, network, mounts): prepares them, starts the
# control plane and the node, then stays as their init (it reaps what the node leaves) until
# run.sh kills it, which ends every process, mount, link and iptables rule inside at once.
set -euo pipefail
dir=${1:?usage: inside.sh DIR}
here=$(cd "$(dirname "$0")" && pwd)
trap 'echo failed > "$dir/node-state"' ERR

# Network: loopback, and one address for the node (the kubelet refuses loopback; this kernel
# has no dummy links, so one end of a veth pair carries it).
export NODE_IP=10.213.0.2
ip link set lo up
ip link add eth0 type veth peer name eth0-peer
ip link set eth0-peer up
ip addr add "$NODE_IP/24" dev eth0
ip link set eth0 up

# The fixed paths a node writes, fresh and private to this run (run.sh made the empty folders
# that were missing and removes them afterwards); /run holds containerd's and CNI's state.
for d in /run /var/lib/kubelet /var/lib/cni /var/log/pods /var/log/containers; do
  mount -t tmpfs -o mode=0755 "homecloud-node" "$d"
done
# Machine-wide kernel settings the kubelet sets at start: it sets copies here instead, so the
# machine's own values never change.
mkdir -p "$dir/sysctl"
for s in vm/overcommit_memory kernel/panic kernel/panic_on_oops kernel/keys/root_maxkeys kernel/keys/root_maxbytes; do
  copy="$dir/sysctl/${s//\//.}"
  cat "/proc/sys/$s" > "$copy"
  mount --bind "$copy" "/proc/sys/$s"
done

HOMECLOUD_NODE=real "$here/../controlplane/cluster.sh" up "$dir"
"$here/node.sh" "$dir"
echo ready > "$dir/node-state"
trap - ERR
while :; do
  sleep 3600 &
  wait $! || true
done
