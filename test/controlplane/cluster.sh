#!/usr/bin/env bash
# A real Kubernetes control plane on loopback for the integration tests: etcd,
# kube-apiserver, kube-controller-manager, kube-scheduler and kwok (a simulated node),
# built by build.sh. No containers ever run; everything lives in one folder.
#
#   cluster.sh up DIR [WATCH_PID]   start; writes DIR/kubeconfig; prints timings on stderr.
#                                   With WATCH_PID, everything stops when that process exits.
#   cluster.sh down DIR             stop every process this folder's cluster started, by pid.
#
# HOMECLOUD_NODE=real: the control plane only (no kwok, simulated pods or volume binder);
# test/realnode/run.sh starts it that way inside a namespace of its own and adds a real node.
set -euo pipefail

cmd=${1:?usage: cluster.sh up|down DIR [WATCH_PID]}
dir=${2:?usage: cluster.sh up|down DIR [WATCH_PID]}
here=$(cd "$(dirname "$0")" && pwd)

log() { printf '[control-plane %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

down() {
  [ -f "$dir/pids" ] || return 0
  # Newest first: kwok and the binder before the API server, etcd last.
  tac "$dir/pids" | while read -r pid name; do
    kill "$pid" 2>/dev/null && log "stopped $name ($pid)" || true
  done
  sleep 1
  tac "$dir/pids" | while read -r pid _; do kill -9 "$pid" 2>/dev/null || true; done
  rm -f "$dir/pids"
}

if [ "$cmd" = down ]; then
  down
  exit 0
fi
[ "$cmd" = up ] || { echo "usage: cluster.sh up|down DIR [WATCH_PID]" >&2; exit 2; }

watch_pid=${3:-}
bin=$("$here/build.sh")
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
: > "$dir/pids"
started=$(date +%s.%N)
trap 'log "start-up failed; stopping what was started"; down' ERR

# Six free loopback ports, chosen by the kernel.
read -r etcd_port peer_port api_port kcm_port sched_port kwok_port < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(6)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks: s.close()')

start() { # name, command...
  local name=$1; shift
  "$@" >"$dir/$name.log" 2>&1 &
  echo "$! $name" >> "$dir/pids"
}

wait_for() { # what, seconds, command...
  local what=$1 limit=$2; shift 2
  local t=0
  until "$@" >/dev/null 2>&1; do
    sleep 0.2; t=$((t + 1))
    if [ "$t" -ge $((limit * 5)) ]; then log "$what did not come up in ${limit}s; see $dir/*.log"; return 1; fi
  done
}

# --- PKI: one CA and one admin certificate serving both as server and client cert.
pki="$dir/pki"; mkdir -p "$pki"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=homecloud-test-ca" \
  -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/O=system:masters/CN=admin" \
  -keyout "$pki/admin.key" -out "$pki/admin.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' > "$pki/ext.cnf"
openssl x509 -req -in "$pki/admin.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
  -days 2 -extfile "$pki/ext.cnf" -out "$pki/admin.crt" 2>/dev/null

server="https://127.0.0.1:$api_port"
cat > "$dir/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: homecloud-test
  cluster:
    server: $server
    certificate-authority-data: $(base64 -w0 "$pki/ca.crt")
users:
- name: admin
  user:
    client-certificate-data: $(base64 -w0 "$pki/admin.crt")
    client-key-data: $(base64 -w0 "$pki/admin.key")
contexts:
- name: homecloud-test
  context: {cluster: homecloud-test, user: admin}
current-context: homecloud-test
EOF
export KUBECONFIG="$dir/kubeconfig"

if [ -n "$watch_pid" ]; then
  # Reaper: if the test runner dies (Ctrl-C, crash, kill), stop everything anyway.
  setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; exec "$2" down "$3"' \
    reaper "$watch_pid" "$here/cluster.sh" "$dir" >/dev/null 2>&1 < /dev/null &
fi

start etcd "$bin/etcd" --data-dir "$dir/etcd" --name default \
  --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
  --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-cluster "default=http://127.0.0.1:$peer_port" --unsafe-no-fsync=true --log-level=warn
wait_for etcd 30 curl -sf "http://127.0.0.1:$etcd_port/health"

start kube-apiserver "$bin/kube-apiserver" --etcd-servers "http://127.0.0.1:$etcd_port" \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port "$api_port" \
  --tls-cert-file "$pki/admin.crt" --tls-private-key-file "$pki/admin.key" --client-ca-file "$pki/ca.crt" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file "$pki/admin.key" --service-account-signing-key-file "$pki/admin.key" \
  --authorization-mode=Node,RBAC --service-cluster-ip-range=10.96.0.0/16 --allow-privileged=true \
  --kubelet-preferred-address-types=InternalIP --cert-dir "$dir/apiserver-certs" \
  --kubelet-client-certificate "$pki/admin.crt" --kubelet-client-key "$pki/admin.key"
wait_for kube-apiserver 60 curl -sf --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" "$server/readyz"

start kube-controller-manager "$bin/kube-controller-manager" --kubeconfig "$dir/kubeconfig" \
  --leader-elect=false --bind-address=127.0.0.1 --secure-port "$kcm_port" \
  --root-ca-file "$pki/ca.crt" --service-account-private-key-file "$pki/admin.key" \
  --cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key" \
  --cert-dir "$dir/kcm-certs"
start kube-scheduler "$bin/kube-scheduler" --kubeconfig "$dir/kubeconfig" \
  --leader-elect=false --bind-address=127.0.0.1 --secure-port "$sched_port" --cert-dir "$dir/scheduler-certs"
real_node=
[ "${HOMECLOUD_NODE:-}" = real ] && real_node=1
if [ -z "$real_node" ]; then
# exec, cp and logs: kwok serves them from its Exec and Logs resources (pod-sim.py writes one
# of each per pod). Its only PATH is a folder of links to pod-enter.sh, so whatever command
# `kubectl exec` names runs inside the pod's simulated file system, never on the host's.
kubectl apply -f "$bin/kwok-config/kwok.x-k8s.io_execs.yaml" -f "$bin/kwok-config/kwok.x-k8s.io_logs.yaml" >/dev/null
wait_for "kwok's resource types" 30 kubectl get execs.kwok.x-k8s.io,logs.kwok.x-k8s.io -A
# kwok's default pod stages, changed in two ways a real node behaves: a pod becomes Running
# only once its containers can be exec'd into (pod-sim.py marks it prepared), and a pod whose
# container only sleeps (the export helper) stays Running instead of completing at once like
# every other Job's pod.
python3 - "$bin/kwok-config" "$dir/kwok-stages.yaml" <<'PY'
import sys
conf, out = sys.argv[1:]
def extend(text, anchor, extra):
    assert text.count(anchor) == 1, "kwok's pod stages changed: adapt cluster.sh"
    return text.replace(anchor, anchor + extra)
ready = extend(open(f"{conf}/pod-ready.yaml").read(), "    - key: '.status.podIP'\n      operator: 'DoesNotExist'\n",
               "    - key: '.metadata.annotations[\"homecloud-test/prepared\"]'\n      operator: 'Exists'\n")
complete = extend(open(f"{conf}/pod-complete.yaml").read(), "      values:\n      - 'Job'\n",
                  "    - key: '.spec.containers.[].command.[0]'\n      operator: 'NotIn'\n      values:\n      - 'sleep'\n")
# A Job's container "prints" its termination message (the backup's summary) from the pod's
# annotation homecloud-test/message-<container> (pod-sim.py sets it from DIR/messages/).
complete = extend(complete, "            reason: Completed\n",
                  "            {{ with $root.metadata.annotations }}{{ with index . (printf \"homecloud-test/message-%s\" $item.name) }}message: {{ . | Quote }}{{ end }}{{ end }}\n")
# A Job's pod fails instead (exit 1) when pod-sim.py marked it homecloud-test/fail (a test left
# DIR/fail/<container>): the failure paths of backups, copies and upgrades.
fails = "    - key: '.metadata.annotations[\"homecloud-test/fail\"]'\n      operator: '{}'\n"
failed = extend(complete, "      values:\n      - 'Job'\n", fails.format("Exists"))
failed = failed.replace("name: pod-complete", "name: pod-fail").replace("exitCode: 0", "exitCode: 1") \
    .replace("reason: Completed", "reason: Error").replace("phase: Succeeded", "phase: Failed")
assert "exitCode: 1" in failed and "phase: Failed" in failed, "kwok's pod-complete stage changed: adapt cluster.sh"
complete = extend(complete, "      values:\n      - 'Job'\n", fails.format("DoesNotExist"))
with open(out, "w") as f:
    f.write("\n---\n".join([ready, complete, failed, open(f"{conf}/pod-delete.yaml").read()]))
PY
mkdir -p "$dir/pod-bin"
names="sh bash tar php sha256sum cat ls env test true false"
if command -v busybox >/dev/null; then names="$names $(busybox --list)"; fi
for n in $names; do ln -sf "$here/pod-enter.sh" "$dir/pod-bin/$n"; done
# What `kubectl exec` runs "in a container" inherits kwok's environment: without the test run's
# TMPDIR, a folder that does not exist in there (the images set none; scripts fall back to /tmp).
start kwok env -u TMPDIR PATH="$dir/pod-bin" "$bin/kwok" --kubeconfig "$dir/kubeconfig" --manage-all-nodes=true \
  --node-lease-duration-seconds=40 --server-address "127.0.0.1:$kwok_port" --node-port "$kwok_port" \
  --cidr=10.244.0.1/16 --node-ip=127.0.0.1 --enable-crds=Exec,Logs --config "$dir/kwok-stages.yaml"

# One node, as on Docker Desktop, sized like a modest desktop.
kubectl apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Node
metadata:
  name: docker-desktop
  labels:
    kubernetes.io/hostname: docker-desktop
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
status:
  allocatable: {cpu: "8", memory: 16Gi, pods: "110", ephemeral-storage: 200Gi}
  capacity: {cpu: "8", memory: 16Gi, pods: "110", ephemeral-storage: 200Gi}
  nodeInfo: {kubeletVersion: fake, architecture: amd64, operatingSystem: linux}
EOF
wait_for "the simulated node" 60 kubectl wait --for=condition=Ready node/docker-desktop --timeout=1s

# Docker Desktop's kubeadm-mode default StorageClass (kind mode calls it "standard").
kubectl apply -f - >/dev/null <<'EOF'
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: hostpath
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: docker.io/hostpath
reclaimPolicy: Delete
volumeBindingMode: Immediate
EOF

start volume-binder bash "$here/volume-binder.sh" "$dir"
start pod-sim python3 "$here/pod-sim.py" "$dir"
fi
wait_for "the default service account" 30 kubectl get serviceaccount default -n default

elapsed=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
trap - ERR
log "ready in ${elapsed}s: $server (kubeconfig $dir/kubeconfig)"
echo "$elapsed" > "$dir/startup-seconds"
