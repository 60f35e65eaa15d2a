import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DEFAULT_IMAGES } from '../../lib/config/settings';
import { ControlPlane, controlPlaneAvailable, startControlPlane } from '../support/control-plane';
import { Gate, TestRegistry, pushImage, registryAvailable, startGate, startRegistry } from '../support/registry';
import { describeWhen } from '../support/requirements';
import { killed, leaseExpiry, pausedAt as pausedAtStep } from '../support/pause-points';

const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'homecloud.js');

const both = () => {
  const a = controlPlaneAvailable();
  const b = registryAvailable();
  return { ok: a.ok && b.ok, reason: [a, b].filter((x) => !x.ok).map((x) => x.reason).join('; ') };
};

// update, upgrade and rollback as a family runs them: the real entry point against a real API
// server, asking a real OCI registry (standing in for Docker Hub). The running Nextcloud version
// is read with `kubectl exec … occ status` in the pod; on the simulated node that runs a stand-in
// occ (test/controlplane/standin/occ) that reports the major of the image its pod runs.
describeWhen(both(), 'updates and upgrades through the real entry points', () => {
  let cluster: ControlPlane;
  let registry: TestRegistry;
  let gate: Gate;
  let limited: Gate;
  let store: { url: string; dir: string; process: ChildProcess };
  let work: string;
  let env: NodeJS.ProcessEnv;
  const ns = ['-n', 'homecloud'];
  const SNAPSHOT = '2026-11-27T101500Z';
  const digests: Record<string, string> = {};

  const homecloud = (...args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args, '--context', 'homecloud-test'], { env, encoding: 'utf8', timeout: 300_000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const lockFile = () => path.join(work, 'images.lock.json');
  const lock = () => JSON.parse(fs.readFileSync(lockFile(), 'utf8'));
  const image = (deployment: string, container: string) => cluster.kubectl(['get', 'deployment', deployment, ...ns, '-o',
    `jsonpath={.spec.template.spec.containers[?(@.name=="${container}")].image}`]).trim();
  const webroot = () => {
    const pv = cluster.kubectl(['get', 'pvc', 'nextcloud-html', ...ns, '-o', 'jsonpath={.spec.volumeName}']).trim();
    return cluster.kubectl(['get', 'pv', pv, '-o', 'jsonpath={.spec.hostPath.path}']).trim();
  };
  const push = async (ref: string, build: string) => {
    const [name, tag] = ref.split(':');
    const repo = name.includes('/') ? name : `library/${name}`;
    const major = /^\d+/.exec(tag)?.[0];
    digests[ref] = await pushImage(registry.url, repo, tag, {
      build, architectures: ['amd64', 'arm64'], env: name === 'nextcloud' ? [`NEXTCLOUD_VERSION=${major}.0.2`] : [],
    });
  };

  /** The maintenance lock as a restore running from another window holds it (alive for 10 minutes). */
  const holdRestoreLock = () => {
    const now = new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
    cluster.kubectl(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'maintenance', namespace: 'homecloud',
        annotations: { 'homecloud.io/operation': 'restore', 'homecloud.io/from': 'this PC (FAMILY-PC, ben)', 'homecloud.io/step': 'restoring' } },
      spec: { holderIdentity: 'restore@FAMILY-PC:4242:abcdef', leaseDurationSeconds: 600, acquireTime: now, renewTime: now },
    }));
  };

  // Kill tests: the kill lands where the client stopped and said so (test/support/pause-points.ts).
  const pausedAt = (args: string[], step: string) => pausedAtStep(args, env, step);
  const expiry = () => leaseExpiry(env);
  beforeAll(async () => {
    cluster = startControlPlane();
    registry = await startRegistry();
    gate = await startGate(registry.url);
    limited = await startGate(registry.url, 'rate-limited');
    for (const ref of [...Object.values(DEFAULT_IMAGES), 'nextcloud:35-fpm-alpine', 'nextcloud:36-fpm-alpine', 'postgres:19-alpine']) await push(ref, 'first');
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-updates-'));
    store = await startAppStore(path.join(work, 'appstore'));
    env = {
      ...process.env, KUBECONFIG: cluster.kubeconfig, HOMECLOUD_OUTDIR: path.join(work, 'dist'),
      HOMECLOUD_CREDENTIALS: path.join(work, '.homecloud', 'credentials.json'), HOMECLOUD_IMAGE_LOCK: lockFile(),
      HOMECLOUD_REGISTRIES: `docker.io=${registry.url}`, HOMECLOUD_APPSTORE: store.url,
    };
  }, 30 * 60_000);
  afterAll(async () => {
    await gate?.stop();
    await limited?.stop();
    store?.process.kill();
    await registry?.stop();
    cluster?.stop();
  });

  it('installs by tag, then a check shows every image waiting to be pinned and changes nothing', () => {
    expect(homecloud('deploy', '--timeout', '120').code).toBe(0);
    fs.copyFileSync(path.join(ROOT, 'test', 'controlplane', 'standin', 'occ'), path.join(webroot(), 'occ'));
    // The backup job's pod ends with this summary, as backup.sh's termination message.
    fs.mkdirSync(path.join(cluster.dir, 'messages'), { recursive: true });
    fs.writeFileSync(path.join(cluster.dir, 'messages', 'files'), JSON.stringify({ snapshot: SNAPSHOT, result: 'success', time: new Date().toISOString() }));
    const r = homecloud('update', '--dry-run');
    expect(r.out).toMatch(/nextcloud:34-fpm-alpine: not pinned → [0-9a-f]{12} \(version 34\.0\.2\) \(pinned for the first time\)/);
    expect(r.out).toMatch(/6 update\(s\) waiting/);
    expect(r.code).toBe(0);
    expect(fs.existsSync(lockFile())).toBe(false);
    expect(image('nextcloud', 'nextcloud')).toBe('nextcloud:34-fpm-alpine');
    const status = homecloud('status');
    expect(status.out).toMatch(/! 6 image update\(s\) waiting since the last check: the next night installs them after its backup, or npm run update installs them now/);
  });

  it('update: backs up, pins every image by its index digest, deploys and records the way back', () => {
    const r = homecloud('update');
    expect(r.err).toMatch(/taking a backup before anything changes[\s\S]*started backup-before-update-/);
    expect(r.out).toMatch(/Updated 6 image\(s\); the home cloud is healthy/);
    expect(r.code).toBe(0);
    expect(lock().images.nextcloud).toMatchObject({ tag: 'nextcloud:34-fpm-alpine', digest: digests['nextcloud:34-fpm-alpine'], version: '34.0.2' });
    expect(image('nextcloud', 'nextcloud')).toBe(`nextcloud:34-fpm-alpine@${digests['nextcloud:34-fpm-alpine']}`);
    expect(image('database', 'postgres')).toBe(`postgres:18-alpine@${digests['postgres:18-alpine']}`);
    expect(JSON.parse(fs.readFileSync(path.join(work, '.homecloud', 'rollback.json'), 'utf8'))).toMatchObject({ command: 'update', lock: null, snapshot: SNAPSHOT });
    expect(homecloud('status').out).toMatch(/waiting {11}none/);
  });

  it('update with nothing new says so, and deploys nothing', () => {
    const before = fs.readFileSync(lockFile(), 'utf8');
    const r = homecloud('update');
    expect(r.out).toMatch(/Everything is up to date/);
    expect(r.code).toBe(0);
    expect(fs.readFileSync(lockFile(), 'utf8')).toBe(before);
    expect(cluster.kubectl(['get', 'jobs', ...ns, '-o', 'name']).match(/backup-before-update/g)).toHaveLength(1);
  });

  it('update: a tag moved to a new build (a security fix) is pulled by its new digest, nothing else changes', async () => {
    await push('nginx:1.28-alpine', 'security-fix');
    const r = homecloud('update');
    expect(r.out).toMatch(/nginx:1\.28-alpine: [0-9a-f]{12} → [0-9a-f]{12}/);
    expect(r.out).toMatch(/nextcloud:34-fpm-alpine: up to date/);
    expect(r.code).toBe(0);
    expect(image('nextcloud', 'web')).toBe(`nginx:1.28-alpine@${digests['nginx:1.28-alpine']}`);
    expect(lock().images.nextcloud.digest).toBe(digests['nextcloud:34-fpm-alpine']);
  });

  describe('a registry that cannot answer changes nothing', () => {
    const unchanged = (run: () => { code: number | null; out: string; err: string }) => {
      const before = fs.readFileSync(lockFile(), 'utf8');
      const deployed = image('nextcloud', 'web');
      const jobs = cluster.kubectl(['get', 'jobs', ...ns, '-o', 'name']);
      const r = run();
      expect(r.code).toBe(2);
      expect(fs.readFileSync(lockFile(), 'utf8')).toBe(before);
      expect(image('nextcloud', 'web')).toBe(deployed);
      expect(cluster.kubectl(['get', 'jobs', ...ns, '-o', 'name'])).toBe(jobs);
      return r;
    };
    const withRegistry = (url: string, ...args: string[]) => () => {
      const saved = env.HOMECLOUD_REGISTRIES;
      env.HOMECLOUD_REGISTRIES = `docker.io=${url}`;
      try {
        return homecloud(...args);
      } finally {
        env.HOMECLOUD_REGISTRIES = saved;
      }
    };

    it('offline (nothing listens): says so', async () => {
      const down = await startRegistry();
      await down.stop();
      await push('nginx:1.28-alpine', 'another-fix');
      const r = unchanged(withRegistry(down.url, 'update'));
      expect(r.out).toMatch(/could not be reached \(is this PC offline\?\)\. Nothing was changed/);
    });

    it('429 too many requests: says when to try again', () => {
      const r = unchanged(withRegistry(limited.url, 'update'));
      expect(r.out).toMatch(/too many requests.*try again in 3600 s/);
      expect(r.out).toMatch(/Nothing was changed; try again later/);
    });

    it('401 wanting a login: says so', async () => {
      const locked = await startRegistry({ auth: true });
      try {
        const r = unchanged(withRegistry(locked.url, 'update'));
        expect(r.out).toMatch(/wants a login/);
      } finally {
        await locked.stop();
      }
    });

    // Found by a probe on a loopback registry: a captive portal's page was pinned as all five images.
    it('a web page instead of a manifest (a hotel Wi-Fi login page): says so, pins nothing', async () => {
      const portal = await startGate(registry.url, 'html');
      try {
        const r = unchanged(withRegistry(portal.url, 'update'));
        expect(r.out).toMatch(/answered nginx:1\.28-alpine with a web page \(text\/html\), not an image manifest: a Wi-Fi login page/);
        expect(r.out).toMatch(/Nothing was changed; try again later/);
      } finally {
        await portal.stop();
      }
    });

    it('through the anonymous-token gate (as Docker Hub asks) the same update goes through', () => {
      const r = withRegistry(gate.url, 'update', '--dry-run')();
      expect(r.out).toMatch(/nginx:1\.28-alpine: [0-9a-f]{12} → [0-9a-f]{12}/);
      expect(r.code).toBe(0);
      expect(gate.seen().filter((s) => s.path.startsWith('/token?'))).not.toHaveLength(0);
    });
  });

  // An update killed at each of its steps, three times each, never at a moment hoped for:
  // `status` tells of it, and the next update finishes it (the lock file and the cluster agree).
  describe('an update cut short', () => {
    it('finding another command at work (a restore from another window), changes nothing and says what runs', async () => {
      await push('nginx:1.28-alpine', 'while-restoring');
      holdRestoreLock();
      const before = fs.readFileSync(lockFile(), 'utf8');
      const jobsBefore = cluster.kubectl(['get', 'jobs', ...ns, '-o', 'name']);
      const r = homecloud('update');
      expect(r.err).toMatch(/A restore started at \d\d:\d\d from this PC \(FAMILY-PC, ben\) \(now: restoring\) is still running; only one thing at a time/);
      expect(r.code).toBe(2);
      expect(fs.readFileSync(lockFile(), 'utf8')).toBe(before);
      expect(cluster.kubectl(['get', 'jobs', ...ns, '-o', 'name'])).toBe(jobsBefore);
      cluster.kubectl(['delete', 'lease', 'maintenance', ...ns]);
    });

    for (const step of ['started', 'backing up', 'deploying the new images', 'waiting for health']) {
      it(`killed at "${step}" (three times): said by status and by the next update, which finishes it`, async () => {
        for (let round = 0; round < 3; round++) {
          await push('nginx:1.28-alpine', `fix-${step}-${round}`);
          // Only a new Nextcloud build needs the backup first (nginx holds no data).
          if (step === 'backing up') await push('nextcloud:34-fpm-alpine', `fix-${step}-${round}`);
          await killed(await pausedAt(['update'], step));
          await expiry();
          expect(homecloud('status').out).toMatch(/an update started at \d\d:\d\d from this PC \(.*\) was cut short .* at "/);
          const r = homecloud('update');
          expect(r.err).toMatch(/an update started at \d\d:\d\d from this PC \(.*\) was cut short/);
          expect(r.code).toBe(0);
          expect(lock().images.nginx.digest).toBe(digests['nginx:1.28-alpine']);
          expect(image('nextcloud', 'web')).toBe(`nginx:1.28-alpine@${digests['nginx:1.28-alpine']}`);
          expect(spawnSync('kubectl', ['get', 'lease', 'maintenance', ...ns], { env }).status).not.toBe(0);
        }
      }, 10 * 60_000);
    }
  });

  // The PC's scheduled task each night (client/auto-update.ts): after a good backup, with the
  // way back by itself. A build that never becomes ready is one the simulated node never starts
  // (DIR/never-ready, see pod-sim.py), as a real node leaves a pod whose readiness keeps failing.
  describe('security updates by themselves (update --auto, the nightly task)', () => {
    let nights = 0;
    /** A run of the nightly backup's CronJob, ended good or failed, as the night leaves it. */
    const night = async (result: 'success' | 'failed') => {
      fs.writeFileSync(path.join(cluster.dir, 'messages', 'files'), JSON.stringify({ snapshot: SNAPSHOT, result: 'success', time: new Date().toISOString() }));
      const fail = path.join(cluster.dir, 'fail', 'files');
      if (result === 'failed') fs.mkdirSync(path.dirname(fail), { recursive: true }), fs.writeFileSync(fail, '');
      const name = `backup-night-${++nights}`;
      cluster.kubectl(['create', 'job', name, '--from=cronjob/backup', ...ns]);
      let state = '';
      for (let i = 0; i < 240 && !/Complete|Failed/.test(state); i++) {
        await new Promise((r) => setTimeout(r, 500));
        state = cluster.kubectl(['get', 'job', name, ...ns, '-o', 'jsonpath={.status.conditions[*].type}']);
      }
      fs.rmSync(fail, { force: true });
      expect(state).toMatch(result === 'success' ? /Complete/ : /Failed/);
    };
    const record = () => JSON.parse(fs.readFileSync(path.join(work, '.homecloud', 'auto-update.json'), 'utf8'));
    const notifications = () => {
      const f = path.join(webroot(), 'notifications.jsonl');
      return fs.existsSync(f) ? fs.readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l)) : [];
    };
    const jobs = () => cluster.kubectl(['get', 'jobs', ...ns, '-o', 'name']).split('\n').filter((l) => !/backup-night-/.test(l)).join('\n');

    it('after a failed backup changes nothing, and status says why', async () => {
      await push('nginx:1.28-alpine', 'night-1');
      await night('failed');
      const before = fs.readFileSync(lockFile(), 'utf8');
      const jobsBefore = jobs();
      const r = homecloud('update', '--auto');
      expect(r.out).toMatch(/Not tonight: the last backup failed.*; nothing is updated without a good backup/);
      expect(r.code).toBe(0);
      expect(fs.readFileSync(lockFile(), 'utf8')).toBe(before);
      expect(jobs()).toBe(jobsBefore);
      expect(record()).toMatchObject({ result: 'skipped' });
      expect(homecloud('status').out).toMatch(/automatic {9}.*: not tonight: the last backup failed/);
    });

    it('after a good backup installs the new build of an image that holds no data, without a backup of its own, tells the administrator, and deploy keeps it', async () => {
      await night('success');
      const before = fs.readFileSync(lockFile(), 'utf8');
      const dry = homecloud('update', '--auto', '--dry-run');
      expect(dry.out).toMatch(/Tonight's run would install new builds of nginx:1\.28-alpine \(after a good backup\)\. Nothing was changed/);
      expect(fs.readFileSync(lockFile(), 'utf8')).toBe(before);
      const r = homecloud('update', '--auto');
      expect(r.err).toMatch(/no backup needed: only images that hold none of the family's data change/);
      expect(r.err).not.toMatch(/started backup-before-update-/);
      expect(r.out).toMatch(/Installed new builds of nginx:1\.28-alpine; the home cloud is healthy/);
      expect(r.code).toBe(0);
      expect(lock().images.nginx.digest).toBe(digests['nginx:1.28-alpine']);
      expect(image('nextcloud', 'web')).toBe(`nginx:1.28-alpine@${digests['nginx:1.28-alpine']}`);
      expect(record()).toMatchObject({ result: 'updated', changes: [{ tag: 'nginx:1.28-alpine', digest: digests['nginx:1.28-alpine'] }] });
      expect(notifications().pop()).toEqual({ user: 'admin', short: 'homecloud installed security updates', long: expect.stringMatching(/^Tonight homecloud installed new builds of nginx:1\.28-alpine/) });
      const status = homecloud('status').out;
      expect(status).toMatch(/automatic {9}.*: installed new builds of nginx:1\.28-alpine; the home cloud is healthy/);
      expect(status).toMatch(/waiting {11}none/);
      // One source of truth: the lock file, which deploy synthesizes from.
      expect(homecloud('deploy', '--timeout', '120').code).toBe(0);
      expect(image('nextcloud', 'web')).toBe(`nginx:1.28-alpine@${digests['nginx:1.28-alpine']}`);
    });

    it('a new Nextcloud build that never becomes ready is taken back by itself, with the data of the backup just before, and not tried again', async () => {
      const before = lock();
      const running = image('nextcloud', 'nextcloud');
      await push('nextcloud:34-fpm-alpine', 'never-ready');
      fs.appendFileSync(path.join(cluster.dir, 'never-ready'), `nextcloud:34-fpm-alpine@${digests['nextcloud:34-fpm-alpine']}\n`);
      await night('success');
      const r = homecloud('update', '--auto', '--timeout', '20');
      expect(r.err).toMatch(/started backup-before-update-/);
      expect(r.err).toMatch(/the new builds did not become healthy within 20 seconds: going back to the images from before/);
      expect(r.out).toMatch(/New builds of nextcloud:34-fpm-alpine \(34\.0\.2\) did not become healthy within 20 seconds, so the images from before run again/);
      expect(r.code).toBe(1);
      expect(lock()).toEqual(before);
      expect(image('nextcloud', 'nextcloud')).toBe(running);
      // The data went back with it: the restore of the snapshot the backup just before made.
      const restore = JSON.parse(cluster.kubectl(['get', 'jobs', ...ns, '-o', 'json'])).items
        .filter((j: { metadata: { name: string } }) => j.metadata.name.startsWith('rollback-restore')).pop();
      expect(JSON.stringify(restore.spec.template.spec)).toContain(`"name":"RESTORE_SNAPSHOT","value":"${SNAPSHOT}"`);
      expect(cluster.kubectl(['get', 'deployment', 'nextcloud', ...ns, '-o', 'jsonpath={.status.readyReplicas}'])).toBe('1');
      expect(record()).toMatchObject({ result: 'rolled back', refused: [`nextcloud:34-fpm-alpine@${digests['nextcloud:34-fpm-alpine']}`] });
      expect(notifications().pop()).toMatchObject({ short: 'homecloud took back tonight\'s security updates' });
      expect(homecloud('status').out).toMatch(/! The last automatic update: new builds of nextcloud:34-fpm-alpine .* did not become healthy within 20 seconds/);
      // The next night does not try the same build again.
      await night('success');
      const next = homecloud('update', '--auto');
      expect(next.out).toMatch(/No new builds besides nextcloud:34-fpm-alpine, which a night took back before \(npm run update installs them by hand\)/);
      expect(next.code).toBe(0);
      expect(lock()).toEqual(before);
    }, 10 * 60_000);

    // The PC switched off in the middle of a night: the next night finishes it, never leaving the
    // family on builds that do not become healthy (and going back only while they are not).
    for (const step of ['waiting for health', 'going back']) {
      it(`a night cut short at "${step}" with a build that never becomes ready: the next night goes back`, async () => {
        const before = lock();
        const running = image('nextcloud', 'nextcloud');
        await push('nextcloud:34-fpm-alpine', `never-ready-${step}`);
        const broken = `nextcloud:34-fpm-alpine@${digests['nextcloud:34-fpm-alpine']}`;
        fs.appendFileSync(path.join(cluster.dir, 'never-ready'), `${broken}\n`);
        await night('success');
        await killed(await pausedAt(['update', '--auto', '--timeout', '20'], step));
        await expiry();
        expect(homecloud('status').out).toMatch(new RegExp(`an update started at \\d\\d:\\d\\d from this PC \\(.*\\) was cut short .* at "${step}"`));
        const r = homecloud('update', '--auto', '--timeout', '20');
        expect(r.err).toMatch(/an update started at .* was cut short/);
        expect(r.err).toMatch(step === 'going back' ? /finishing it: going back to the images from before/
          : /finishing it: deploying the images images\.lock\.json pins[\s\S]*finishing it: going back to the images from before/);
        expect(r.out).toMatch(/An update cut short \(the PC switched off\?\) left builds that did not become healthy \(nextcloud:34-fpm-alpine\); the images from before run again/);
        expect(r.code).toBe(0);
        expect(lock()).toEqual(before);
        expect(image('nextcloud', 'nextcloud')).toBe(running);
        expect(record().refused).toContain(broken);
        expect(notifications().pop()).toMatchObject({ short: 'homecloud took back tonight\'s security updates' });
        expect(spawnSync('kubectl', ['get', 'lease', 'maintenance', ...ns], { env }).status).not.toBe(0);
        // And the build is not tried again.
        await night('success');
        expect(homecloud('update', '--auto').out).toMatch(/No new builds besides nextcloud:34-fpm-alpine, which a night took back before/);
      }, 10 * 60_000);
    }

    it('while a restore holds the maintenance lock, the night changes nothing; the next night installs', async () => {
      await push('nginx:1.28-alpine', 'night-while-restoring');
      await night('success');
      holdRestoreLock();
      const before = fs.readFileSync(lockFile(), 'utf8');
      const jobsBefore = jobs();
      const r = homecloud('update', '--auto');
      expect(r.out).toMatch(/Not tonight: A restore started at \d\d:\d\d from this PC \(FAMILY-PC, ben\) \(now: restoring\) is still running; only one thing at a time.*The next night tries again/);
      expect(r.code).toBe(0);
      expect(fs.readFileSync(lockFile(), 'utf8')).toBe(before);
      expect(jobs()).toBe(jobsBefore);
      cluster.kubectl(['delete', 'lease', 'maintenance', ...ns]);
      await night('success');
      const next = homecloud('update', '--auto');
      expect(next.out).toMatch(/Installed new builds of nginx:1\.28-alpine/);
      expect(lock().images.nginx.digest).toBe(digests['nginx:1.28-alpine']);
    });
  });

  // The app store's answer for one Nextcloud major: the apps that have a release for it.
  const storeLists = (major: number, apps: string[]) => {
    const dir = path.join(store.dir, 'api', 'v1', 'platform', `${major}.0.0`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'apps.json'), JSON.stringify(apps.map((id) => ({ id, releases: [{ version: '1.0.0' }] }))));
  };

  it('upgrade refuses while an app the family uses has no release for a major on the way, and changes nothing', () => {
    fs.writeFileSync(path.join(webroot(), 'apps.json'), JSON.stringify({ calendar: '5.0.0', contacts: '7.0.0', news: '25.0.0' }));
    storeLists(35, ['calendar', 'contacts', 'news', 'deck']);
    storeLists(36, ['calendar', 'contacts', 'deck']);
    const before = fs.readFileSync(lockFile(), 'utf8');
    const r = homecloud('upgrade', '--yes');
    expect(r.err).toMatch(/Not upgrading: The app store has no release of news for Nextcloud 36: the upgrade would disable it\. Wait until it supports 36.*--force/);
    expect(r.code).toBe(2);
    expect(fs.readFileSync(lockFile(), 'utf8')).toBe(before);
    expect(cluster.kubectl(['get', 'jobs', ...ns, '-o', 'name'])).not.toMatch(/backup-before-upgrade/);
    storeLists(36, ['calendar', 'contacts', 'deck', 'news']);
  });

  it('upgrade: one major at a time, 34 → 35 → 36, each step backed up, waiting until Nextcloud reports it', () => {
    const r = homecloud('upgrade', '--yes', '--timeout', '120');
    expect(r.out).toMatch(/Upgrading Nextcloud 34\.0\.2 to 36: 2 step\(s\)/);
    expect(r.err).toMatch(/step 34 → 35[\s\S]*started backup-before-upgrade-[\s\S]*Nextcloud 35\.0\.2 is running[\s\S]*step 35 → 36[\s\S]*Nextcloud 36\.0\.2 is running/);
    expect(r.out).toMatch(/Nextcloud is upgraded to 36/);
    expect(r.code).toBe(0);
    expect(image('nextcloud', 'nextcloud')).toBe(`nextcloud:36-fpm-alpine@${digests['nextcloud:36-fpm-alpine']}`);
    expect(lock().images.nextcloud).toMatchObject({ tag: 'nextcloud:36-fpm-alpine', version: '36.0.2' });
    // The backup job runs the new image too (its occ must match the data).
    expect(cluster.kubectl(['get', 'cronjob', 'backup', ...ns, '-o', 'jsonpath={.spec.jobTemplate.spec.template.spec.containers[?(@.name=="files")].image}'])).toMatch(/^nextcloud:36-fpm-alpine@/);
  });

  it('upgrade with nothing newer, or to an older major, changes nothing', () => {
    expect(homecloud('upgrade', '--yes').out).toMatch(/Nextcloud 36\.0\.2 is the newest major there is/);
    const back = homecloud('upgrade', '--major', '35', '--yes');
    expect(back.code).toBe(2);
    expect(back.err).toMatch(/cannot go back to 35.*npm run rollback/);
  });

  it('rollback: the images from before the last step and the data of the backup taken just before it', () => {
    const r = homecloud('rollback', '--yes');
    expect(r.out).toMatch(new RegExp(`Rolled back the upgrade of Nextcloud 35 to 36: Nextcloud 35 runs again with the data of backup ${SNAPSHOT}`));
    expect(r.code).toBe(0);
    expect(image('nextcloud', 'nextcloud')).toBe(`nextcloud:35-fpm-alpine@${digests['nextcloud:35-fpm-alpine']}`);
    expect(lock().images.nextcloud.tag).toBe('nextcloud:35-fpm-alpine');
    const restore = JSON.parse(cluster.kubectl(['get', 'jobs', ...ns, '-o', 'json'])).items.find((j: { metadata: { name: string } }) => j.metadata.name.startsWith('rollback-restore-'));
    const spec = restore.spec.template.spec;
    expect([...(spec.initContainers ?? []), ...spec.containers].flatMap((c: { env?: { name: string; value: string }[] }) => c.env ?? [])
      .find((e: { name: string }) => e.name === 'RESTORE_SNAPSHOT')?.value).toBe(SNAPSHOT);
    expect(cluster.kubectl(['get', 'deployment', 'nextcloud', ...ns, '-o', 'jsonpath={.spec.replicas}'])).toBe('1');
    expect(homecloud('rollback', '--yes').out).toMatch(/Nothing to roll back/);
  });

  it('a failed step stops with the way back, and rollback takes it', () => {
    fs.writeFileSync(path.join(webroot(), 'fail-upgrade-to-36'), '');
    // An app store that cannot be reached: a warning, not a refusal.
    fs.rmSync(path.join(store.dir, 'api'), { recursive: true });
    const r = homecloud('upgrade', '--yes', '--timeout', '15');
    expect(r.err).toMatch(/warning: the Nextcloud app store did not say which apps support Nextcloud 36/);
    expect(r.out).toMatch(/The upgrade to Nextcloud 36 failed: Nextcloud did not report version 36/);
    expect(r.out).toMatch(new RegExp(`safe in backup ${SNAPSHOT}\\. To go back to Nextcloud 35 with that backup: npm run rollback`));
    expect(r.code).toBe(1);
    fs.rmSync(path.join(webroot(), 'fail-upgrade-to-36'));
    expect(homecloud('rollback', '--yes').code).toBe(0);
    expect(image('nextcloud', 'nextcloud')).toMatch(/^nextcloud:35-fpm-alpine@/);
  });

  it('a failed middle step (35 → 36 of 35 → 37) whose Nextcloud keeps crashing stops at once, never tries 37, and says the way back', async () => {
    await push('nextcloud:37-fpm-alpine', 'first');
    storeLists(37, ['calendar', 'contacts', 'deck', 'news']);
    fs.writeFileSync(path.join(webroot(), 'fail-upgrade-to-36'), '');
    const child = spawn(process.execPath, [BIN, 'upgrade', '--yes', '--timeout', '600', '--context', 'homecloud-test'], { env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    // The new pod's Nextcloud crash-loops, as a failing upgrade on start does.
    let pod = '';
    for (let i = 0; i < 120 && !pod; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      const items = JSON.parse(cluster.kubectl(['get', 'pods', ...ns, '-l', 'app.kubernetes.io/component=web', '-o', 'json'])).items as Array<{
        metadata: { name: string; deletionTimestamp?: string }; spec: { containers: Array<{ name: string; image: string }> }; status: { phase?: string } }>;
      pod = items.find((p) => !p.metadata.deletionTimestamp && p.status.phase === 'Running'
        && p.spec.containers.some((c) => c.name === 'nextcloud' && c.image.startsWith('nextcloud:36-fpm-alpine')))?.metadata.name ?? '';
    }
    expect(pod).not.toBe('');
    fs.appendFileSync(path.join(cluster.podFolder('homecloud', pod), 'logs', 'nextcloud.log.previous'),
      '2026-11-27T10:00:00.000000000Z stderr F An unhandled exception has been thrown:\n'
      + '2026-11-27T10:00:00.000000000Z stderr F Exception: Database error when running migration 36000Date20261101 for app core\n');
    cluster.kubectl(['patch', 'pod', pod, ...ns, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: {
      containerStatuses: [{ name: 'nextcloud', image: 'nextcloud:36-fpm-alpine', imageID: '', ready: false, restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff' } } }],
    } })]);
    expect(await exited).toBe(1);
    expect(out).toMatch(/Upgrading Nextcloud 35\.0\.2 to 37: 2 step\(s\)/);
    expect(out).toMatch(/The upgrade to Nextcloud 36 failed: Nextcloud 36 keeps crashing while it starts; its last words:\n[\s\S]*\| Exception: Database error when running migration 36000Date20261101/);
    expect(out).toMatch(/To go back to Nextcloud 35 with that backup: npm run rollback/);
    // One backup for the one step taken; 37 was never tried.
    expect(err.match(/started backup-before-upgrade-/g)).toHaveLength(1);
    expect(err).toMatch(/step 35 → 36/);
    expect(err).not.toMatch(/step 36 → 37/);
    expect(lock().images.nextcloud.tag).toBe('nextcloud:36-fpm-alpine');
    fs.rmSync(path.join(webroot(), 'fail-upgrade-to-36'));
    expect(homecloud('rollback', '--yes').code).toBe(0);
    expect(image('nextcloud', 'nextcloud')).toMatch(/^nextcloud:35-fpm-alpine@/);
    expect(lock().images.nextcloud.tag).toBe('nextcloud:35-fpm-alpine');
  }, 300_000);

  describe('PostgreSQL majors', () => {
    const env0 = (c: string) => cluster.kubectl(['get', 'deployment', 'database', ...ns, '-o', `jsonpath={.spec.template.spec.containers[?(@.name=="postgres")].env[?(@.name=="${c}")].value}`]).trim();
    const dataVolume = () => {
      const pv = cluster.kubectl(['get', 'pvc', 'database-data', ...ns, '-o', 'jsonpath={.spec.volumeName}']).trim();
      return cluster.kubectl(['get', 'pv', pv, '-o', 'jsonpath={.spec.hostPath.path}']).trim();
    };
    const harness = (kind: 'messages' | 'fail', container: string, text?: string) => {
      const f = path.join(cluster.dir, kind, container);
      if (text === undefined) fs.rmSync(f, { force: true });
      else {
        fs.mkdirSync(path.dirname(f), { recursive: true });
        fs.writeFileSync(f, text);
      }
    };

    it('refuses to go down a major, and says when there is nothing to do', () => {
      const down = homecloud('upgrade', '--postgres', '17', '--yes');
      expect(down.err).toMatch(/PostgreSQL 18 runs now; its data cannot go back to 17/);
      expect(down.code).toBe(2);
      expect(homecloud('upgrade', '--postgres', '18', '--yes').out).toMatch(/already runs PostgreSQL 18/);
      const missing = homecloud('upgrade', '--postgres', '20', '--yes');
      expect(missing.err).toMatch(/PostgreSQL 20 is not published \(as postgres:20-alpine\)\. Nothing was changed/);
      expect(missing.code).toBe(2);
    });

    it('a copy that fails switches nothing: PostgreSQL 18 keeps running with all the data, Nextcloud comes back', () => {
      harness('fail', 'upgrade', '');
      harness('messages', 'upgrade', 'the new database differs from the old one: < public.oc_filecache 500 ab…');
      const r = homecloud('upgrade', '--postgres', '19', '--yes', '--timeout', '120');
      expect(r.out).toMatch(/The copy into PostgreSQL 19 failed: the new database differs from the old one.*Nothing was switched: PostgreSQL 18 runs as before/);
      expect(r.code).toBe(1);
      expect(image('database', 'postgres')).toMatch(/^postgres:18-alpine@/);
      expect(lock().images.postgres.tag).toBe('postgres:18-alpine');
      expect(cluster.kubectl(['get', 'deployment', 'nextcloud', ...ns, '-o', 'jsonpath={.spec.replicas}'])).toBe('1');
      harness('fail', 'upgrade');
    });

    it('moves to 19: Nextcloud stopped, a backup, the copy checked row by row, then the switch', () => {
      harness('messages', 'upgrade', 'upgraded: 41 tables, 182034 rows equal (from server version 180001)');
      const r = homecloud('upgrade', '--postgres', '19', '--yes', '--timeout', '120');
      expect(r.err).toMatch(/started backup-before-postgres-[\s\S]*copying the database into PostgreSQL 19 \(database-upgrade-\d+\)/);
      expect(r.out).toMatch(/The database runs PostgreSQL 19\. PostgreSQL 18's data stays on the volume for 14 days/);
      expect(r.code).toBe(0);
      expect(image('database', 'postgres')).toBe(`postgres:19-alpine@${digests['postgres:19-alpine']}`);
      expect(env0('PGDATA')).toBe('/var/lib/postgresql/19/docker');
      // The copy ran in the new image, on the same volume, beside the old server.
      const copy = JSON.parse(cluster.kubectl(['get', 'jobs', ...ns, '-o', 'json'])).items.find((j: { metadata: { name: string } }) => j.metadata.name.startsWith('database-upgrade-'));
      expect(copy.spec.template.spec.containers[0].image).toBe(`postgres:19-alpine@${digests['postgres:19-alpine']}`);
      expect(copy.spec.template.spec.volumes).toContainEqual({ name: 'data', persistentVolumeClaim: { claimName: 'database-data' } });
      expect(cluster.kubectl(['get', 'deployment', 'nextcloud', ...ns, '-o', 'jsonpath={.spec.replicas}'])).toBe('1');
      expect(JSON.parse(fs.readFileSync(path.join(work, '.homecloud', 'rollback.json'), 'utf8'))).toMatchObject({ command: 'upgrade-postgres', snapshot: SNAPSHOT });
      // Status tells of the folder kept beside the new one, and until when.
      expect(homecloud('status').out).toMatch(/old PostgreSQL {4}PostgreSQL 18's data stays on the volume until .* \(npm run rollback goes back to it; npm run upgrade -- --confirm frees the space now\)/);
      // A later deploy keeps 19: the guard knows the data moved.
      expect(homecloud('deploy', '--no-wait').code).toBe(0);
    });

    it('rollback goes back to PostgreSQL 18 and the files and database of the backup taken just before the move', () => {
      const r = homecloud('rollback', '--yes');
      expect(r.out).toMatch(new RegExp(`Rolled back the move of the database from PostgreSQL 18 to 19 with the data of backup ${SNAPSHOT}`));
      expect(r.code).toBe(0);
      expect(image('database', 'postgres')).toMatch(/^postgres:18-alpine@/);
      expect(env0('PGDATA')).toBe('/var/lib/postgresql/18/docker');
      // Back on 18: no earlier major is kept aside for status to tell of.
      expect(homecloud('status').out).not.toMatch(/old PostgreSQL/);
    });

    it('--confirm deletes the other majors\' data folders from the volume, through the running database pod', () => {
      const volume = dataVolume();
      for (const d of ['18/docker', '19/docker']) fs.mkdirSync(path.join(volume, d), { recursive: true });
      fs.writeFileSync(path.join(volume, '18', 'docker', 'PG_VERSION'), '18\n');
      const r = homecloud('upgrade', '--confirm', '--yes');
      expect(r.out).toMatch(/Removed the data of 1 older PostgreSQL major\(s\); PostgreSQL 18 keeps running/);
      expect(r.code).toBe(0);
      expect(fs.readdirSync(volume).sort()).toEqual(['18']);
      expect(fs.existsSync(path.join(volume, '18', 'docker', 'PG_VERSION'))).toBe(true);
    });

    // A move killed at each of its steps, twice each, one major further each time (18 → 28):
    // status and the next command tell of it; any next command starts Nextcloud again, and the
    // same upgrade, run again, finishes the move. (upgrade-major.sh's own kill tests cover the
    // data inside the copy: test/database/.)
    it('a move cut short at any step is told of, Nextcloud is started again, and the move run again finishes it', async () => {
      const steps = ['started', 'stopping Nextcloud', 'backing up', 'copying the database', 'switching to the new PostgreSQL'];
      for (let i = 0; i < 2 * steps.length; i++) {
        const target = 19 + i;
        const step = steps[i % steps.length];
        if (!digests[`postgres:${target}-alpine`]) await push(`postgres:${target}-alpine`, 'first');
        await killed(await pausedAt(['upgrade', '--postgres', String(target), '--yes', '--timeout', '120'], step));
        await expiry();
        expect(homecloud('status').out).toMatch(new RegExp(`an upgrade started at \\d\\d:\\d\\d from this PC \\(.*\\) was cut short .* at "${step}"`));
        if (i >= steps.length) {
          // The second time round another command comes first: it puts Nextcloud back.
          const other = homecloud('backup');
          expect(other.err).toMatch(/an upgrade started at .* was cut short/);
          expect(other.code).toBe(0);
          expect(cluster.kubectl(['get', 'deployment', 'nextcloud', ...ns, '-o', 'jsonpath={.spec.replicas}'])).toBe('1');
        }
        const again = homecloud('upgrade', '--postgres', String(target), '--yes', '--timeout', '120');
        expect({ step, code: again.code, out: again.out }).toMatchObject({ step, code: 0, out: expect.stringMatching(new RegExp(`The database runs PostgreSQL ${target}\\.`)) });
        expect(image('database', 'postgres')).toBe(`postgres:${target}-alpine@${digests[`postgres:${target}-alpine`]}`);
        expect(cluster.kubectl(['get', 'deployment', 'nextcloud', ...ns, '-o', 'jsonpath={.spec.replicas}'])).toBe('1');
        expect(spawnSync('kubectl', ['get', 'lease', 'maintenance', ...ns], { env }).status).not.toBe(0);
      }
    }, 30 * 60_000);

    it('once the move is confirmed, status no longer tells of the old folder, and rollback says it cannot go back to it', () => {
      expect(homecloud('status').out).toMatch(/old PostgreSQL {4}PostgreSQL 27's data stays on the volume until/);
      expect(homecloud('upgrade', '--confirm', '--yes').code).toBe(0);
      expect(homecloud('status').out).not.toMatch(/old PostgreSQL/);
      const r = homecloud('rollback', '--yes');
      expect(r.err).toMatch(/The move of the database from PostgreSQL 27 to 28 was confirmed on \d{4}-\d\d-\d\d .*there is nothing to go back to\. Nothing was changed/);
      expect(r.code).toBe(2);
      expect(image('database', 'postgres')).toBe(`postgres:28-alpine@${digests['postgres:28-alpine']}`);
    });
  });
});

/** A static stand-in for apps.nextcloud.com's API (python's http.server on a free port). */
function startAppStore(dir: string): Promise<{ url: string; dir: string; process: ChildProcess }> {
  fs.mkdirSync(dir, { recursive: true });
  const child = spawn('python3', ['-u', '-m', 'http.server', '0', '--bind', '127.0.0.1', '--directory', dir], { stdio: ['ignore', 'pipe', 'ignore'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const m = /port (\d+)/.exec(out);
      if (m) resolve({ url: `http://127.0.0.1:${m[1]}`, dir, process: child });
    });
    child.on('exit', (code) => reject(new Error(`the app store stand-in exited (${code})`)));
  });
}
