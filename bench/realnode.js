'use strict';
// The README path's costs on a real node (test/realnode): `npm run deploy` to all-ready against
// the baseline `kubectl apply -f dist/` + `kubectl wait` of the same manifests on the same node,
// each from an empty namespace (a first install), medians over rounds; then, from the last
// deploy, every container's start time, the nightly job's wall time, and every container's peak
// memory against its limit (cgroup v1 max_usage_in_bytes, read on the node; the nightly job's
// containers are sampled while they run, since their cgroups go with them).
const { execFileSync, spawn, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { median, report } = require('./lib');

const ROOT = path.join(__dirname, '..');
const RUN = path.join(ROOT, 'test', 'realnode', 'run.sh');
const NS = ['-n', 'homecloud'];

function seconds(fn) {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function bytes(quantity) {
  const m = /^(\d+)(Ki|Mi|Gi)?$/.exec(quantity);
  return m ? Number(m[1]) * ({ Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 }[m[2]] ?? 1) : NaN;
}

module.exports = async function benchRealNode({ runs }) {
  if (process.getuid?.() !== 0) throw new Error('realnode: a real node needs root');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-bench-node-'));
  const up = spawnSync('bash', [RUN, 'up', dir, String(process.pid)], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  if (up.status !== 0) throw new Error(`the real node did not start: ${up.stderr}`);
  const env = { ...process.env, KUBECONFIG: path.join(dir, 'kubeconfig') };
  const inNode = (args, cwd) => {
    const r = spawnSync('bash', [RUN, 'exec', dir, ...args], { env, cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  const kubectl = (...args) => inNode(['kubectl', ...args]);
  try {
    const app = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-bench-app-'));
    for (const f of execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean)) {
      fs.mkdirSync(path.dirname(path.join(app, f)), { recursive: true });
      fs.copyFileSync(path.join(ROOT, f), path.join(app, f));
    }
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(app, 'node_modules'));
    const folder = path.join(dir, 'pc', 'homecloud-backups');
    fs.mkdirSync(folder, { recursive: true });
    fs.chmodSync(folder, 0o777);
    const main = path.join(app, 'main.ts');
    fs.writeFileSync(main, fs.readFileSync(main, 'utf8').replace('export const settings: HomecloudSettings = {',
      `export const settings: HomecloudSettings = {\n  backup: { offsite: { folder: ${JSON.stringify(folder)} } },`));
    const synth = spawnSync('npm', ['run', 'synth'], { cwd: app, encoding: 'utf8' });
    if (synth.status !== 0) throw new Error(`npm run synth failed: ${synth.stderr}`);
    const homecloud = (...args) => inNode([process.execPath, path.join(app, 'bin', 'homecloud.js'), ...args, '--context', 'homecloud-test'], app);
    const empty = () => {
      kubectl('delete', 'namespace', 'homecloud', '--ignore-not-found', '--wait=true', '--timeout=600s');
      for (let i = 0; i < 120 && kubectl('get', 'pv', '-o', 'name').trim(); i++) spawnSync('sleep', ['1']);
    };
    const rounds = Math.max(1, Math.min(runs, 3));
    const deploy = [];
    const apply = [];
    for (let i = 0; i < rounds; i++) {
      empty();
      apply.push(seconds(() => {
        kubectl('apply', '-f', path.join(app, 'dist'));
        kubectl('wait', '--for=condition=Available', 'deployment', '--all', ...NS, '--timeout=900s');
      }));
      empty();
      deploy.push(seconds(() => homecloud('deploy')));
    }
    report(`real node: first install, ${rounds} round(s) each, medians`, [
      ['kubectl apply -f dist/ + kubectl wait (baseline)', `${median(apply).toFixed(1)} s`],
      ['npm run deploy to all-ready', `${median(deploy).toFixed(1)} s`],
      ['ratio deploy / baseline', median(deploy) / median(apply) > 0 ? (median(deploy) / median(apply)).toFixed(2) : '-'],
    ]);

    const pods = JSON.parse(kubectl('get', 'pods', ...NS, '-o', 'json')).items;
    const starts = [];
    for (const p of pods) {
      const created = Date.parse(p.metadata.creationTimestamp);
      for (const c of [...(p.status.initContainerStatuses ?? []), ...p.status.containerStatuses]) {
        const at = c.state.running?.startedAt ?? c.state.terminated?.startedAt;
        if (at) starts.push([`${p.metadata.labels['app.kubernetes.io/component']}/${c.name}`, `${((Date.parse(at) - created) / 1000).toFixed(0)} s after the pod was created`]);
      }
    }
    report('container start times (last deploy)', starts);

    // The nightly job, with every container cgroup's peak sampled while it runs.
    const peaks = new Map();
    const sample = () => {
      const dirs = spawnSync('find', ['/sys/fs/cgroup/memory/kubepods', '-mindepth', '2', '-maxdepth', '3', '-type', 'd', '-regextype', 'posix-extended', '-regex', '.*/[0-9a-f]{64}'], { encoding: 'utf8' }).stdout;
      for (const d of dirs.trim().split('\n').filter(Boolean)) {
        try { peaks.set(path.basename(d), Math.max(peaks.get(path.basename(d)) ?? 0, Number(fs.readFileSync(path.join(d, 'memory.max_usage_in_bytes'), 'utf8')))); } catch { /* ended meanwhile */ }
      }
    };
    const started = process.hrtime.bigint();
    const backup = spawn('bash', [RUN, 'exec', dir, process.execPath, path.join(app, 'bin', 'homecloud.js'), 'backup', '--context', 'homecloud-test'], { env, cwd: app, stdio: 'ignore' });
    const code = await new Promise((resolve) => {
      const timer = setInterval(sample, 300);
      backup.on('close', (c) => { clearInterval(timer); resolve(c); });
    });
    const job = Number(process.hrtime.bigint() - started) / 1e9;
    if (code !== 0) throw new Error(`npm run backup failed (exit ${code})`);
    report('nightly job (npm run backup: dump, snapshot, copy to the PC folder)', [['wall time', `${job.toFixed(1)} s`]]);
    const jobMemory = [];
    for (const p of JSON.parse(kubectl('get', 'pods', ...NS, '-l', 'app.kubernetes.io/component=backup', '-o', 'json')).items) {
      for (const c of [...(p.status.initContainerStatuses ?? []), ...(p.status.containerStatuses ?? [])]) {
        const spec = [...(p.spec.initContainers ?? []), ...p.spec.containers].find((x) => x.name === c.name);
        const peak = peaks.get((c.containerID ?? '').replace(/^containerd:\/\//, ''));
        const limit = bytes(spec.resources?.limits?.memory ?? '');
        jobMemory.push([`backup/${c.name}`, peak === undefined ? 'ended before a sample (under 0.3 s)'
          : `${(peak / 1048576).toFixed(0)} MiB of ${(limit / 1048576).toFixed(0)} MiB (${((100 * peak) / limit).toFixed(0)} %)`]);
      }
    }
    report('peak memory of the nightly job\'s containers while they ran, against their limits', jobMemory);

    const memory = [];
    for (const p of JSON.parse(kubectl('get', 'pods', ...NS, '-o', 'json')).items) {
      for (const c of p.status.containerStatuses) {
        const spec = p.spec.containers.find((s) => s.name === c.name);
        const id = c.containerID.replace(/^containerd:\/\//, '');
        const found = spawnSync('find', ['/sys/fs/cgroup/memory/kubepods', '-type', 'd', '-name', id], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
        if (!found) continue;
        const peak = Number(fs.readFileSync(path.join(found, 'memory.max_usage_in_bytes'), 'utf8'));
        const limit = bytes(spec.resources?.limits?.memory ?? '');
        memory.push([`${p.metadata.labels['app.kubernetes.io/component']}/${c.name}`,
          `${(peak / 1048576).toFixed(0)} MiB of ${(limit / 1048576).toFixed(0)} MiB (${((100 * peak) / limit).toFixed(0)} %)`]);
      }
    }
    report('peak memory of every container since it started, against its limit', memory);
    fs.rmSync(app, { recursive: true, force: true });
  } finally {
    spawnSync('bash', [RUN, 'down', dir], { stdio: 'ignore' });
  }
};
