'use strict';
// `npm run update` with nothing to update, against a real registry on loopback (Debian's
// docker-registry, the CNCF Distribution registry Docker Hub runs) behind a gate that asks for
// Docker Hub's anonymous token. Target: <= 1 s wall time (issue #28), for `update` and for the
// nightly `update --auto`. Baselines in the same run: a bare Node
// process making the same five HEAD requests in parallel (the floor for any Node client), and
// curl asking for each tag in turn.
require('../scripts/ts-register');
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { median, timeCommand, report } = require('./lib');
const { registryAvailable, startRegistry, startGate, pushImage } = require('../test/support/registry.ts');
const { DEFAULT_IMAGES } = require('../lib/config/settings.ts');
const { parseImageRef, writeLock } = require('../lib/updates/image-lock.ts');

module.exports = async function benchUpdate({ runs }) {
  const ready = registryAvailable();
  if (!ready.ok) {
    console.log(`\n## update: skipped (${ready.reason})`);
    return undefined;
  }
  const root = path.join(__dirname, '..');
  const registry = await startRegistry();
  const gate = await startGate(registry.url);
  try {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-bench-update-'));
    const images = {};
    for (const [key, ref] of Object.entries(DEFAULT_IMAGES)) {
      const r = parseImageRef(ref);
      const digest = await pushImage(registry.url, r.repository, r.tag, { architectures: ['amd64', 'arm64'], build: 'bench' });
      images[key] = { tag: ref, digest, pinnedAt: new Date().toISOString() };
    }
    const lock = path.join(work, 'images.lock.json');
    writeLock(lock, { lockfileVersion: 1, images });
    // A context the command names but never contacts: with nothing to update it needs no cluster.
    const kubeconfig = path.join(work, 'kubeconfig');
    fs.writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\n'
      + 'contexts: [{name: homecloud-test, context: {cluster: c, user: u}}]\nusers: [{name: u, user: {}}]\ncurrent-context: homecloud-test\n');
    const env = {
      ...process.env, KUBECONFIG: kubeconfig, HOMECLOUD_IMAGE_LOCK: lock, HOMECLOUD_CREDENTIALS: path.join(work, '.homecloud', 'credentials.json'),
      HOMECLOUD_OUTDIR: path.join(work, 'dist'), HOMECLOUD_REGISTRIES: `docker.io=${gate.url}`,
    };
    const update = [process.execPath, [path.join(root, 'bin', 'homecloud.js'), 'update', '--context', 'homecloud-test']];
    const check = spawnSync(...update, { env, encoding: 'utf8' });
    if (check.status !== 0 || !/Everything is up to date/.test(check.stdout)) throw new Error(`update did not find everything up to date:\n${check.stdout}${check.stderr}`);
    const refs = Object.values(DEFAULT_IMAGES).map((ref) => parseImageRef(ref));
    const bare = `const u=${JSON.stringify(gate.url)};const refs=${JSON.stringify(refs)};`
      + 'const a="application/vnd.oci.image.index.v1+json";'
      + 'const h=(r,t)=>fetch(`${u}/v2/${r.repository}/manifests/${r.tag}`,{method:"HEAD",headers:t?{Accept:a,Authorization:`Bearer ${t}`}:{Accept:a}});'
      + 'Promise.all(refs.map(async(r)=>{let x=await h(r);if(x.status===401){const c=x.headers.get("www-authenticate");'
      + 'const p=Object.fromEntries([...c.matchAll(/(\\w+)="([^"]*)"/g)].map((m)=>[m[1],m[2]]));'
      + 'const t=(await (await fetch(`${p.realm}?service=${p.service}&scope=${p.scope}`)).json()).token;x=await h(r,t);}'
      + 'if(!x.headers.get("docker-content-digest"))process.exit(1);})).catch(()=>process.exit(1));';
    const curlLoop = refs.map((r) => `t=$(curl -sf "${gate.url}/token?service=test-registry&scope=repository:${r.repository}:pull" | sed 's/.*"token":"\\([^"]*\\)".*/\\1/'); `
      + ` curl -sfI -H "Accept: application/vnd.oci.image.index.v1+json" -H "Authorization: Bearer $t" "${gate.url}/v2/${r.repository}/manifests/${r.tag}" >/dev/null`).join(' && ');
    // The nightly task's run: the same check, plus main.ts's settings and the night's record.
    const auto = [update[0], [...update[1], '--auto']];
    const night = spawnSync(...auto, { env, encoding: 'utf8' });
    if (night.status !== 0 || !/No new builds of the images in use/.test(night.stdout)) throw new Error(`update --auto did not find everything up to date:\n${night.stdout}${night.stderr}`);
    const ours = [];
    const nightly = [];
    const floor = [];
    const curl = [];
    for (let i = 0; i < runs; i++) {
      ours.push(...timeCommand(...update, { runs: 1, env }));
      nightly.push(...timeCommand(...auto, { runs: 1, env }));
      floor.push(...timeCommand(process.execPath, ['-e', bare], { runs: 1 }));
      curl.push(...timeCommand('sh', ['-c', curlLoop], { runs: 1 }));
    }
    report(`update with nothing to update, ${refs.length} images, loopback registry with Docker Hub's token flow (median of ${runs} alternating runs)`, [
      [`bare Node: ${refs.length} HEADs in parallel (floor)`, `${median(floor).toFixed(3)} s`],
      ['curl: token + HEAD per image, one after another', `${median(curl).toFixed(3)} s`],
      ['npm run update (target <= 1 s)', `${median(ours).toFixed(3)} s`],
      ['update --auto, the nightly task (target <= 1 s)', `${median(nightly).toFixed(3)} s`],
      ['ratio update / bare Node', (median(ours) / median(floor)).toFixed(2)],
      ['ratio update / curl loop', (median(ours) / median(curl)).toFixed(2)],
      ['ratio update --auto / bare Node', (median(nightly) / median(floor)).toFixed(2)],
    ]);
    return { ours, nightly, floor, curl };
  } finally {
    await gate.stop();
    await registry.stop();
  }
};
