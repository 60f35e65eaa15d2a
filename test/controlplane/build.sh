#!/usr/bin/env bash
# Builds the control-plane binaries the integration tier runs (kube-apiserver,
# kube-controller-manager, kube-scheduler, etcd, kwok) from Go modules, because
# no container engine or release download is available. The result is cached
# outside the checkout, keyed by version, and never rebuilt once complete.
#
# Usage: test/controlplane/build.sh                 prints the binary folder on stdout
#        test/controlplane/build.sh --cached-only   exit 1 instead of building
#        test/controlplane/build.sh node [--cached-only]
#             the real node's binaries instead (kubelet, kube-proxy at the same version, CoreDNS,
#             rancher's local-path-provisioner, a pause program), in a folder of their own
# Env:   HOMECLOUD_K8S_CACHE  cache root (default: $HOME/.cache/homecloud-k8s)
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-1.34.4}
ETCD_VERSION=${ETCD_VERSION:-3.6.16}
KWOK_VERSION=${KWOK_VERSION:-0.7.0}
ROOT=${HOMECLOUD_K8S_CACHE:-$HOME/.cache/homecloud-k8s}
BIN="$ROOT/k8s-v$K8S_VERSION-etcd-v$ETCD_VERSION-kwok-v$KWOK_VERSION"
STAMP="$BIN/.complete"

CONF="$BIN/kwok-config"

# Builds commands of k8s.io/kubernetes (cmd/NAME) at K8S_VERSION into OUT, in a module of its own
# under $work. k8s.io/kubernetes requires its staging modules at v0.0.0 with local replaces;
# each is pointed at its published v0.<minor>.<patch> instead. Without the version ldflags the
# binaries report v0.0.0 and version-sniffing clients misbehave.
build_k8s() { # OUT NAME...
  local out=$1 m p; shift
  mkdir -p "$work/k8s-$1" && cd "$work/k8s-$1"
  go mod init local/k8sbuild >/dev/null 2>&1
  local gomod; gomod=$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/.*"GoMod": "\([^"]*\)".*/\1/p')
  for m in $(grep -oE 'k8s\.io/[a-z0-9-]+ v0\.0\.0$' "$gomod" | cut -d' ' -f1); do
    go mod edit "-replace=$m=$m@v0.${K8S_VERSION#1.}"
  done
  echo 'godebug default=go1.24' >> go.mod
  go get $(for m in "$@"; do echo "k8s.io/kubernetes/cmd/$m@v$K8S_VERSION"; done) >&2
  local minor ld="-s -w"; minor=$(echo "$K8S_VERSION" | cut -d. -f2)
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=v$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  go build -trimpath -ldflags "$ld" -o "$out/" $(for m in "$@"; do echo "k8s.io/kubernetes/cmd/$m"; done) >&2
}

# The real node's Go programs. Same recipe as the control plane (modules, static, version ldflags),
# cached by every version that goes into them.
COREDNS_VERSION=${COREDNS_VERSION:-1.14.7}
LOCAL_PATH_VERSION=${LOCAL_PATH_VERSION:-0.0.30}
if [ "${1:-}" = node ]; then
  NODE="$ROOT/node-k8s-v$K8S_VERSION-coredns-v$COREDNS_VERSION-local-path-v$LOCAL_PATH_VERSION"
  if [ -f "$NODE/.complete" ]; then echo "$NODE"; exit 0; fi
  [ "${2:-}" = --cached-only ] && exit 1
  command -v go >/dev/null || { echo "build.sh: Go is not installed; cannot build the node" >&2; exit 3; }
  export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
  log() { printf '[node build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
  mkdir -p "$NODE"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  start=$(date +%s)
  if [ ! -x "$NODE/kubelet" ] || [ ! -x "$NODE/kube-proxy" ]; then
    log "kubelet and kube-proxy v$K8S_VERSION"
    build_k8s "$NODE" kubelet kube-proxy
  fi
  if [ ! -x "$NODE/coredns" ]; then
    log "CoreDNS v$COREDNS_VERSION (only the plugins the node uses: bind, errors, log, cache, kubernetes)"
    mkdir "$work/coredns" && cd "$work/coredns"
    go mod init local/coredns >/dev/null 2>&1
    # CoreDNS's documented way to a smaller server: its own main with a chosen directive list.
    cat > main.go <<'GO'
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/log"
)

func init() { dnsserver.Directives = []string{"bind", "errors", "log", "cache", "kubernetes"} }

func main() { coremain.Run() }
GO
    go get "github.com/coredns/coredns@v$COREDNS_VERSION" >&2
    go mod tidy >&2
    go build -trimpath -ldflags "-s -w" -o "$NODE/coredns" . >&2
  fi
  if [ ! -x "$NODE/local-path-provisioner" ]; then
    log "local-path-provisioner v$LOCAL_PATH_VERSION"
    GOFLAGS= GOBIN="$NODE" go install -trimpath -ldflags "-s -w" "github.com/rancher/local-path-provisioner@v$LOCAL_PATH_VERSION" >&2
  fi
  if [ ! -x "$NODE/pause" ]; then
    # The sandbox image's one program: sleeps until told to stop (the real one's registry is not reachable).
    mkdir "$work/pause" && cd "$work/pause"
    go mod init local/pause >/dev/null 2>&1
    cat > main.go <<'GO'
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
}
GO
    go build -trimpath -ldflags "-s -w" -o "$NODE/pause" . >&2
  fi
  touch "$NODE/.complete"
  log "done in $(( $(date +%s) - start )) s"
  echo "$NODE"
  exit 0
fi

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
  log "kubernetes v$K8S_VERSION: compiling (tens of minutes on 2 cores when cold)"
  build_k8s "$BIN" kube-apiserver kube-controller-manager kube-scheduler
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
