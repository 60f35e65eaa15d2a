#!/usr/bin/env python3
"""Gives the simulated node's pods what a kubelet would: a file system, exec and logs.

kwok marks pods Running but runs nothing. For `kubectl exec`, `kubectl cp` and `kubectl logs`
to work through the real API server, this watcher gives every scheduled pod a folder
(DIR/pods/<namespace>_<name>_<uid>/) and tells kwok about it with two of kwok's own
resources, per pod:

- an Exec whose local target runs each command through pod-enter.sh, which chroots into the
  container's folder in a private mount namespace, with the host's programs read-only and the
  pod's volumes bind-mounted where the pod spec mounts them (a claim's volume is the
  PersistentVolume's hostPath folder, shared with every other pod that mounts it, as on a
  real node; a hostPath volume is DIR/node/<path>; emptyDir, ConfigMap and Secret volumes are
  folders of the pod);
- a Logs whose file per container (CRI log format) tests append to, as a runtime would;

and then marks the pod prepared, the sign kwok waits for before it reports the pod Running.

    pod-sim.py DIR      (KUBECONFIG=DIR/kubeconfig), runs until killed
"""
import base64
import json
import os
import subprocess
import sys
import time

cluster = sys.argv[1]
env = dict(os.environ, KUBECONFIG=os.path.join(cluster, "kubeconfig"))
here = os.path.dirname(os.path.abspath(__file__))


def kubectl(*args, stdin=None):
    return subprocess.run(["kubectl", *args], env=env, input=stdin, capture_output=True, text=True)


def get_json(*args):
    r = kubectl(*args, "-o", "json")
    return json.loads(r.stdout) if r.returncode == 0 else None


def write_data(folder, data, binary=False):
    os.makedirs(folder, exist_ok=True)
    for key, value in (data or {}).items():
        with open(os.path.join(folder, key), "wb") as f:
            f.write(base64.b64decode(value) if binary else value.encode())


def volume_sources(pod, folder):
    """Host folder of each pod volume, or None while one is not ready (claim still unbound)."""
    ns = pod["metadata"]["namespace"]
    sources = {}
    for v in pod["spec"].get("volumes", []):
        name = v["name"]
        own = os.path.join(folder, "volumes", name)
        if "persistentVolumeClaim" in v:
            claim = get_json("get", "pvc", "-n", ns, v["persistentVolumeClaim"]["claimName"])
            pv_name = claim and claim["spec"].get("volumeName")
            pv = pv_name and get_json("get", "pv", pv_name)
            path = pv and pv["spec"].get("hostPath", {}).get("path")
            if not path:
                return None
            os.makedirs(path, exist_ok=True)
            sources[name] = path
        elif "configMap" in v:
            cm = get_json("get", "configmap", "-n", ns, v["configMap"]["name"]) or {}
            write_data(own, cm.get("data"))
            sources[name] = own
        elif "secret" in v:
            secret = get_json("get", "secret", "-n", ns, v["secret"]["secretName"]) or {}
            write_data(own, secret.get("data"), binary=True)
            sources[name] = own
        elif "hostPath" in v:
            # The node's own file system, kept under the cluster folder (DIR/node/<path>) and
            # shared by every pod, as on a real node: tests look there for what a pod wrote.
            path = os.path.join(cluster, "node", v["hostPath"]["path"].lstrip("/"))
            if v["hostPath"].get("type") == "DirectoryOrCreate":
                os.makedirs(path, exist_ok=True)
            sources[name] = path
        else:  # emptyDir and anything else: a folder of the pod's own
            os.makedirs(own, exist_ok=True)
            sources[name] = own
    return sources


def container_env(pod, container):
    """The container's environment, as a kubelet gives it: values, and keys of Secrets and
    ConfigMaps resolved (what `kubectl exec` sees in a real container)."""
    ns = pod["metadata"]["namespace"]
    out = []
    for e in container.get("env", []):
        value = e.get("value")
        ref = e.get("valueFrom", {})
        if "secretKeyRef" in ref:
            secret = get_json("get", "secret", "-n", ns, ref["secretKeyRef"]["name"]) or {}
            raw = secret.get("data", {}).get(ref["secretKeyRef"]["key"])
            value = base64.b64decode(raw).decode() if raw is not None else None
        elif "configMapKeyRef" in ref:
            cm = get_json("get", "configmap", "-n", ns, ref["configMapKeyRef"]["name"]) or {}
            value = cm.get("data", {}).get(ref["configMapKeyRef"]["key"])
        if value is not None:
            out.append({"name": e["name"], "value": value})
    return out


def never_ready(pod):
    """A build a test made that never starts (DIR/never-ready lists its image references, one a
    line): its pod is never prepared, so kwok never reports it Running or Ready, as a real node
    leaves a container whose readiness probe keeps failing."""
    try:
        with open(os.path.join(cluster, "never-ready")) as f:
            refs = {line.strip() for line in f if line.strip()}
    except FileNotFoundError:
        return False
    return any(c.get("image") in refs for c in pod["spec"]["containers"])


def prepare(pod):
    meta = pod["metadata"]
    if never_ready(pod):
        return False
    folder = os.path.join(cluster, "pods", f"{meta['namespace']}_{meta['name']}_{meta['uid']}")
    sources = volume_sources(pod, folder)
    if sources is None:
        return False
    containers = pod["spec"].get("initContainers", []) + pod["spec"]["containers"]
    execs, logs = [], []
    for c in containers:
        name = c["name"]
        os.makedirs(os.path.join(folder, f"root-{name}"), exist_ok=True)
        with open(os.path.join(folder, f"mounts-{name}"), "w") as f:
            for m in c.get("volumeMounts", []):
                src = sources.get(m["name"])
                if src is None:
                    continue
                if m.get("subPath"):
                    src = os.path.join(src, m["subPath"])
                f.write(f"{src}\t{m['mountPath']}\t{'ro' if m.get('readOnly') else 'rw'}\n")
        log = os.path.join(folder, "logs", f"{name}.log")
        os.makedirs(os.path.dirname(log), exist_ok=True)
        open(log, "a").close()
        open(log + ".previous", "a").close()
        execs.append({"containers": [name], "local": {"workDir": folder, "envs": container_env(pod, c) + [
            {"name": "HOMECLOUD_POD_DIR", "value": folder}, {"name": "HOMECLOUD_CONTAINER", "value": name},
            # What an image bakes into its environment (NEXTCLOUD_VERSION…), stand-ins read off its name.
            {"name": "HOMECLOUD_IMAGE", "value": c.get("image", "")}]}})
        logs.append({"containers": [name], "logsFile": log, "previousLogsFile": log + ".previous", "follow": True})
    objects = [
        {"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Exec",
         "metadata": {"name": meta["name"], "namespace": meta["namespace"]}, "spec": {"execs": execs}},
        {"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Logs",
         "metadata": {"name": meta["name"], "namespace": meta["namespace"]}, "spec": {"logs": logs}},
    ]
    r = kubectl("apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))
    if r.returncode != 0:
        print(f"could not configure {meta['namespace']}/{meta['name']}: {r.stderr.strip()}", flush=True)
        return False
    # Only now may kwok report the pod Running (see cluster.sh), as a kubelet does once the
    # containers have started.
    # A Job's container "prints" a termination message (the backup's summary) that a test left in
    # DIR/messages/<container>: kwok's completion stage copies it from this annotation.
    # DIR/fail/<container> makes it fail instead (kwok's pod-fail stage, see cluster.sh).
    messages = []
    if any(r.get("kind") == "Job" for r in meta.get("ownerReferences", [])):
        for c in pod["spec"]["containers"]:
            f = os.path.join(cluster, "messages", c["name"])
            if os.path.isfile(f):
                with open(f) as fh:
                    messages.append(f"homecloud-test/message-{c['name']}={fh.read()}")
            if os.path.isfile(os.path.join(cluster, "fail", c["name"])):
                messages.append("homecloud-test/fail=true")
    r = kubectl("annotate", "pod", "-n", meta["namespace"], meta["name"], "homecloud-test/prepared=true", *messages, "--overwrite")
    if r.returncode != 0:
        print(f"could not mark {meta['namespace']}/{meta['name']} prepared: {r.stderr.strip()}", flush=True)
        return False
    # Tests find a pod's folder by name through this link (the newest pod of that name wins).
    link = os.path.join(cluster, "pods", f"{meta['namespace']}_{meta['name']}")
    tmp = link + ".tmp"
    if os.path.lexists(tmp):
        os.remove(tmp)
    os.symlink(folder, tmp)
    os.replace(tmp, link)
    print(f"pod {meta['namespace']}/{meta['name']}: {folder}", flush=True)
    return True


done = set()
while True:
    listing = get_json("get", "pods", "--all-namespaces")
    for pod in (listing or {}).get("items", []):
        uid = pod["metadata"]["uid"]
        if uid in done or not pod["spec"].get("nodeName") or pod["metadata"].get("deletionTimestamp"):
            continue
        try:
            if prepare(pod):
                done.add(uid)
        except Exception as e:  # keep serving the other pods; say what went wrong
            print(f"pod {pod['metadata']['name']}: {e}", flush=True)
    time.sleep(0.5)
