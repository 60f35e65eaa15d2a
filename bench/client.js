'use strict';
// The client against kubectl on the same real control plane (test/controlplane):
// `deploy --no-wait` of the full stack against `kubectl apply --server-side -f dist/`
// (same field manager, so both are complete, equivalent re-applies), and `status` wall time
// with the number of API requests it makes.
require('../scripts/ts-register');
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { median, timeCommand, report } = require('./lib');
const { controlPlaneAvailable, startControlPlane } = require('../test/support/control-plane.ts');
const { synth } = require('../lib/stack/synth.ts');

module.exports = async function benchClient({ runs }) {
  const ready = controlPlaneAvailable();
  if (!ready.ok) {
    console.log(`\n## client: skipped (${ready.reason})`);
    return undefined;
  }
  const root = path.join(__dirname, '..');
  const cluster = startControlPlane();
  try {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-bench-client-'));
    const outdir = path.join(work, 'dist');
    synth({}, { hostname: 'bench', lanAddresses: ['192.168.1.20'], timeZone: 'Europe/Berlin' }, { outdir, credentials: path.join(work, 'c.json') }, () => undefined);
    const env = { ...process.env, KUBECONFIG: cluster.kubeconfig, HOMECLOUD_OUTDIR: outdir };
    const homecloud = (...args) => [process.execPath, [path.join(root, 'bin', 'homecloud.js'), ...args, '--context', 'homecloud-test']];
    const first = spawnSync(...homecloud('deploy', '--no-wait'), { env, encoding: 'utf8' });
    if (first.status !== 0) throw new Error(`first deploy failed: ${first.stderr}`);
    const objects = fs.readFileSync(path.join(outdir, 'app.k8s.yaml'), 'utf8').split(/^---$/m).length;

    const ours = [];
    const theirs = [];
    for (let i = 0; i < runs; i++) {
      ours.push(...timeCommand(...homecloud('deploy', '--no-wait'), { runs: 1, env }));
      theirs.push(...timeCommand('kubectl', ['apply', '--server-side', '--field-manager=homecloud', '--force-conflicts', '-f', outdir], { runs: 1, env }));
    }
    const status = timeCommand(...homecloud('status', '--output', 'json'), { runs, env });
    const requests = JSON.parse(spawnSync(...homecloud('status', '--output', 'json'), { env, encoding: 'utf8' }).stdout).apiRequests;
    report(`client vs kubectl on the test control plane (${objects} objects, median of ${runs} alternating runs)`, [
      ['kubectl apply --server-side -f dist/', `${median(theirs).toFixed(3)} s`],
      ['homecloud deploy --no-wait', `${median(ours).toFixed(3)} s`],
      ['ratio deploy / kubectl (target <= 1.0)', (median(ours) / median(theirs)).toFixed(2)],
      ['homecloud status (target <= 1 s)', `${median(status).toFixed(3)} s`],
      ['API requests per status', String(requests)],
    ]);
    return { ours, theirs, status, requests };
  } finally {
    cluster.stop();
  }
};
