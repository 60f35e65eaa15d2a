'use strict';
// The maintenance lock's cost, on the test control plane (a real kube-apiserver):
// - a night: lease.sh take + release (curl, the service account's token) beside a baseline of
//   the same number of plain curl requests to the API server (the floor for any check);
// - a command: `homecloud backup`'s lock alone, taken and released by the client's own code in a
//   Node process, beside a Node process that makes the same connection and two plain GETs.
require('../scripts/ts-register');
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { median, timeCommand, report } = require('./lib');
const { controlPlaneAvailable, startControlPlane } = require('../test/support/control-plane.ts');
const { synth } = require('../lib/stack/synth.ts');
const { HOST } = require('../test/support/stack.ts');

module.exports = async function benchMaintenance({ runs }) {
  const ready = controlPlaneAvailable();
  if (!ready.ok) {
    console.log(`\n## maintenance: skipped (${ready.reason})`);
    return undefined;
  }
  const root = path.join(__dirname, '..');
  const cluster = startControlPlane();
  try {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-bench-lock-'));
    const outdir = path.join(work, 'dist');
    if (synth({}, HOST, { outdir, credentials: path.join(work, 'credentials.json') }, () => undefined) !== 0) throw new Error('synth failed');
    const env = { ...process.env, KUBECONFIG: cluster.kubeconfig, HOMECLOUD_OUTDIR: outdir, HOMECLOUD_CREDENTIALS: path.join(work, 'credentials.json') };
    const deployed = spawnSync(process.execPath, [path.join(root, 'bin', 'homecloud.js'), 'deploy', '--no-wait', '--context', 'homecloud-test'], { env, encoding: 'utf8' });
    if (deployed.status !== 0) throw new Error(`deploy failed: ${deployed.stderr}`);
    const sa = path.join(work, 'sa');
    fs.mkdirSync(sa);
    fs.writeFileSync(path.join(sa, 'token'), cluster.kubectl(['create', 'token', 'maintenance-lock', '-n', 'homecloud']).trim());
    fs.copyFileSync(path.join(cluster.dir, 'pki', 'ca.crt'), path.join(sa, 'ca.crt'));
    fs.writeFileSync(path.join(sa, 'namespace'), 'homecloud');
    const server = /server: (\S+)/.exec(fs.readFileSync(cluster.kubeconfig, 'utf8'))[1];
    const nightEnv = { ...process.env, SERVICE_ACCOUNT_DIR: sa, KUBERNETES_API: server, LEASE_STATE: path.join(work, 'lease') };
    const leaseSh = path.join(root, 'lib', 'backup', 'scripts', 'lease.sh');
    const night = ['sh', ['-c', `sh "${leaseSh}" take >/dev/null && sh "${leaseSh}" release`]];
    // A GET (the lease) and a POST/DELETE: three requests, as plain curl with the same token.
    const get = `curl -s -o /dev/null --cacert "${sa}/ca.crt" -H "Authorization: Bearer $(cat "${sa}/token")" "${server}/apis/coordination.k8s.io/v1/namespaces/homecloud/leases/maintenance"`;
    const curl3 = ['sh', ['-c', `${get} && ${get} && ${get}`]];
    const client = `require(${JSON.stringify(path.join(root, 'scripts', 'ts-register'))});`
      + `const { connect } = require(${JSON.stringify(path.join(root, 'client', 'kube.ts'))});`
      + `const { withLock } = require(${JSON.stringify(path.join(root, 'client', 'maintenance-lock.ts'))});`
      + 'const io = { out() {}, err() {}, now: () => new Date(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };';
    const locked = [process.execPath, ['-e', `${client}connect({ context: 'homecloud-test' }).then((k) => withLock(k, 'homecloud', 'backup', io, { yes: false }, async () => 0)).then(() => process.exit(0), (e) => { console.error(e.message); process.exit(1); });`]];
    const plain = [process.execPath, ['-e', `${client}connect({ context: 'homecloud-test' }).then(async (k) => { await k.get('/api/v1/namespaces/homecloud'); await k.get('/apis/coordination.k8s.io/v1/namespaces/homecloud/leases/maintenance'); }).then(() => process.exit(0), (e) => { console.error(e.message); process.exit(1); });`]];
    const t = { night: [], curl: [], locked: [], plain: [] };
    for (let i = 0; i < runs; i++) {
      t.night.push(...timeCommand(...night, { runs: 1, env: nightEnv }));
      t.curl.push(...timeCommand(...curl3, { runs: 1 }));
      t.locked.push(...timeCommand(...locked, { runs: 1, env }));
      t.plain.push(...timeCommand(...plain, { runs: 1, env }));
    }
    const ms = (v) => `${(median(v) * 1000).toFixed(0)} ms`;
    report(`the maintenance lock on a real API server (median of ${runs} alternating runs)`, [
      ['night: lease.sh take + release', ms(t.night)],
      ['baseline: 3 plain curl requests', ms(t.curl)],
      ['ratio night lock / 3 curl requests', (median(t.night) / median(t.curl)).toFixed(2)],
      ['command: connect + take + record + release', ms(t.locked)],
      ['baseline: connect + 2 plain GETs', ms(t.plain)],
      ['lock cost per command (difference)', `${((median(t.locked) - median(t.plain)) * 1000).toFixed(0)} ms`],
    ]);
    return t;
  } finally {
    cluster.stop();
  }
};
