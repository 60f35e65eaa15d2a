#!/usr/bin/env bash
# Stands in for Docker Desktop's storage provisioner, which the test cluster does not have:
# for every pending claim it creates a matching PersistentVolume pre-bound to that claim,
# as a provisioner would, and deletes released ones (reclaim policy Delete). The folder
# is never written (no pod ever runs here).
# With HOMECLOUD_BINDER_FOLDERS=1 (the real node) it also does what docker.io/hostpath does with
# the folder: DIR/storage/k8s-pvs/<claim>/<volume>, made writable by every user, and removed
# with the volume.
#
#   volume-binder.sh DIR      (KUBECONFIG=DIR/kubeconfig), runs until killed
set -uo pipefail
dir=${1:?usage: volume-binder.sh DIR}
export KUBECONFIG="$dir/kubeconfig"

while :; do
  kubectl get pvc --all-namespaces -o jsonpath='{range .items[?(@.status.phase=="Pending")]}{.metadata.namespace} {.metadata.name} {.metadata.uid} {.spec.resources.requests.storage} {.spec.storageClassName}{"\n"}{end}' 2>/dev/null |
  while read -r ns name uid size class; do
    [ -n "$uid" ] || continue
    pv="pvc-$uid"
    kubectl get pv "$pv" >/dev/null 2>&1 && continue
    folder="$dir/volumes/$pv"
    if [ -n "${HOMECLOUD_BINDER_FOLDERS:-}" ]; then
      folder="$dir/storage/k8s-pvs/$name/$pv"
      mkdir -p "$folder" && chmod 0777 "$folder"
    fi
    kubectl apply -f - >/dev/null <<YAML && echo "bound $ns/$name to $pv"
apiVersion: v1
kind: PersistentVolume
metadata:
  name: $pv
  labels: {homecloud-test/binder: "true"}
  annotations: {pv.kubernetes.io/provisioned-by: docker.io/hostpath}
spec:
  capacity: {storage: $size}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Delete
  storageClassName: ${class:-hostpath}
  hostPath: {path: "$folder", type: DirectoryOrCreate}
  claimRef: {namespace: $ns, name: $name, uid: $uid}
YAML
  done
  # Reclaim policy Delete: remove released volumes, as the provisioner would.
  kubectl get pv -l homecloud-test/binder=true -o jsonpath='{range .items[?(@.status.phase=="Released")]}{.metadata.name} {.spec.hostPath.path}{"\n"}{end}' 2>/dev/null |
  while read -r pv folder; do
    [ -n "$pv" ] && kubectl delete pv "$pv" --wait=false >/dev/null 2>&1 && echo "deleted released $pv" || continue
    if [ -n "${HOMECLOUD_BINDER_FOLDERS:-}" ]; then rm -rf "$folder" && rmdir "$(dirname "$folder")" 2>/dev/null; fi
  done
  sleep 1
done
