#!/usr/bin/env python3
"""Packs a root file system folder into a one-layer OCI image archive that `ctr images import`
loads under the given reference (the manifests' own, e.g. docker.io/library/postgres:18-alpine).

  oci.py ROOTFS OUT.tar REFERENCE CONFIG_JSON [OWNERS_FILE]

CONFIG_JSON is the image config's "config" part (User, Env, Entrypoint, Cmd, WorkingDir).
OWNERS_FILE lines: `PATH UID GID` (PATH and all below it; later lines win). Everything else is
root-owned, whoever built the folder. Timestamps are fixed so that the same inputs give the same
digest."""
import hashlib, io, json, os, sys, tarfile

rootfs, out, reference, config_json = sys.argv[1:5]
owners = []
if len(sys.argv) > 5:
    for line in open(sys.argv[5]):
        if line.strip() and not line.startswith("#"):
            path, uid, gid = line.split()
            owners.append((path.strip("/"), int(uid), int(gid)))

def owner(rel):
    uid = gid = 0
    for path, u, g in owners:
        if rel == path or rel.startswith(path + "/"):
            uid, gid = u, g
    return uid, gid

layer = io.BytesIO()
with tarfile.open(fileobj=layer, mode="w", format=tarfile.PAX_FORMAT) as tar:
    for top, dirs, files in os.walk(rootfs):
        dirs.sort()
        for name in sorted(dirs) + sorted(files):
            full = os.path.join(top, name)
            rel = os.path.relpath(full, rootfs)
            info = tar.gettarinfo(full, arcname=rel)
            info.uid, info.gid = owner(rel)
            info.uname = info.gname = ""
            info.mtime = 1700000000
            if info.isreg():
                with open(full, "rb") as f:
                    tar.addfile(info, f)
            else:
                tar.addfile(info)
layer = layer.getvalue()

def blob(data):
    return "sha256:" + hashlib.sha256(data).hexdigest(), data

layer_digest, _ = blob(layer)
config = {
    "architecture": "amd64", "os": "linux", "created": "2023-11-14T22:13:20Z",
    "config": json.loads(config_json),
    "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
    "history": [{"created": "2023-11-14T22:13:20Z", "created_by": "homecloud test/realnode/images.sh"}],
}
config_digest, config_bytes = blob(json.dumps(config, sort_keys=True).encode())
manifest = {
    "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": len(config_bytes)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest, "size": len(layer)}],
}
manifest_digest, manifest_bytes = blob(json.dumps(manifest, sort_keys=True).encode())
index = {
    "schemaVersion": 2,
    "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest, "size": len(manifest_bytes),
        "platform": {"architecture": "amd64", "os": "linux"},
        "annotations": {"io.containerd.image.name": reference,
                        "org.opencontainers.image.ref.name": reference.rsplit(":", 1)[-1]},
    }],
}

with tarfile.open(out + ".part", "w") as archive:
    def add(name, data):
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = len(data), 1700000000, 0o644
        archive.addfile(info, io.BytesIO(data))
    add("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
    add("index.json", json.dumps(index).encode())
    for digest, data in ((layer_digest, layer), (config_digest, config_bytes), (manifest_digest, manifest_bytes)):
        add("blobs/sha256/" + digest.split(":")[1], data)
os.replace(out + ".part", out)
print(manifest_digest)
