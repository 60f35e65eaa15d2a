import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { synth } from '../../lib/stack/synth';
import { runScript } from '../support/busybox';
import { ControlPlane, controlPlaneAvailable, startControlPlane } from '../support/control-plane';
import { commands, describeWhen } from '../support/requirements';
import { killed, leaseExpiry, leaseOf, pausedAt as pausedAtStep } from '../support/pause-points';
import { HOST } from '../support/stack';

const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'homecloud.js');
// The PC's client renews every third of this; a killed one's lock is free this long after.
const LEASE = 4;

const ready = (() => {
  const cp = controlPlaneAvailable();
  const tools = commands(['busybox', 'curl'], 'apt-get install busybox curl');
  return cp.ok ? tools : cp;
})();

// One maintenance operation at a time, through the entry points: the client's commands in their
// own processes and the nightly job's lease.sh under busybox, with a real service-account token,
// against a real API server. Kills land where they are meant to: the client stops at a named
// step (HOMECLOUD_TEST_PAUSE_AT) and says so, and only then is it killed.
describeWhen(ready, 'the maintenance lock on a real control plane', () => {
  let cluster: ControlPlane;
  let env: NodeJS.ProcessEnv;
  let work: string;
  let sa: string;
  let server: string;
  const ns = ['-n', 'homecloud'];

  const homecloud = (args: string[], extra: NodeJS.ProcessEnv = {}) => {
    const r = spawnSync(process.execPath, [BIN, ...args, '--context', 'homecloud-test'], { env: { ...env, ...extra }, encoding: 'utf8', timeout: 240_000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  // Kills land where they are meant to (test/support/pause-points.ts).
  const pausedAt = (args: string[], step: string) => pausedAtStep(args, env, step, LEASE);
  const kill = killed;
  const lease = () => leaseOf(env) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
  const expiry = () => leaseExpiry(env);
  const nightly = (command: string, extra: Record<string, string> = {}) => runScript('backup/lease.sh', {
    env: {
      SERVICE_ACCOUNT_DIR: sa, KUBERNETES_API: server, LEASE_STATE: path.join(work, 'nightly-lease'), LEASE_SECONDS: String(LEASE),
      LEASE_IDENTITY: 'nightly@backup-29000000-abcde', LEASE_FROM: 'the nightly job (pod backup-29000000-abcde)', ...extra,
    },
    args: [command],
  });
  /** backup.sh as the nightly job runs it, with nothing to back up: what it does about the lock. */
  const backupSh = () => {
    const root = fs.mkdtempSync(path.join(work, 'night-'));
    for (const d of ['backup', 'coord', 'html']) fs.mkdirSync(path.join(root, d));
    // Its occ (maintenance mode on and off) notes who holds the lock meanwhile.
    const occ = path.join(root, 'occ');
    fs.writeFileSync(occ, `#!/bin/sh\nKUBECONFIG='${cluster.kubeconfig}' kubectl get lease maintenance -n homecloud `
      + `-o jsonpath='{.spec.holderIdentity}' >> '${root}/holders' 2>/dev/null; echo >> '${root}/holders'\n`, { mode: 0o755 });
    const r = runScript('backup/backup.sh', {
      env: {
        BACKUP_DIR: path.join(root, 'backup'), COORD_DIR: path.join(root, 'coord'), NEXTCLOUD_WEBROOT: path.join(root, 'html'), OCC: occ,
        DUMP_WAIT_SECONDS: '1', TERMINATION_LOG: path.join(root, 'termination-log'),
        SERVICE_ACCOUNT_DIR: sa, KUBERNETES_API: server, LEASE_SECONDS: String(LEASE),
      },
    });
    const holders = fs.existsSync(path.join(root, 'holders')) ? fs.readFileSync(path.join(root, 'holders'), 'utf8').split('\n').filter(Boolean) : [];
    return { ...r, holders, lastRun: JSON.parse(fs.readFileSync(path.join(root, 'backup', 'last-run.json'), 'utf8')), snapshots: fs.readdirSync(path.join(root, 'backup', 'snapshots')) };
  };
  const replicas = () => JSON.parse(cluster.kubectl(['get', 'deployment', 'nextcloud', ...ns, '-o', 'json'])).spec.replicas;
  const suspended = () => JSON.parse(cluster.kubectl(['get', 'cronjob', 'backup', ...ns, '-o', 'json'])).spec.suspend === true;
  const jobs = (prefix: string) => cluster.kubectl(['get', 'jobs', ...ns, '-o', 'name']).split('\n').filter((j) => j.startsWith(`job.batch/${prefix}`));

  beforeAll(() => {
    cluster = startControlPlane();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-maintenance-'));
    const outdir = path.join(work, 'dist');
    if (synth({}, HOST, { outdir, credentials: path.join(work, 'credentials.json') }, () => undefined) !== 0) throw new Error('synth failed');
    env = { ...process.env, KUBECONFIG: cluster.kubeconfig, HOMECLOUD_OUTDIR: outdir, HOMECLOUD_CREDENTIALS: path.join(work, 'credentials.json'), HOMECLOUD_LEASE_SECONDS: String(LEASE) };
    const deployed = homecloud(['deploy', '--timeout', '180']);
    if (deployed.code !== 0) throw new Error(`deploy failed:\n${deployed.out}${deployed.err}`);
    // The nightly job's view: its service account's token, the cluster's CA, its namespace.
    sa = path.join(work, 'serviceaccount');
    fs.mkdirSync(sa);
    fs.writeFileSync(path.join(sa, 'token'), cluster.kubectl(['create', 'token', 'maintenance-lock', ...ns]).trim());
    fs.copyFileSync(path.join(cluster.dir, 'pki', 'ca.crt'), path.join(sa, 'ca.crt'));
    fs.writeFileSync(path.join(sa, 'namespace'), 'homecloud');
    server = /server: (\S+)/.exec(fs.readFileSync(cluster.kubeconfig, 'utf8'))![1];
  }, 30 * 60_000);
  afterAll(() => {
    cluster?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });
  afterEach(async () => {
    // Each test leaves the lock free: the next starts from a quiet home cloud.
    await expiry();
    spawnSync('kubectl', ['delete', 'lease', 'maintenance', ...ns, '--ignore-not-found'], { env });
  });

  it('gives the nightly job a token that may hold the one Lease and read nothing else', () => {
    const taken = nightly('take');
    expect(taken.stdout.trim()).toBe('taken');
    expect(taken.status).toBe(0);
    expect(lease().spec.holderIdentity).toBe('nightly@backup-29000000-abcde');
    expect(lease().metadata.annotations['homecloud.io/operation']).toBe('nightly');
    expect(nightly('renew').status).toBe(0);
    const secrets = spawnSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', path.join(sa, 'ca.crt'),
      '-H', `Authorization: Bearer ${fs.readFileSync(path.join(sa, 'token'), 'utf8')}`, `${server}/api/v1/namespaces/homecloud/secrets`], { encoding: 'utf8' });
    expect(secrets.stdout).toBe('403');
    expect(nightly('release').status).toBe(0);
    expect(lease()).toBeUndefined();
  });

  it('a command refuses while another runs, in both orders, and changes nothing', async () => {
    const restore = await pausedAt(['restore', '--yes'], 'restoring');
    try {
      const before = jobs('');
      // (update asks the registries first and takes the lock once it has something to change:
      // test/integration/updates.test.ts.)
      for (const args of [['backup'], ['restore', '--yes'], ['rollback'], ['uninstall', '--yes'], ['export', '--to', work], ['upgrade', '--confirm'], ['admin-password', '--reset', '--yes']]) {
        const r = homecloud(args);
        expect({ args, code: r.code }).toEqual({ args, code: 2 });
        expect(r.err).toMatch(/A restore started at \d\d:\d\d from this PC \(.*\) \(now: restoring\) is still running; only one thing at a time\./);
      }
      // The nightly job skips its night, saying why.
      const night = nightly('take');
      expect(night.status).toBe(3);
      expect(night.stdout).toMatch(/^restore from this PC \(.*\) holds the maintenance lock \(now: restoring\)$/m);
      const skipped = backupSh();
      expect(skipped.status).toBe(0);
      expect(skipped.lastRun).toMatchObject({ result: 'skipped', error: expect.stringMatching(/^restore from this PC \(.*\) holds the maintenance lock \(now: restoring\)$/) });
      expect(skipped.snapshots).toEqual([]);
      expect(skipped.holders).toEqual([]); // maintenance mode untouched
      expect(jobs('')).toEqual(before);
      expect(cluster.kubectl(['get', 'namespace', 'homecloud', '-o', 'name']).trim()).toBe('namespace/homecloud');
    } finally {
      await kill(restore);
    }
    await expiry();
    expect(homecloud(['restore', '--yes']).code).toBe(0); // finishes it
    const backup = await pausedAt(['backup'], 'started');
    try {
      const r = homecloud(['restore', '--yes']);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/A backup started at \d\d:\d\d from this PC .* is still running/);
      expect(replicas()).toBe(1);
      expect(suspended()).toBe(false);
    } finally {
      await kill(backup);
    }
  }, 10 * 60_000);

  it('says plainly when the API server does not answer, so the night backs up without the lock rather than not at all', () => {
    const r = nightly('take', { KUBERNETES_API: 'https://127.0.0.1:1' });
    expect(r.status).toBe(3);
    expect(r.stdout).toBe('the maintenance lock could not be read (HTTP 000)\n');
  });

  it('the nightly backup takes the lock for its run and gives it back however the run ends', () => {
    // (Nothing to back up and no database container here: the run fails, and releases the lock.)
    const night = backupSh();
    expect(night.lastRun).toMatchObject({ result: 'failed', error: 'the database dump did not finish within 1s' });
    expect(night.stdout).not.toMatch(/without the maintenance lock/);
    // Held by the run while Nextcloud was in maintenance mode (on, then off again on the way out).
    expect(night.holders).toEqual([expect.stringMatching(/^nightly@/), expect.stringMatching(/^nightly@/)]);
    expect(lease()).toBeUndefined();
  });

  it('a command finding the nightly job at work says so, and waits for it only when told to, with progress', async () => {
    // (A lease long enough that only the release below ends the night, however slow the machine.)
    expect(nightly('take', { LEASE_SECONDS: '90' }).status).toBe(0);
    const refused = homecloud(['backup']);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/The nightly backup started at \d\d:\d\d from the nightly job \(pod backup-29000000-abcde\) is running\. Run this again once it is done, or add --yes to wait for it\./);
    const waiting = spawn(process.execPath, [BIN, 'backup', '--yes', '--context', 'homecloud-test'], { env });
    let err = '';
    const said = new Promise<void>((resolve) => waiting.stderr.on('data', (d) => { err += d; if (/waiting for the nightly backup to finish/.test(err)) resolve(); }));
    const done = new Promise<number | null>((resolve) => waiting.on('exit', resolve));
    await said;
    // The night goes on (and renews); the command looks again every 3 s and keeps waiting.
    await new Promise((r) => setTimeout(r, 7000));
    expect(nightly('renew', { LEASE_SECONDS: '90' }).status).toBe(0);
    expect(jobs('backup-manual')).toEqual([]);
    expect(nightly('release').status).toBe(0);
    expect(await done).toBe(0);
    expect(err).toMatch(/started backup-manual-\d+/);
  }, 5 * 60_000);

  it('a backup Job whose command died (the PC switched off) goes on holding the lock itself', async () => {
    const client = await pausedAt(['backup'], 'started');
    const identity = lease().spec.holderIdentity;
    expect(identity).toMatch(/^backup@/);
    await kill(client);
    // The Job it started (backup.sh's renewals, as lease.sh renew): while the command's lease runs, it is the command's.
    const job = { MAINTENANCE_HOLDER: identity, LEASE_STATE: path.join(work, 'job-lease'), LEASE_IDENTITY: 'backup@backup-manual-20261206-xyz', LEASE_FROM: 'the backup job (pod backup-manual-20261206-xyz)' };
    expect(nightly('renew', job).stdout).toBe('');
    expect(lease().spec.holderIdentity).toBe(identity);
    await expiry();
    expect(nightly('renew', job).stdout).toMatch(/the command that started this run stopped answering: this run holds the maintenance lock now/);
    expect(lease().spec.holderIdentity).toBe('backup@backup-manual-20261206-xyz');
    const restore = homecloud(['restore', '--yes']);
    expect(restore.code).toBe(2);
    expect(restore.err).toMatch(/A backup started at \d\d:\d\d from the backup job \(pod backup-manual-20261206-xyz\) is still running/);
    expect(nightly('release', job).status).toBe(0);
    expect(lease()).toBeUndefined();
  });

  it('takes over a lock left by a dead holder after its lease runs out, not before', async () => {
    // A night whose pod was killed: it took the lock and never renewed it again.
    expect(nightly('take', { LEASE_SECONDS: '20' }).status).toBe(0);
    const taken = Date.parse(lease().spec.renewTime);
    const early = homecloud(['backup']);
    // (Only meaningful while the lease runs: a machine so slow that it ran out is said plainly.)
    expect(Date.now() - taken).toBeLessThan(20_000);
    expect(early.code).toBe(2);
    expect(early.err).toMatch(/The nightly backup .* is running/);
    await expiry();
    const late = homecloud(['backup']);
    expect(late.err).toMatch(/the nightly backup started at \d\d:\d\d from the nightly job \(pod backup-29000000-abcde\) was cut short/);
    expect(late.code).toBe(0);
    expect(lease()).toBeUndefined();
  }, 5 * 60_000);

  // Every step of a restore, twice: killed there, `status` and the next command say what
  // happened, and the next restore finishes it, putting everything back.
  const RESTORE_STEPS = ['started', 'pausing backups', 'stopping Nextcloud', 'restoring', 'restore started', 'starting Nextcloud'];
  for (const step of RESTORE_STEPS) {
    it(`a restore killed at "${step}" (twice) is told of, blocks what it must, and is finished by the next restore`, async () => {
      for (let round = 0; round < 2; round++) {
        const before = jobs('restore-');
        const victim = await pausedAt(['restore', '--yes', '--snapshot', '2026-11-26T013000Z'], step);
        await kill(victim);
        await expiry();
        const status = homecloud(['status']);
        expect(status.out).toMatch(/a restore started at \d\d:\d\d from this PC \(.*\) was cut short/);
        const halfDone = step === 'restoring' || step === 'restore started';
        if (halfDone) {
          expect(status.out).toMatch(/half-restored\. Run `npm run restore -- --snapshot 2026-11-26T013000Z` to finish it/);
          expect(status.code).toBe(1);
          const backup = homecloud(['backup']);
          expect(backup.code).toBe(2);
          expect(backup.err).toMatch(/half-restored/);
          const night = nightly('take');
          expect(night.status).toBe(3);
          expect(night.stdout).toMatch(/was cut short and left the data half-restored/);
          expect(suspended()).toBe(true);
          expect(replicas()).toBe(0);
        }
        const again = homecloud(['restore', '--yes']);
        expect(again.err).toMatch(/a restore started at .* was cut short/);
        expect(again.code).toBe(0);
        // The snapshot of the restore cut short, restored once: a Job it left is followed, not doubled.
        // (Cut short at "started", nothing was asked of the cluster yet: this restore is of the newest.)
        const made = jobs('restore-').filter((j) => !before.includes(j));
        expect(made).toHaveLength(1);
        const job = JSON.parse(cluster.kubectl(['get', made[0], ...ns, '-o', 'json']));
        const asked = job.spec.template.spec.initContainers.find((c: { name: string }) => c.name === 'check').env.find((e: { name: string }) => e.name === 'RESTORE_SNAPSHOT');
        expect(asked?.value).toBe(step === 'started' ? undefined : '2026-11-26T013000Z');
        expect(replicas()).toBe(1);
        expect(suspended()).toBe(false);
        expect(lease()).toBeUndefined();
        expect(homecloud(['status']).out).not.toMatch(/cut short/);
      }
    }, 10 * 60_000);
  }
});
