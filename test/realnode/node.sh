#!/usr/bin/env bash
# A real node named docker-desktop for the control plane in DIR: containerd + runc and CNI from
# Debian, kubelet and kube-proxy at the control plane's version, CoreDNS for Service names, and
# the storage of the chosen Docker Desktop mode. Runs inside run.sh's namespaces (its own
# network, mounts and pids), which is why fixed ports and paths are fine here.
#
#   node.sh DIR     (after cluster.sh up DIR with HOMECLOUD_NODE=real); returns once Ready.
# Env: HOMECLOUD_STORAGE=hostpath (kubeadm mode: docker.io/hostpath) | local-path (kind mode)
set -euo pipefail
dir=${1:?usage: node.sh DIR}
here=$(cd "$(dirname "$0")" && pwd)
storage=${HOMECLOUD_STORAGE:-hostpath}
node_ip=${NODE_IP:?NODE_IP is not set}
export KUBECONFIG="$dir/kubeconfig"
log() { printf '[node %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
start() { local name=$1; shift; "$@" >"$dir/$name.log" 2>&1 & echo "$! $name" >> "$dir/pids"; }
wait_for() { # what, seconds, command...
  local what=$1 limit=$2 t=0; shift 2
  until "$@" >/dev/null 2>&1; do
    sleep 0.2; t=$((t + 1))
    [ "$t" -lt $((limit * 5)) ] || { log "$what did not come up in ${limit}s; see $dir/*.log"; return 1; }
  done
}

bin=$("$here/../controlplane/build.sh" node --cached-only)
images=$("$here/images.sh")
deb=$("$here/debian.sh" containerd runc containernetworking-plugins)/x
export PATH="$deb/usr/bin:$deb/usr/sbin:$PATH"

# --- containerd: its own root, state and sockets; the one setting this VM needs
# (restrict_oom_score_adj: no CAP_SYS_RESOURCE, see ../../docs or README.md); cgroupfs.
c="$dir/containerd"; mkdir -p "$c" "$dir/cni/net.d"
cat > "$c/config.toml" <<TOML
version = 2
root = "$c/root"
state = "$c/state"
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$c/containerd.sock"
[ttrpc]
  address = "$c/containerd.sock.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "$deb/usr/sbin/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$deb/usr/lib/cni"
    conf_dir = "$dir/cni/net.d"
    max_conf_num = 1
TOML
cat > "$dir/cni/net.d/10-homecloud.conflist" <<JSON
{"cniVersion": "1.0.0", "name": "homecloud", "plugins": [
  {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.244.0.0/24"}]], "routes": [{"dst": "0.0.0.0/0"}],
            "dataDir": "$dir/cni/ipam"}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
JSON
start containerd containerd --config "$c/config.toml"
wait_for containerd 30 ctr --address "$c/containerd.sock" version

# The stand-in images, under the references the manifests carry.
# Each also under repository@digest, the name a pull by digest gives it, so manifests pinned by
# images.lock.json find it too; DIR/image-digests lists "reference digest" for the tests' lock.
: > "$dir/image-digests"
while read -r archive reference; do
  ctr --address "$c/containerd.sock" -n k8s.io images import --no-unpack=false "$images/$archive" >/dev/null
  digest=$(ctr --address "$c/containerd.sock" -n k8s.io images ls "name==$reference" | awk 'NR == 2 { print $3 }')
  ctr --address "$c/containerd.sock" -n k8s.io images tag --force "$reference" "${reference%:*}@$digest" >/dev/null
  echo "$reference $digest" >> "$dir/image-digests"
done < "$images/images.txt"
log "images: $(cut -d' ' -f2 "$images/images.txt" | tr '\n' ' ')"

# --- CoreDNS on the node's address: pods resolve database, cache… (clusterDNS below).
cat > "$dir/Corefile" <<EOF2
.:53 {
  bind $node_ip
  errors
  cache 5
  kubernetes cluster.local in-addr.arpa ip6.arpa {
    kubeconfig $dir/kubeconfig homecloud-test
    pods insecure
  }
}
EOF2
start coredns "$bin/coredns" -conf "$dir/Corefile"
echo "nameserver $node_ip" > "$dir/resolv.conf"

# --- kubelet
cat > "$dir/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $node_ip
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
cgroupDriver: cgroupfs
failSwapOn: false
failCgroupV1: false
containerRuntimeEndpoint: unix://$c/containerd.sock
clusterDNS: [$node_ip]
clusterDomain: cluster.local
resolvConf: $dir/resolv.conf
makeIPTablesUtilChains: false
podLogsDir: $dir/pod-logs
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $dir/pki/ca.crt}
authorization: {mode: Webhook}
# The test machine's disk is shared with other work: never evict or collect the family's
# pods or the imported images because of it.
evictionHard: {memory.available: 100Mi, nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
YAML
start kubelet "$bin/kubelet" --config "$dir/kubelet.yaml" --kubeconfig "$dir/kubeconfig" \
  --root-dir "$dir/kubelet" --cert-dir "$dir/kubelet-pki" --hostname-override docker-desktop \
  --node-ip "$node_ip"
wait_for "the node" 60 kubectl wait --for=condition=Ready node/docker-desktop --timeout=1s

# --- kube-proxy: ClusterIP Services. masquerade-all: replies between pods on the one bridge
# come back through the node without the host's br_netfilter module.
start kube-proxy "$bin/kube-proxy" --kubeconfig "$dir/kubeconfig" --hostname-override docker-desktop \
  --proxy-mode iptables --masquerade-all --cluster-cidr 10.244.0.0/16 --conntrack-max-per-core 0 \
  --conntrack-tcp-timeout-established 0 --conntrack-tcp-timeout-close-wait 0 \
  --metrics-bind-address 127.0.0.1:10249 --healthz-bind-address 127.0.0.1:10256

# --- storage, as Docker Desktop has it in each mode.
default_class() { # NAME PROVISIONER BINDING-MODE
  kubectl apply -f - >/dev/null <<YAML
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: $1
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: $2
reclaimPolicy: Delete
volumeBindingMode: $3
YAML
}
mkdir -p "$dir/storage"
if [ "$storage" = local-path ]; then
  # kind mode (and k3s): rancher's local-path-provisioner, class "standard", bound when a pod is placed.
  lp="$dir/local-path"; mkdir -p "$lp"
  # (apply: after a reboot, power.sh runs this again)
  kubectl create namespace local-path-storage --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  cat > "$lp/config.json" <<JSON
{"nodePathMap": [{"node": "DEFAULT_PATH_FOR_NON_LISTED_NODES", "paths": ["$dir/storage"]}]}
JSON
  cat > "$lp/helperPod.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: helper-pod}
spec:
  priorityClassName: system-node-critical
  containers:
  - name: helper-pod
    image: docker.io/library/busybox:1.36
    imagePullPolicy: IfNotPresent
YAML
  # The release's own setup and teardown scripts (deploy/local-path-storage.yaml).
  printf '#!/bin/sh\nset -eu\nmkdir -m 0777 -p "$VOL_DIR"\n' > "$lp/setup"
  printf '#!/bin/sh\nset -eu\nrm -rf "$VOL_DIR"\n' > "$lp/teardown"
  kubectl create configmap local-path-config -n local-path-storage --from-file="$lp/config.json" \
    --from-file="$lp/helperPod.yaml" --from-file="$lp/setup" --from-file="$lp/teardown" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  CONFIG_MOUNT_PATH="$lp" start local-path-provisioner "$bin/local-path-provisioner" start \
    --config "$lp/config.json" --provisioner-name rancher.io/local-path --namespace local-path-storage \
    --helper-image docker.io/library/busybox:1.36 --kubeconfig "$dir/kubeconfig" --service-account-name default
  default_class standard rancher.io/local-path WaitForFirstConsumer
else
  # kubeadm mode: docker.io/hostpath makes a folder per claim, writable by every user, and
  # deletes it with the volume.
  default_class hostpath docker.io/hostpath Immediate
  start hostpath-provisioner env HOMECLOUD_BINDER_FOLDERS=1 bash "$here/../controlplane/volume-binder.sh" "$dir"
fi
wait_for "the default service account" 30 kubectl get serviceaccount default -n default
log "node docker-desktop ready ($storage storage)"
