#!/usr/bin/env bash
# The PC switched off and on again, for the node in DIR: runs inside run.sh's namespaces.
#
#   power.sh DIR off    every process of the node and of its containers dies at once (SIGKILL,
#                       as when the power goes or Windows ends the Docker Desktop VM), and
#                       what a reboot loses goes with them: containerd's state, the pods'
#                       network namespaces, links and iptables rules.
#   power.sh DIR on     the node starts again as at boot (node.sh); what a disk keeps stays:
#                       images, the kubelet's folder, the volumes' folders.
# The control plane keeps running: on Docker Desktop it is in the same VM and restarts too,
# which this does not replay (its state is etcd's, on disk there as here).
set -euo pipefail
dir=${1:?usage: power.sh DIR off|on}
what=${2:?usage: power.sh DIR off|on}
here=$(cd "$(dirname "$0")" && pwd)
node_processes='containerd coredns kubelet kube-proxy hostpath-provisioner local-path-provisioner'

case "$what" in
  off)
    # The node's own programs (the control plane's, in the same list, stay).
    while read -r pid name; do
      case " $node_processes " in *" $name "*) kill -9 "$pid" 2>/dev/null || true ;; esac
    done < "$dir/pids"
    grep -v -E " ($(echo "$node_processes" | tr ' ' '|'))\$" "$dir/pids" > "$dir/pids.next" || true
    mv "$dir/pids.next" "$dir/pids"
    # Every container and its shim. Only this run's processes are visible here (its own pid
    # namespace), so a name is enough.
    for _ in 1 2 3; do
      pkill -9 -f 'containerd-shim' || true
      for tasks in /sys/fs/cgroup/*/kubepods/tasks /sys/fs/cgroup/*/kubepods/*/tasks /sys/fs/cgroup/*/kubepods/*/*/tasks /sys/fs/cgroup/*/kubepods/*/*/*/tasks; do
        [ -f "$tasks" ] && xargs -r kill -9 < "$tasks" 2>/dev/null || true
      done
      sleep 0.2
    done
    # What a reboot does not keep: every mount the node made (containers' root file systems,
    # their /dev/shm, the kubelet's tmpfs for Secrets and tokens, pods' network namespaces),
    # deepest first; containerd's state (its root, with images and snapshots, is on disk).
    awk '{print $2}' /proc/self/mounts | grep -E "^($dir/containerd|$dir/kubelet|/run)/" | sort -r \
      | while read -r m; do umount -l "$m"; done
    rm -rf "$dir/containerd/state" /run/containerd /run/netns
    ip link del cni0 2>/dev/null || true
    for table in filter nat mangle; do iptables -t "$table" -F; iptables -t "$table" -X; done
    echo "the node is off" ;;
  on)
    NODE_IP=$(ip -4 -o addr show dev eth0 | awk '{print $4}' | cut -d/ -f1) "$here/node.sh" "$dir"
    echo "the node is on" ;;
  *) echo "usage: power.sh DIR off|on" >&2; exit 2 ;;
esac
