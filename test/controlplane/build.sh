#!/usr/bin/env bash
# Builds the control-plane binaries the integration tier runs (kube-apiserver,
# kube-controller-manager, kube-scheduler, etcd, kwok) from Go modules, because
# no container engine or release download is available. The result is cached
# outside the checkout, keyed by version, and never rebuilt once complete.
#
# Usage: test/controlplane/build.sh                 prints the binary folder on stdout
#        test/controlplane/build.sh --cached-only   exit 1 instead of building
# Env:   HOMECLOUD_K8S_CACHE  cache root (default: $HOME/.cache/homecloud-k8s)
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-1.34.4}
ETCD_VERSION=${ETCD_VERSION:-3.6.16}
KWOK_VERSION=${KWOK_VERSION:-0.7.0}
ROOT=${HOMECLOUD_K8S_CACHE:-$HOME/.cache/homecloud-k8s}
BIN="$ROOT/k8s-v$K8S_VERSION-etcd-v$ETCD_VERSION-kwok-v$KWOK_VERSION"
STAMP="$BIN/.complete"

CONF="$BIN/kwok-config"

if [ -f "$STAMP" ] && [ -f "$CONF/.complete" ]; then
  echo "$BIN"
  exit 0
fi
[ "${1:-}" = --cached-only ] && exit 1

command -v go >/dev/null || { echo "build.sh: Go is not installed; cannot build the control plane" >&2; exit 3; }

log() { printf '[control-plane build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod

# kwok's Exec and Logs resource definitions and its default pod stages, from the same module
# version as the binary (cluster.sh installs the definitions and adapts the stages).
if [ ! -f "$CONF/.complete" ]; then
  src=$(go mod download -json "sigs.k8s.io/kwok@v$KWOK_VERSION" | sed -n 's/.*"Dir": "\([^"]*\)".*/\1/p')
  mkdir -p "$CONF"
  cp "$src/kustomize/crd/bases/kwok.x-k8s.io_execs.yaml" "$src/kustomize/crd/bases/kwok.x-k8s.io_logs.yaml" \
     "$src/kustomize/stage/pod/fast/pod-ready.yaml" "$src/kustomize/stage/pod/fast/pod-complete.yaml" \
     "$src/kustomize/stage/pod/fast/pod-delete.yaml" "$CONF/"
  chmod 644 "$CONF"/*.yaml
  touch "$CONF/.complete"
fi
if [ -f "$STAMP" ]; then
  echo "$BIN"
  exit 0
fi
mkdir -p "$BIN"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
start=$(date +%s)

if [ ! -x "$BIN/kube-apiserver" ] || [ ! -x "$BIN/kube-controller-manager" ] || [ ! -x "$BIN/kube-scheduler" ]; then
  log "kubernetes v$K8S_VERSION: resolving modules"
  mkdir "$work/k8s" && cd "$work/k8s"
  go mod init local/k8sbuild >/dev/null 2>&1
  gomod=$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/.*"GoMod": "\([^"]*\)".*/\1/p')
  # k8s.io/kubernetes requires its staging modules at v0.0.0 with local replaces;
  # point each at its published v0.<minor>.<patch> instead.
  for m in $(grep -oE 'k8s\.io/[a-z0-9-]+ v0\.0\.0$' "$gomod" | cut -d' ' -f1); do
    go mod edit "-replace=$m=$m@v0.${K8S_VERSION#1.}"
  done
  echo 'godebug default=go1.24' >> go.mod
  go get "k8s.io/kubernetes/cmd/kube-apiserver@v$K8S_VERSION" \
         "k8s.io/kubernetes/cmd/kube-controller-manager@v$K8S_VERSION" \
         "k8s.io/kubernetes/cmd/kube-scheduler@v$K8S_VERSION" >&2
  minor=$(echo "$K8S_VERSION" | cut -d. -f2)
  ld="-s -w"
  # Without these the binaries report v0.0.0 and version-sniffing clients misbehave.
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=v$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  log "kubernetes v$K8S_VERSION: compiling (tens of minutes on 2 cores when cold)"
  go build -trimpath -ldflags "$ld" -o "$BIN/" k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler >&2
fi

if [ ! -x "$BIN/etcd" ]; then
  log "etcd v$ETCD_VERSION"
  mkdir "$work/etcd" && cd "$work/etcd"
  go mod init local/etcdbuild >/dev/null 2>&1
  go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" >&2
  go build -trimpath -ldflags "-s -w" -o "$BIN/etcd" go.etcd.io/etcd/server/v3 >&2
fi

if [ ! -x "$BIN/kwok" ]; then
  log "kwok v$KWOK_VERSION"
  # v0.7.0 still has built-in default stages (v0.8.0+ needs Stage files).
  GOBIN="$BIN" go install "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION" >&2
fi

"$BIN/kube-apiserver" --version >&2
touch "$STAMP"
log "done in $(( $(date +%s) - start )) s"
echo "$BIN"
