#!/usr/bin/env bash
# A real Kubernetes node for the tests: the control plane of ../controlplane plus a kubelet,
# containerd, CNI, kube-proxy, CoreDNS and Docker Desktop's storage, all inside namespaces of the
# run's own (pids, network, mounts), so nothing binds a host port or touches the host's iptables,
# routes, mounts or kernel settings. What a node cannot keep private (cgroups, a few fixed
# folders) is undone by `down`, also after a crash (the reaper).
#
#   run.sh up DIR [WATCH_PID]   start; DIR/kubeconfig works through `run.sh exec`.
#                               With WATCH_PID, everything stops when that process exits.
#   run.sh exec DIR CMD...      run CMD inside the node's namespaces (kubectl, the client…)
#   run.sh images DIR           rebuild the stand-in images and load them into the running node
#   run.sh down DIR             stop everything and undo the node's changes to the machine
#   run.sh check                exit 1 (with what) when a run left anything on the machine
# Env: HOMECLOUD_STORAGE=hostpath|local-path (see node.sh). One node per machine at a time.
set -euo pipefail
cmd=${1:?usage: run.sh up|exec|down|check DIR ...}
here=$(cd "$(dirname "$0")" && pwd)
log() { printf '[real node %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
created_dirs="/var/lib/kubelet /var/lib/cni /var/log/pods /var/log/containers"

leftovers() { # what a node run can leave on the machine, one line each
  local c
  for c in /sys/fs/cgroup/*/kubepods; do [ -d "$c" ] && echo "cgroup $c"; done
  # (bracketed so that this grep's own command line does not match)
  grep -l '[r]ealnode/inside.sh\|[c]ontainerd-shim\|[k]ubelet --config' /proc/[0-9]*/cmdline 2>/dev/null \
    | sed 's|/proc/\([0-9]*\)/cmdline|process \1|' || true
  grep -E ' (/var/lib/kubelet|/var/lib/cni|/var/log/pods|/var/log/containers|/run/netns)' /proc/self/mounts | sed 's/^/mount /' || true
}

remove_cgroups() { # the /kubepods trees the kubelet made, once their processes are gone
  local t=0 c
  for c in /sys/fs/cgroup/*/kubepods; do
    [ -d "$c" ] || continue
    until find "$c" -depth -type d -exec rmdir {} + 2>/dev/null; do
      t=$((t + 1)); [ "$t" -lt 100 ] || { log "could not remove $c (processes still in it?)"; return 1; }
      sleep 0.1
    done
  done
}

down() {
  local dir=$1 pid
  if [ -f "$dir/ns-pid" ]; then
    pid=$(cat "$dir/ns-pid")
    # The first process of the pid namespace: when it dies the kernel kills every other one.
    kill -9 "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$dir/ns-pid"
  fi
  remove_cgroups || true
  if [ -f "$dir/created-dirs" ]; then
    while read -r d; do rmdir "$d" 2>/dev/null || true; done < <(tac "$dir/created-dirs")
    rm -f "$dir/created-dirs"
  fi
  # Only now may the next node start (its folders and cgroups would otherwise be removed by this).
  rm -f "$dir/lock-held"
}

case "$cmd" in
  exec)
    dir=${2:?usage: run.sh exec DIR CMD...}; shift 2
    exec nsenter -t "$(cat "$dir/ns-pid")" -n -m -p --wd="$PWD" -- "$@" ;;
  down)
    down "${2:?usage: run.sh down DIR}"; exit 0 ;;
  images)
    dir=${2:?usage: run.sh images DIR}
    images=$("$here/images.sh")
    ctr="$("$here/debian.sh" containerd runc containernetworking-plugins)/x/usr/bin/ctr"
    while read -r archive _; do
      "$0" exec "$dir" "$ctr" --address "$dir/containerd/containerd.sock" -n k8s.io images import "$images/$archive" >/dev/null
    done < "$images/images.txt"
    exit 0 ;;
  check)
    # A node that runs now (another test file's, waiting its turn behind this one) is not a
    # leftover: the last run to end checks, and CI checks once everything has ended.
    if ! flock -n /run/lock/homecloud-realnode.lock true; then
      log "a real node is running now; nothing to check until it ends"; exit 0
    fi
    left=$(leftovers)
    [ -z "$left" ] || { echo "a real-node run left this on the machine:" >&2; echo "$left" >&2; exit 1; }
    exit 0 ;;
  up) ;;
  *) echo "usage: run.sh up|exec|down|check DIR ..." >&2; exit 2 ;;
esac

dir=${2:?usage: run.sh up DIR [WATCH_PID]}
watch_pid=${3:-}
[ "$(id -u)" = 0 ] || { echo "run.sh: a real node needs root (namespaces, cgroups, mounts)" >&2; exit 3; }
mkdir -p "$dir"; dir=$(cd "$dir" && pwd)
started=$(date +%s.%N)

# Everything is built (or taken from the cache) before anything starts.
"$here/../controlplane/build.sh" >/dev/null
"$here/../controlplane/build.sh" node >/dev/null
"$here/images.sh" >/dev/null
"$here/debian.sh" containerd runc containernetworking-plugins >/dev/null

# One node per machine: the lock is held from here until `down` has undone everything, by a
# small process that ends when `down` removes DIR/lock-held (or DIR goes).
# (Two test files that each start one may run at once in a test run: the second waits its turn,
# which can be the first file's whole run.)
exec 9>/run/lock/homecloud-realnode.lock
if ! flock -n 9; then
  log "another real node runs on this machine; waiting for it to finish (up to an hour)"
  flock -w 3600 9 || { echo "run.sh: another real node still runs on this machine after an hour" >&2; exit 3; }
fi
: > "$dir/lock-held"
setsid bash -c 'while [ -e "$1" ]; do sleep 0.2; done' lock-holder "$dir/lock-held" < /dev/null > /dev/null 2>&1 &
exec 9>&-
remove_cgroups   # a run that crashed before its reaper could finish

: > "$dir/created-dirs"
for d in $created_dirs; do
  [ -d "$d" ] || { mkdir -p "$d"; echo "$d" >> "$dir/created-dirs"; }
done
: > "$dir/node-state"

setsid unshare --pid --fork --mount-proc --net --mount --propagation private \
  bash "$here/inside.sh" "$dir" > "$dir/inside.log" 2>&1 < /dev/null &
outer=$!
for _ in $(seq 100); do
  inner=$(cat "/proc/$outer/task/$outer/children" 2>/dev/null | awk '{print $1}')
  [ -n "$inner" ] && break
  sleep 0.05
done
[ -n "$inner" ] || { log "the namespaces did not start"; cat "$dir/inside.log" >&2; down "$dir"; exit 1; }
echo "$inner" > "$dir/ns-pid"

if [ -n "$watch_pid" ]; then
  setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; exec "$2" down "$3"' \
    reaper "$watch_pid" "$here/run.sh" "$dir" >/dev/null 2>&1 < /dev/null &
fi

t=0
until [ "$(cat "$dir/node-state")" = ready ]; do
  if [ "$(cat "$dir/node-state")" = failed ] || ! kill -0 "$inner" 2>/dev/null || [ "$t" -ge 3000 ]; then
    log "the node did not start; its log:"; tail -n 30 "$dir/inside.log" >&2
    down "$dir"; exit 1
  fi
  sleep 0.1; t=$((t + 1))
done
elapsed=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
log "control plane and node ready in ${elapsed}s (kubeconfig $dir/kubeconfig, inside: run.sh exec $dir …)"
echo "$elapsed" > "$dir/startup-seconds"
