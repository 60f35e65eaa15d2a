import { spawn, spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { synth } from '../../lib/stack/synth';
import { ControlPlane, controlPlaneAvailable, startControlPlane } from '../support/control-plane';
import { describeWhen } from '../support/requirements';
import { HOST } from '../support/stack';

const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'homecloud.js');

// Every command runs as a user runs it: the real entry point, in its own process, against a
// real API server. The context is named explicitly, as the client demands for anything
// that is not Docker Desktop.
describeWhen(controlPlaneAvailable(), 'the homecloud client on a real control plane', () => {
  let cluster: ControlPlane;
  let outdir: string;
  let env: NodeJS.ProcessEnv;
  const ns = ['-n', 'homecloud'];

  const homecloud = (...args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args, '--context', 'homecloud-test'], { env, encoding: 'utf8', timeout: 180_000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const patchPodStatus = (pod: string, status: object) => cluster.kubectl(['patch', 'pod', pod, ...ns, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
  // The newest pod that is not on its way out (a replaced one may linger for a moment).
  const podOf = (selector: string) => (JSON.parse(cluster.kubectl(['get', 'pods', ...ns, '-l', selector, '-o', 'json'])).items as Array<{ metadata: { name: string; creationTimestamp: string; deletionTimestamp?: string } }>)
    .filter((p) => !p.metadata.deletionTimestamp)
    .sort((a, b) => Date.parse(b.metadata.creationTimestamp) - Date.parse(a.metadata.creationTimestamp))[0].metadata.name;

  beforeAll(() => {
    cluster = startControlPlane();
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-client-'));
    outdir = path.join(work, 'dist');
    if (synth({}, HOST, { outdir, credentials: path.join(work, 'credentials.json') }, () => undefined) !== 0) throw new Error('synth failed');
    env = { ...process.env, KUBECONFIG: cluster.kubeconfig, HOMECLOUD_OUTDIR: outdir };
  }, 30 * 60_000);
  afterAll(() => cluster?.stop());

  it('refuses a context that is not Docker Desktop unless it is named', () => {
    const r = spawnSync(process.execPath, [BIN, 'status'], { env, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/points at the Kubernetes context "homecloud-test", not Docker Desktop's/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('says plainly that nothing is installed yet', () => {
    const r = homecloud('status');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/homecloud is not installed in Kubernetes context "homecloud-test"/);
  });

  it('deploys a fresh install, waits for it, and reports it healthy', () => {
    const r = homecloud('deploy', '--timeout', '120');
    expect(r.err).toMatch(/all parts ready after/);
    expect(r.code).toBe(0);
    const objects = fs.readFileSync(path.join(outdir, 'app.k8s.yaml'), 'utf8').split(/^---$/m).length;
    expect(r.out.split('\n').filter((l) => l.endsWith(' created'))).toHaveLength(objects);
    expect(r.out).toMatch(/Your home cloud is healthy\./);
    expect(r.out).toMatch(/CalDAV \/ CardDAV +https:\/\/\S+\/remote\.php\/dav/);
    // Where phones get the home CA, as text and as a QR code.
    expect(r.out).toMatch(/set up a phone +http:\/\/\S+\/welcome\//);
    // (qrcode draws black on white with ANSI colours, so it reads on dark terminals too)
    expect(r.out).toMatch(/Scan to set up a phone \(http:\/\/\S+\/welcome\/\):\n(\x1b\[\d+m)+[▀▄█ ]+/);
    // What renews the certificate is scheduled with Nextcloud: issued first, then kept beside nginx.
    const pod = JSON.parse(cluster.kubectl(['get', 'pods', ...ns, '-l', 'app.kubernetes.io/component=web', '-o', 'json'])).items[0];
    expect(pod.spec.nodeName).toBeTruthy();
    expect(pod.spec.initContainers.map((c: { name: string }) => c.name)).toEqual(['certificate']);
    expect(pod.status.containerStatuses.find((c: { name: string }) => c.name === 'certificates')?.ready).toBe(true);
  });

  it('changes nothing on a second deploy', () => {
    const r = homecloud('deploy', '--no-wait');
    expect(r.code).toBe(0);
    expect(r.out.trim().split('\n').filter((l) => !l.endsWith(' unchanged'))).toEqual([]);
    expect(r.err).toMatch(/0 change\(s\) applied/);
  });

  it('shows drift in a dry run without touching it, then repairs it', () => {
    cluster.kubectl(['patch', 'deployment', 'cache', ...ns, '--type=merge', '-p', JSON.stringify({
      spec: { replicas: 2, template: { spec: { containers: [{ name: 'valkey', image: 'valkey/valkey:7-alpine' }] } } },
    })]);
    const dry = homecloud('deploy', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.out).toMatch(/^Deployment\/cache would change$/m);
    expect(dry.out).toMatch(/^Deployment\/database unchanged$/m);
    expect(cluster.kubectl(['get', 'deployment', 'cache', ...ns, '-o', 'jsonpath={.spec.replicas}'])).toBe('2');

    const real = homecloud('deploy', '--no-wait');
    expect(real.out).toMatch(/^Deployment\/cache configured$/m);
    expect(cluster.kubectl(['get', 'deployment', 'cache', ...ns, '-o', 'jsonpath={.spec.replicas} {.spec.template.spec.containers[0].image}']))
      .toBe('1 valkey/valkey:8-alpine');
  });

  it('prunes what homecloud created earlier and no longer synthesizes, and nothing else', () => {
    const labels = 'app.kubernetes.io/part-of=homecloud,app.kubernetes.io/managed-by=homecloud,app.kubernetes.io/instance=homecloud';
    cluster.kubectl(['create', 'configmap', 'retired-construct', ...ns]);
    cluster.kubectl(['label', 'configmap', 'retired-construct', ...ns, ...labels.split(',')]);
    cluster.kubectl(['create', 'configmap', 'family-notes', ...ns]);
    cluster.kubectl(['create', 'configmap', 'other-tool', ...ns]);
    cluster.kubectl(['label', 'configmap', 'other-tool', ...ns, 'app.kubernetes.io/part-of=homecloud']);
    const r = homecloud('deploy', '--no-wait');
    expect(r.out).toMatch(/^ConfigMap\/retired-construct pruned$/m);
    const left = cluster.kubectl(['get', 'configmaps', ...ns, '-o', 'name']);
    expect(left).not.toMatch(/retired-construct/);
    expect(left).toMatch(/family-notes/);
    expect(left).toMatch(/other-tool/);
  });

  it('refuses to jump Nextcloud two majors, and explains the safe path', () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-jump-'));
    const jump = path.join(work, 'dist');
    synth({ images: { nextcloud: 'nextcloud:36-fpm-alpine' } }, HOST, { outdir: jump, credentials: path.join(work, 'c.json') }, () => undefined);
    const r = spawnSync(process.execPath, [BIN, 'deploy', '--context', 'homecloud-test'], { env: { ...env, HOMECLOUD_OUTDIR: jump }, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/one major version at a time: 34 → 35 first/);
    expect(cluster.kubectl(['get', 'deployment', 'nextcloud', ...ns, '-o', 'jsonpath={.spec.template.spec.containers[0].image}'])).toBe('nextcloud:34-fpm-alpine');
  });

  it('prints the admin login on request', () => {
    const r = homecloud('admin-password', '--output', 'json');
    expect(r.code).toBe(0);
    const login = JSON.parse(r.out);
    expect(login.user).toBe('admin');
    expect(login.password).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it('runs a backup from the CronJob template and follows it to the end', () => {
    const r = homecloud('backup');
    expect(r.err).toMatch(/started backup-manual-\d+/);
    expect(r.err).toMatch(/finished after/);
    expect(r.code).toBe(0);
    const owner = cluster.kubectl(['get', 'jobs', ...ns, '-o', 'jsonpath={.items[0].metadata.ownerReferences[0].name}']);
    expect(owner).toBe('backup');
  });

  it('reports the last backup from its summary, and the next one in local time', () => {
    const pod = podOf('job-name').split(' ')[0];
    const summary = { snapshot: '2026-11-26T013000Z', time: new Date().toISOString(), result: 'success', database: { bytes: 52_000_000 }, files: { kib: 2_000_000, newKib: 120 } };
    patchPodStatus(pod, { containerStatuses: [
      { name: 'files', image: 'nextcloud:34-fpm-alpine', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed', message: JSON.stringify(summary), startedAt: summary.time, finishedAt: summary.time } } },
      { name: 'database', image: 'postgres:18-alpine', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } },
    ] });
    const r = homecloud('status', '--output', 'json');
    const report = JSON.parse(r.out);
    expect(report.backup.last).toMatchObject({ result: 'success', snapshot: '2026-11-26T013000Z', databaseBytes: 52_000_000 });
    expect(report.backup.timeZone).toBe('Europe/Berlin');
    expect(Date.parse(report.backup.next)).toBeGreaterThan(Date.now());
    expect(homecloud('status').out).toMatch(/last +.*: success \(database 52 MB, files 2\.0 GB\)/);
  });

  it('uses a bounded number of API requests for status', () => {
    expect(JSON.parse(homecloud('status', '--output', 'json').out).apiRequests).toBe(9);
  });

  it('explains a failed backup', () => {
    cluster.kubectl(['create', 'job', 'backup-failed', '--from=cronjob/backup', ...ns]);
    cluster.kubectl(['wait', '--for=condition=Complete', 'job/backup-failed', ...ns, '--timeout=60s']);
    const pod = cluster.kubectl(['get', 'pods', ...ns, '-l', 'job-name=backup-failed', '-o', 'jsonpath={.items[0].metadata.name}']).trim();
    const later = new Date(Date.now() + 60_000).toISOString();
    patchPodStatus(pod, { containerStatuses: [
      { name: 'files', image: 'nextcloud:34-fpm-alpine', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 1, reason: 'Error', startedAt: later, finishedAt: later,
        message: JSON.stringify({ time: later, result: 'failed', error: 'database: cannot reach the database' }) } } },
    ] });
    const r = homecloud('status');
    expect(r.out).toMatch(/last +.*: failed — database: cannot reach the database/);
    expect(r.out).toMatch(/! The last backup failed: database: cannot reach the database\./);
  });

  it('explains a backup Kubernetes stopped at its time limit, whose pod and log are gone', () => {
    cluster.kubectl(['delete', 'job', 'backup-failed', ...ns, '--wait=true']);
    // A backup that is still busy when its time limit (backup.timeout) comes: the test node keeps
    // a container that only sleeps running.
    const cron = JSON.parse(cluster.kubectl(['get', 'cronjob', 'backup', ...ns, '-o', 'json']));
    const containers: Array<{ command?: string[] }> = cron.spec.jobTemplate.spec.template.spec.containers;
    const patch = (limit: number, commands: Array<string[] | undefined>) => cluster.kubectl(['patch', 'cronjob', 'backup', ...ns, '--type=json', '-p', JSON.stringify([
      { op: 'replace', path: '/spec/jobTemplate/spec/activeDeadlineSeconds', value: limit },
      ...commands.map((command, i) => ({ op: 'replace', path: `/spec/jobTemplate/spec/template/spec/containers/${i}/command`, value: command })),
    ])]);
    patch(5, containers.map(() => ['sleep', '3600']));
    try {
      const r = homecloud('backup');
      expect(r.err).toMatch(/backup-manual-\d+ was stopped at its time limit after/);
      expect(r.out).toMatch(/^Backup STOPPED: it was stopped at its time limit of 5 seconds \(backup\.timeout\) before it finished\. A first backup of a large photo library can need longer; .*backup: \{ timeout: Duration\.hours\(6\) \} in main\.ts, then npm run deploy\.$/m);
      expect(r.code).toBe(1);
      const job = r.err.match(/started (backup-manual-\d+)/)![1];
      // What status has to go on: Kubernetes deleted the run's pod, and its summary with it.
      for (let i = 0; i < 30 && cluster.kubectl(['get', 'pods', ...ns, '-l', `job-name=${job}`, '-o', 'name']).trim(); i++) spawnSync('sleep', ['1']);
      expect(cluster.kubectl(['get', 'pods', ...ns, '-l', `job-name=${job}`, '-o', 'name']).trim()).toBe('');
      const status = homecloud('status');
      expect(status.out).toMatch(/last +.*: failed — it was stopped at its time limit of 5 seconds/);
      expect(status.out).toMatch(/! The last backup failed: it was stopped at its time limit of 5 seconds \(backup\.timeout\)/);
    } finally {
      patch(cron.spec.jobTemplate.spec.activeDeadlineSeconds, containers.map((c) => c.command));
    }
  });

  it('explains an image that cannot be downloaded', () => {
    // Keep the pod off the simulated node, so only this test writes its status.
    cluster.kubectl(['patch', 'deployment', 'cache', ...ns, '--type=merge', '-p', '{"spec":{"template":{"spec":{"nodeSelector":{"homecloud-test/nowhere":"true"}}}}}']);
    cluster.kubectl(['wait', '--for=condition=Available=False', 'deployment/cache', ...ns, '--timeout=60s']);
    const pod = podOf('app.kubernetes.io/component=cache');
    patchPodStatus(pod, { phase: 'Pending', containerStatuses: [{ name: 'valkey', image: 'valkey/valkey:8-alpine', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff' } } }] });
    const r = homecloud('status');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/Your home cloud needs attention/);
    expect(r.out).toMatch(/✖ Cache +cannot download its program \(valkey\/valkey:8-alpine\)\. Is the PC online\?/);
  });

  it('explains a crash loop, and says why the log of a pod off the node cannot be read', () => {
    const pod = podOf('app.kubernetes.io/component=cache');
    patchPodStatus(pod, { containerStatuses: [{ name: 'valkey', image: 'valkey/valkey:8-alpine', imageID: '', ready: false, restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff' } } }] });
    const r = homecloud('status');
    expect(r.out).toMatch(/✖ Cache +keeps crashing \(valkey, restarted 4 times\)/);
    // This pod is kept off the simulated node: no node serves its log, and the report says so.
    expect(r.out).toMatch(/\| \(its log could not be read: HTTP \d+\)/);
  });

  it('explains storage that is not ready', () => {
    const pod = podOf('app.kubernetes.io/component=cache');
    patchPodStatus(pod, { containerStatuses: null, conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims.' }] });
    expect(homecloud('status').out).toMatch(/✖ Cache +is waiting for its storage\. Check that Docker Desktop has free disk space/);
  });

  it('repairs all of that on the next deploy', () => {
    const r = homecloud('deploy', '--timeout', '120');
    expect([r.code, r.err]).toEqual([0, expect.stringMatching(/all parts ready/)]);
    expect(r.out).toMatch(/Your home cloud is healthy\./);
  });

  it('shows the last lines a crash-looping container logged before it stopped', () => {
    const pod = podOf('app.kubernetes.io/component=database');
    // What the runtime kept of the container's previous run, served by the simulated node.
    fs.appendFileSync(path.join(cluster.podFolder('homecloud', pod), 'logs', 'postgres.log.previous'),
      '2026-11-27T02:00:00.000000000Z stderr F FATAL:  database files are incompatible with server\n'
      + '2026-11-27T02:00:00.000000000Z stderr F DETAIL:  The data directory was initialized by PostgreSQL version 17\n');
    patchPodStatus(pod, {
      conditions: [{ type: 'Ready', status: 'False' }, { type: 'ContainersReady', status: 'False' }],
      containerStatuses: [{ name: 'postgres', image: 'postgres:18-alpine', imageID: '', ready: false, restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } } }],
    });
    cluster.kubectl(['wait', '--for=condition=Available=False', 'deployment/database', ...ns, '--timeout=60s']);
    const r = homecloud('status');
    expect(r.out).toMatch(/✖ Database +keeps crashing \(postgres, restarted 3 times\)/);
    expect(r.out).toMatch(/\| FATAL: +database files are incompatible with server\n.*\| DETAIL: +The data directory was initialized by PostgreSQL version 17/);
    // A fresh pod replaces it, as after a fix.
    cluster.kubectl(['delete', 'pod', pod, ...ns, '--wait=false']);
    cluster.kubectl(['wait', '--for=condition=Available', 'deployment/database', ...ns, '--timeout=60s']);
  });

  it('will not restore without a confirmation when no one is at a terminal', () => {
    const r = spawnSync(process.execPath, [BIN, 'restore', '--context', 'homecloud-test'], { env, encoding: 'utf8', input: '' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/replaces ALL current files and the database[\s\S]*needs a confirmation/);
    expect(cluster.kubectl(['get', 'jobs', ...ns, '-o', 'name'])).not.toMatch(/restore-/);
  });

  it('restores: stops Nextcloud, runs the restore template for the chosen snapshot, starts Nextcloud again', () => {
    const r = homecloud('restore', '--snapshot', '2026-11-26T013000Z', '--yes');
    expect(r.err).toMatch(/started restore-\d+[\s\S]*finished after/);
    expect(r.code).toBe(0);
    const jobs = JSON.parse(cluster.kubectl(['get', 'jobs', ...ns, '-o', 'json'])).items
      .filter((j: { metadata: { name: string } }) => j.metadata.name.startsWith('restore-'));
    expect(jobs).toHaveLength(1);
    const check = jobs[0].spec.template.spec.initContainers.find((c: { name: string }) => c.name === 'check');
    expect(check.env).toContainEqual({ name: 'RESTORE_SNAPSHOT', value: '2026-11-26T013000Z' });
    expect(cluster.kubectl(['get', 'deployment', 'nextcloud', ...ns, '-o', 'jsonpath={.spec.replicas}'])).toBe('1');
    cluster.kubectl(['wait', '--for=condition=Available', 'deployment/nextcloud', ...ns, '--timeout=60s']);
  });

  // A snapshot as backup.sh leaves it, written straight into the backup volume's folder
  // (the stand-in provisioner's hostPath), with names a family uses.
  const writeSnapshot = (name: string, files: Record<string, Buffer>) => {
    const pv = cluster.kubectl(['get', 'pvc', 'backup-data', ...ns, '-o', 'jsonpath={.spec.volumeName}']).trim();
    const root = cluster.kubectl(['get', 'pv', pv, '-o', 'jsonpath={.spec.hostPath.path}']).trim();
    const dir = path.join(root, 'snapshots', name);
    const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
    const dump = crypto.randomBytes(200_000);
    fs.mkdirSync(path.join(dir, 'files'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'database.dump'), dump);
    fs.writeFileSync(path.join(dir, 'database.sha256'), `${sha(dump)}  database.dump\n`);
    for (const [rel, data] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, 'files', rel)), { recursive: true });
      fs.writeFileSync(path.join(dir, 'files', rel), data);
    }
    fs.writeFileSync(path.join(dir, 'MANIFEST'), Object.entries(files).map(([rel, data]) => `${sha(data)}  ${rel}\n`).join(''));
    return dir;
  };
  const familyFiles = () => ({
    'data/alice/files/Photos/Geburtstag Müller.jpg': crypto.randomBytes(400_000),
    'data/alice/files/Notes/-leading dash.md': Buffer.from('# note\n'),
    'data/bob/files/Documents/Steuer 2026 (final).pdf': crypto.randomBytes(50_000),
    'config/config.php': Buffer.from('<?php $CONFIG = [];\n'),
  });

  it('export copies a snapshot out through the API server (kubectl cp) and verifies every checksum', () => {
    const files = familyFiles();
    writeSnapshot('2026-11-26T013000Z', files);
    const to = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-export-'));
    const r = homecloud('export', '--snapshot', '2026-11-26T013000Z', '--to', to);
    expect(r.err).toMatch(/started export-\d+[\s\S]*verifying checksums/);
    expect(r.out).toMatch(/Copied and verified 2026-11-26T013000Z into /);
    expect(r.code).toBe(0);
    for (const [rel, data] of Object.entries(files)) {
      expect([rel, fs.readFileSync(path.join(to, '2026-11-26T013000Z', 'files', rel)).equals(data)]).toEqual([rel, true]);
    }
    expect(cluster.kubectl(['get', 'jobs', ...ns, '-o', 'name'])).not.toMatch(/export-/);
  });

  it('export names a file whose content no longer matches its checksum', () => {
    const dir = writeSnapshot('2026-11-25T013000Z', familyFiles());
    const rotten = path.join(dir, 'files', 'data/alice/files/Photos/Geburtstag Müller.jpg');
    const bytes = fs.readFileSync(rotten);
    bytes[1000] ^= 0xff;
    fs.writeFileSync(rotten, bytes);
    const r = homecloud('export', '--snapshot', '2026-11-25T013000Z', '--to', fs.mkdtempSync(path.join(os.tmpdir(), 'hc-export-')));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/1 file\(s\) do not match their checksums, e\.g\. data\/alice\/files\/Photos\/Geburtstag Müller\.jpg/);
  });

  it('export reports a helper that ends before the copy, and removes it', () => {
    // A helper whose program exits at once (kwok completes such a Job pod at once).
    cluster.kubectl(['patch', 'cronjob', 'backup-export', ...ns, '--type=json', '-p',
      JSON.stringify([{ op: 'replace', path: '/spec/jobTemplate/spec/template/spec/containers/0/command', value: ['true'] }])]);
    const r = homecloud('export', '--snapshot', '2026-11-26T013000Z', '--to', fs.mkdtempSync(path.join(os.tmpdir(), 'hc-export-')));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/homecloud: The export helper stopped before the copy could start/);
    expect(cluster.kubectl(['get', 'jobs', ...ns, '-o', 'name'])).not.toMatch(/export-/);
    // deploy repairs the hand edit.
    expect(homecloud('deploy', '--no-wait').out).toMatch(/^CronJob\/backup-export configured$/m);
  });

  it('export needs a destination', () => {
    expect(homecloud('export').err).toMatch(/export needs --to FOLDER/);
  });

  it('refuses to uninstall without confirmation, then removes everything with --yes', () => {
    const refused = spawnSync(process.execPath, [BIN, 'uninstall', '--context', 'homecloud-test'], { env, encoding: 'utf8', input: '' });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/This deletes namespace "homecloud"[\s\S]*nextcloud-html \(50Gi\)/);
    expect(cluster.kubectl(['get', 'namespace', 'homecloud', '-o', 'name']).trim()).toBe('namespace/homecloud');

    const r = homecloud('uninstall', '--yes', '--timeout', '120');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Removed homecloud from homecloud-test/);
    expect(cluster.kubectl(['get', 'namespaces', '-o', 'name'])).not.toMatch(/namespace\/homecloud\b/);
  });

  it('stops with a plain error, exit code 2, when the API server goes away mid-command', async () => {
    homecloud('deploy', '--no-wait');
    const child = spawn(process.execPath, [BIN, 'status', '--watch', '--context', 'homecloud-test'], { env });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    await new Promise((r) => setTimeout(r, 2000));
    const pids = fs.readFileSync(path.join(cluster.dir, 'pids'), 'utf8');
    const apiserver = /^(\d+) kube-apiserver$/m.exec(pids)![1];
    process.kill(Number(apiserver), 'SIGKILL');
    const code = await new Promise((r) => child.once('exit', (c) => r(c)));
    expect(code).toBe(2);
    expect(err).toMatch(/Cannot reach Kubernetes at 127\.0\.0\.1:\d+ \(ECONNREFUSED\)\. Is Docker Desktop running/);
    expect(err).not.toMatch(/\n\s+at /);
  }, 60_000);
});
