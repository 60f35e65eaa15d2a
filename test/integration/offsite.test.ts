import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { synth } from '../../lib/stack/synth';
import { ControlPlane, controlPlaneAvailable, startControlPlane } from '../support/control-plane';
import { commands, describeWhen } from '../support/requirements';
import { killed, leaseExpiry, leaseOf, pausedAt } from '../support/pause-points';
import { HOST } from '../support/stack';
import { detectHostFacts } from '../../lib/config/host-facts';

const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'homecloud.js');

const ready = (() => {
  const cp = controlPlaneAvailable();
  const tools = commands(['restic', 'busybox'], 'apt-get install restic busybox');
  return { ok: cp.ok && tools.ok, reason: [cp.ok ? '' : cp.reason, tools.ok ? '' : tools.reason].filter(Boolean).join('; ') };
})();

// The copy outside Docker Desktop on a kind cluster, and the way back after the namespace is
// gone, through the real entry points and a real API server. The test node's exec runs each
// command in the pod's own folder with busybox first on PATH (as in the Alpine images) and the
// host's restic: the client's transfers and import.sh are exercised for real.
/** Rot: one bit of one index file of a repository flipped (restic's files are read-only). */
function flipOneBitOfAnIndexFile(repo: string): void {
  const index = path.join(repo, 'index');
  const file = path.join(index, fs.readdirSync(index)[0]);
  fs.chmodSync(file, 0o644);
  const bytes = fs.readFileSync(file);
  bytes[bytes.length >> 1] ^= 0x01;
  fs.writeFileSync(file, bytes);
}

describeWhen(ready, 'the off-disk copy made by the PC, and restore --from, on a real control plane', () => {
  let cluster: ControlPlane;
  let work: string;
  let outdir: string;
  let folder: string;
  let env: NodeJS.ProcessEnv;
  let key: string;
  const ns = ['-n', 'homecloud'];
  const SNAPSHOT = '2026-11-26T013000Z';
  const files: Record<string, Buffer> = {
    'data/alice/files/Photos/Geburtstag Müller.jpg': crypto.randomBytes(300_000),
    'data/alice/files/Notes/-leading dash.md': Buffer.from('# note\n'),
    'data/bob/files/Documents/Steuer 2026: final?.pdf': crypto.randomBytes(40_000),
    'config/config.php': Buffer.from('<?php $CONFIG = [];\n'),
  };

  const homecloud = (...args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args, '--context', 'homecloud-test'], { env, encoding: 'utf8', timeout: 300_000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const synthWith = (credentials: string) => {
    if (synth({ backup: { offsite: { clusterType: 'kind', folder } } }, HOST, { outdir, credentials }, () => undefined) !== 0) throw new Error('synth failed');
    return JSON.parse(fs.readFileSync(credentials, 'utf8')).backupKey as string;
  };
  const backupVolume = () => {
    const pv = cluster.kubectl(['get', 'pvc', 'backup-data', ...ns, '-o', 'jsonpath={.spec.volumeName}']).trim();
    return cluster.kubectl(['get', 'pv', pv, '-o', 'jsonpath={.spec.hostPath.path}']).trim();
  };
  const restic = (password: string, ...args: string[]) => spawnSync('restic', args, {
    env: { PATH: '/usr/bin:/bin', HOME: os.tmpdir(), RESTIC_PASSWORD: password, RESTIC_CACHE_DIR: path.join(work, 'restic-cache') }, encoding: 'utf8',
  });
  /** What tonight's job leaves in the backup volume: a snapshot, and it in the repository (offsite.sh's steps). */
  const nightlyInto = (volume: string, password = key, tag = SNAPSHOT) => {
    const stage = path.join(volume, '.offsite-stage');
    const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
    const dump = crypto.randomBytes(100_000);
    fs.mkdirSync(path.join(stage, 'files'), { recursive: true });
    fs.writeFileSync(path.join(stage, 'database.dump'), dump);
    fs.writeFileSync(path.join(stage, 'roles.sql'), '');
    fs.writeFileSync(path.join(stage, 'database.sha256'), `${sha(dump)}  database.dump\n${sha(Buffer.alloc(0))}  roles.sql\n`);
    fs.writeFileSync(path.join(stage, 'summary.json'), JSON.stringify({ snapshot: tag, nextcloudVersion: '34.0.1' }));
    for (const [rel, data] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(stage, 'files', rel)), { recursive: true });
      fs.writeFileSync(path.join(stage, 'files', rel), data);
    }
    fs.writeFileSync(path.join(stage, 'MANIFEST'), Object.entries(files).map(([rel, data]) => `${sha(data)}  ${rel}\n`).join(''));
    const repo = path.join(volume, 'repository');
    if (!fs.existsSync(path.join(repo, 'config'))) expect(restic(password, '-r', repo, 'init').status).toBe(0);
    expect(restic(password, '-r', repo, 'backup', '--host', 'homecloud', '--tag', tag, stage).status).toBe(0);
    fs.rmSync(stage, { recursive: true });
    // The job pods run as www-data (82): the files are theirs.
    spawnSync('chown', ['-R', '82:82', volume]);
  };
  const repoFiles = (repo: string) => spawnSync('find', ['.', '-type', 'f', '!', '-path', './locks/*'], { cwd: repo, encoding: 'utf8' }).stdout.trim().split('\n').sort();

  beforeAll(() => {
    cluster = startControlPlane();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-offsite-'));
    outdir = path.join(work, 'dist');
    folder = path.join(work, 'windows', 'homecloud-backups');
    fs.mkdirSync(path.dirname(folder));
    key = synthWith(path.join(work, 'credentials.json'));
    env = { ...process.env, KUBECONFIG: cluster.kubeconfig, HOMECLOUD_OUTDIR: outdir };
  }, 30 * 60_000);
  afterAll(() => cluster?.stop());

  it('deploys, and on a PC that is not Windows says how to schedule the copy', () => {
    const r = homecloud('deploy', '--timeout', '120');
    expect(r.err).toMatch(new RegExp(`the nightly copy to ${folder.replace(/[/\\]/g, '.')} is made by this PC: schedule \`npm run offsite\` daily at 04:30`));
    expect(r.code).toBe(0);
    nightlyInto(backupVolume());
  });

  it('copies the repository into the folder, verified, and records it for status', () => {
    const r = homecloud('offsite');
    expect(r.err).toMatch(/copying \d+ file\(s\)/);
    expect(r.out).toMatch(new RegExp(`The backups are copied to ${folder.replace(/[/\\]/g, '.')}`));
    expect(r.code).toBe(0);
    expect(repoFiles(path.join(folder, 'repository'))).toEqual(repoFiles(path.join(backupVolume(), 'repository')));
    expect(restic(key, '-r', path.join(folder, 'repository'), 'check', '--read-data').status).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(folder, 'homecloud-copy.json'), 'utf8'))).toMatchObject({ result: 'success', folder });
    expect(cluster.kubectl(['get', 'jobs', ...ns, '-o', 'name'])).not.toMatch(/offsite-/);
    const status = homecloud('status');
    expect(status.out).toMatch(/Copy outside Docker Desktop:[\s\S]*last copy +.*: success[\s\S]*made by +this PC's scheduled task/);
  });

  it('copies nothing the second time', () => {
    const r = homecloud('offsite');
    expect(r.err).toMatch(/copying 0 file\(s\), 0\.0 MB/);
    expect(r.code).toBe(0);
  });

  it('reads its whole copy back every 7 days, and fetches a damaged file again', () => {
    const repo = path.join(folder, 'repository');
    const pack = spawnSync('find', [path.join(repo, 'data'), '-type', 'f'], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
    const bytes = fs.readFileSync(pack);
    bytes[bytes.length >> 1] ^= 0xff; // same size: only reading it back finds this
    fs.writeFileSync(pack, bytes);
    const record = path.join(folder, 'homecloud-copy.json');
    fs.writeFileSync(record, JSON.stringify({ ...JSON.parse(fs.readFileSync(record, 'utf8')), verified: new Date(Date.now() - 8 * 86400_000).toISOString() }));
    const r = homecloud('offsite');
    expect(r.err).toMatch(/reading back every file of the copy[\s\S]*the copy's files: 1 damaged, fetched again below[\s\S]*copying 1 file\(s\)/);
    expect(r.code).toBe(0);
    expect(restic(key, '-r', repo, 'check', '--read-data').status).toBe(0);
    expect(homecloud('status').out).toMatch(/found 1 damaged file\(s\); they were copied again from the cluster/);
    // Not again until seven days have passed.
    expect(homecloud('offsite').err).not.toMatch(/reading back/);
  });

  it('puts back a file the night found damaged inside Docker Desktop, from the copy on the PC', () => {
    const inCluster = path.join(backupVolume(), 'repository');
    const pack = spawnSync('find', [path.join(inCluster, 'data'), '-type', 'f'], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
    const good = fs.readFileSync(pack);
    const bad = Buffer.from(good);
    bad[bad.length >> 1] ^= 0xff; // same size: the copy on the PC keeps its good version
    fs.writeFileSync(pack, bad);
    // What the night's scrub leaves (offsite.sh): the files that do not match their names.
    fs.writeFileSync(path.join(backupVolume(), 'repository-damaged'), `${path.relative(inCluster, pack)}\n`);
    const r = homecloud('offsite');
    expect(r.err).toMatch(/has 1 damaged file\(s\); 1 of them intact in this copy: putting those back[\s\S]*put back 1 file\(s\)/);
    expect(r.code).toBe(0);
    expect(fs.readFileSync(pack).equals(good)).toBe(true);
    expect(fs.readdirSync(path.dirname(pack)).filter((n) => n.endsWith('.healing'))).toEqual([]);
    expect(restic(key, '-r', inCluster, 'check', '--read-data').status).toBe(0);
    expect(restic(key, '-r', path.join(folder, 'repository'), 'check', '--read-data').status).toBe(0);
    expect(cluster.kubectl(['get', 'jobs', ...ns, '-o', 'name'])).not.toMatch(/repair-|offsite-/);
    fs.rmSync(path.join(backupVolume(), 'repository-damaged'));
  });

  it('never copies over a folder that holds another install\'s repository (its config is the same size as any), and changes nothing there', () => {
    const other = path.join(work, 'another-install', 'homecloud-backups');
    const repo = path.join(other, 'repository');
    const data = path.join(work, 'another-install', 'data');
    fs.mkdirSync(data, { recursive: true });
    fs.writeFileSync(path.join(data, 'photo.jpg'), crypto.randomBytes(50_000));
    expect(restic('another-install-key', '-r', repo, 'init').status).toBe(0);
    expect(restic('another-install-key', '-r', repo, 'backup', '--host', 'homecloud', '--tag', '2026-10-01T013000Z', data).status).toBe(0);
    expect(fs.statSync(path.join(repo, 'config')).size).toBe(fs.statSync(path.join(backupVolume(), 'repository', 'config')).size);
    const files = repoFiles(repo);
    const r = homecloud('offsite', '--to', other);
    expect(r.err).toMatch(/holds a different backup repository \(another install's\?\)\. Nothing was changed\. If it is the family's earlier backups, npm run restore -- --from ".*" brings them back; otherwise move it away or choose another folder \(backup\.offsite\.folder\)\./);
    expect(r.code).toBe(2);
    expect(repoFiles(repo)).toEqual(files);
    expect(restic('another-install-key', '-r', repo, 'snapshots', '--json').stdout).toContain('2026-10-01T013000Z');
  });

  it('fetches the copy\'s config again when only it rotted (the same repository: they share their key files)', () => {
    const config = path.join(folder, 'repository', 'config');
    const bytes = fs.readFileSync(config);
    bytes[bytes.length >> 1] ^= 0x01;
    fs.writeFileSync(config, bytes);
    const r = homecloud('offsite');
    expect(r.err).toMatch(/the copy's config file does not match the repository's \(damaged\): fetching it again[\s\S]*copying 1 file\(s\)/);
    expect(r.code).toBe(0);
    expect(fs.readFileSync(config).equals(fs.readFileSync(path.join(backupVolume(), 'repository', 'config')))).toBe(true);
    expect(restic(key, '-r', path.join(folder, 'repository'), 'check').status).toBe(0);
  });

  it('says plainly when the folder\'s drive is not there', () => {
    const r = homecloud('offsite', '--to', path.join(work, 'unplugged', 'homecloud-backups'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/is not there \(USB disk unplugged\? drive letter changed\?\)/);
  });

  /** A folder on a small file system of its own (a USB stick that is full, or write-protected). */
  const onTmpfs = (options: string, body: (dir: string) => void) => {
    const dir = fs.mkdtempSync(path.join(work, 'tmpfs-'));
    spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
    try {
      body(dir);
    } finally {
      spawnSync('umount', [dir]);
    }
  };
  const asRoot = process.getuid?.() === 0 ? it : it.skip;

  asRoot('says plainly when the folder is read-only, and changes nothing there', () => onTmpfs('ro,size=1m', (ro) => {
    const r = homecloud('offsite', '--to', ro);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/Cannot write to .* \(EROFS\): read-only, full, or no permission/);
  }));

  asRoot('says plainly when the folder is full, and leaves nothing half-copied', () => onTmpfs('size=64k', (small) => {
    const r = homecloud('offsite', '--to', small);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/The folder's drive (is full|filled up)/);
    expect(fs.readdirSync(small).filter((n) => n !== 'repository' && n !== 'homecloud-copy.json')).toEqual([]);
    // The folder may be too full even for the record of the failure; status then keeps the last good one.
    const record = path.join(small, 'homecloud-copy.json');
    expect(fs.existsSync(record) ? JSON.parse(fs.readFileSync(record, 'utf8')).result : 'none').not.toBe('success');
  }));

  describe('after kubectl delete namespace, with the credentials file lost too', () => {
    beforeAll(() => {
      cluster.kubectl(['delete', 'namespace', 'homecloud', '--wait=true', '--timeout=120s']);
      // A fresh synth: new passwords and a new backup key.
      synthWith(path.join(work, 'credentials-new.json'));
    }, 180_000);

    it('names a key file that is not there before touching anything', () => {
      const r = homecloud('restore', '--from', folder, '--key-file', path.join(work, 'no-such-key.txt'), '--yes');
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/The key file .*no-such-key\.txt is not there/);
      expect(cluster.kubectl(['get', 'namespaces', '-o', 'name'])).not.toMatch(/namespace\/homecloud\b/);
    });

    it('refuses without the recovery key, naming it, and restores nothing', () => {
      const r = homecloud('restore', '--from', folder, '--yes');
      expect(r.err).toMatch(/deploying it first/);
      expect(r.err).toMatch(/locked with another key than this install's.*recovery key.*--key-file/);
      expect(r.code).toBe(2);
      expect(cluster.kubectl(['get', 'jobs', ...ns, '-o', 'name'])).not.toMatch(/restore-|import-/);
    });

    it('(meanwhile the new install\'s first night made a repository and a snapshot of its own)', () => {
      const newKey = JSON.parse(fs.readFileSync(path.join(work, 'credentials-new.json'), 'utf8')).backupKey;
      nightlyInto(backupVolume(), newKey, '2026-11-27T013000Z');
      expect(restic(newKey, '-r', path.join(backupVolume(), 'repository'), 'snapshots', '--json').stdout).toContain('2026-11-27T013000Z');
    });

    it('brings the snapshot back in with the recovery key and runs the restore for it', () => {
      const keyFile = path.join(work, 'recovery-key.txt');
      fs.writeFileSync(keyFile, `${key}\n`);
      const r = homecloud('restore', '--from', folder, '--key-file', keyFile, '--yes');
      // What import.sh does is said as it goes (a whole library takes long enough to look hung otherwise).
      expect(r.err).toMatch(/uploading the copy from .* into the cluster \(\d+ MB\)\n[\s\S]*^restoring snapshot 2026-11-26T013000Z from the copy$[\s\S]*^adopting the copy as this install's backup repository$[\s\S]*snapshot 2026-11-26T013000Z is in; restoring it[\s\S]*started restore-\d+/m);
      expect(r.out + r.err).toMatch(/Restored 2026-11-26T013000Z from /);
      expect(r.code).toBe(0);
      // The snapshot is back in the new backup volume, byte for byte, and its checksums hold.
      const dir = path.join(backupVolume(), 'snapshots', SNAPSHOT);
      for (const [rel, data] of Object.entries(files)) {
        expect([rel, fs.readFileSync(path.join(dir, 'files', rel)).equals(data)]).toEqual([rel, true]);
      }
      // The copy became this install's repository, and the new install's key opens it too.
      const newKey = JSON.parse(fs.readFileSync(path.join(work, 'credentials-new.json'), 'utf8')).backupKey;
      expect(restic(newKey, '-r', path.join(backupVolume(), 'repository'), 'snapshots').status).toBe(0);
      // The restore template ran for that snapshot; no key is left in the cluster.
      const job = JSON.parse(cluster.kubectl(['get', 'jobs', ...ns, '-o', 'json'])).items.find((j: { metadata: { name: string } }) => j.metadata.name.startsWith('restore-'));
      expect(job.spec.template.spec.initContainers.find((c: { name: string }) => c.name === 'check').env).toContainEqual({ name: 'RESTORE_SNAPSHOT', value: SNAPSHOT });
      expect(cluster.kubectl(['get', 'jobs', ...ns, '-o', 'name'])).not.toMatch(/import-/);
      expect(fs.existsSync(path.join(backupVolume(), '.incoming'))).toBe(false);
    });

    it('the next night and the PC\'s copy continue the family\'s repository: every earlier snapshot and the new one, under the recovery key', () => {
      const newKey = JSON.parse(fs.readFileSync(path.join(work, 'credentials-new.json'), 'utf8')).backupKey;
      nightlyInto(backupVolume(), newKey, '2026-11-28T013000Z');
      const r = homecloud('offsite');
      expect([r.code, r.err]).toEqual([0, expect.stringMatching(/copying \d+ file\(s\)/)]);
      const listed = restic(key, '-r', path.join(folder, 'repository'), 'snapshots', '--json');
      expect(listed.status).toBe(0);
      for (const s of [SNAPSHOT, '2026-11-28T013000Z']) expect([s, listed.stdout.includes(s)]).toEqual([s, true]);
      expect(restic(key, '-r', path.join(folder, 'repository'), 'check', '--read-data').status).toBe(0);
    });

    it('restores from a copy with a rotten index file, saying what it does, and leaves that folder as it was', () => {
      const rotten = path.join(work, 'rotten', 'homecloud-backups');
      fs.mkdirSync(rotten, { recursive: true });
      spawnSync('cp', ['-a', path.join(folder, 'repository'), rotten]);
      flipOneBitOfAnIndexFile(path.join(rotten, 'repository'));
      const before = repoFiles(path.join(rotten, 'repository')).map((f) => `${f}:${crypto.createHash('sha256').update(fs.readFileSync(path.join(rotten, 'repository', f))).digest('hex')}`);
      const r = homecloud('restore', '--from', rotten, '--yes');
      expect(r.err).toMatch(/index file\(s\) of the copy are damaged: rebuilding the index from the data, on a working copy/);
      expect(r.out + r.err).toMatch(/Restored 2026-11-28T013000Z from /);
      expect(r.code).toBe(0);
      expect(repoFiles(path.join(rotten, 'repository')).map((f) => `${f}:${crypto.createHash('sha256').update(fs.readFileSync(path.join(rotten, 'repository', f))).digest('hex')}`)).toEqual(before);
      expect(fs.existsSync(path.join(backupVolume(), '.incoming'))).toBe(false);
    });

    // restore --from killed at each of its steps, twice each, where the client stopped and said
    // so: status says what was cut short; the same command run again finishes it.
    it('restore --from cut short at any step is told of and finished by running it again', async () => {
      const steps = ['started', 'bringing the copy in', 'pausing backups', 'stopping Nextcloud', 'restoring'];
      const cron = () => JSON.parse(cluster.kubectl(['get', 'cronjob', 'backup', ...ns, '-o', 'json'])).spec.suspend === true;
      for (let i = 0; i < 2 * steps.length; i++) {
        const step = steps[i % steps.length];
        await killed(await pausedAt(['restore', '--from', folder, '--yes'], env, step));
        await leaseExpiry(env);
        const status = homecloud('status');
        expect([step, status.out]).toEqual([step, expect.stringMatching(/a restore started at \d\d:\d\d from this PC \(.*\) was cut short/)]);
        if (step === 'restoring') expect(status.out).toMatch(/half-restored/);
        const again = homecloud('restore', '--from', folder, '--yes');
        expect([step, again.code, again.err + again.out]).toEqual([step, 0, expect.stringMatching(/was cut short[\s\S]*Restored 2026-11-28T013000Z from /)]);
        expect(fs.existsSync(path.join(backupVolume(), 'snapshots', '2026-11-28T013000Z', 'summary.json'))).toBe(true);
        expect(fs.existsSync(path.join(backupVolume(), '.incoming'))).toBe(false);
        expect(cluster.kubectl(['get', 'deployment', 'nextcloud', ...ns, '-o', 'jsonpath={.spec.replicas}'])).toBe('1');
        expect(cron()).toBe(false);
        expect(leaseOf(env)).toBeUndefined();
      }
    }, 30 * 60_000);
  });
});

// The default: a kubeadm cluster writes the copy itself into the folder, which the import helper
// then finds mounted: restore --from reads it in place instead of uploading it.
describeWhen(ready, 'restore --from the folder a kubeadm cluster writes to, on a real control plane', () => {
  let cluster: ControlPlane;
  let work: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(() => {
    cluster = startControlPlane();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-offsite-kubeadm-'));
    const folder = path.join(work, 'homecloud-backups');
    fs.mkdirSync(folder);
    // The simulated node keeps hostPath volumes under its own folder: there, the PC's folder.
    const onNode = path.join(cluster.dir, 'node', folder);
    fs.mkdirSync(path.dirname(onNode), { recursive: true });
    fs.symlinkSync(folder, onNode);
    if (synth({ backup: { offsite: { folder } } }, HOST, { outdir: path.join(work, 'dist'), credentials: path.join(work, 'credentials.json') }, () => undefined) !== 0) {
      throw new Error('synth failed');
    }
    env = { ...process.env, KUBECONFIG: cluster.kubeconfig, HOMECLOUD_OUTDIR: path.join(work, 'dist') };
  }, 30 * 60_000);
  afterAll(() => cluster?.stop());

  it('reads the copy where the nightly job wrote it, with this install\'s own key', () => {
    const homecloud = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args, '--context', 'homecloud-test'], { env, encoding: 'utf8', timeout: 300_000 });
    const install = homecloud('deploy', '--timeout', '120');
    expect(install.status).toBe(0);
    // What the nightly job's mirror leaves in the folder: a repository with tonight's snapshot.
    const key = JSON.parse(fs.readFileSync(path.join(work, 'credentials.json'), 'utf8')).backupKey;
    // A fresh install says where the recovery key is; without a terminal to ask on, it never prints it.
    expect(install.stderr).toMatch(/encrypted with a recovery key\. Restoring them on a new PC needs it.*npm run admin-password shows it/);
    expect(install.stdout + install.stderr).not.toContain(key);
    expect(homecloud('deploy', '--timeout', '120').stderr).not.toMatch(/encrypted with a recovery key/); // once, at install
    const folder = path.join(work, 'homecloud-backups');
    const stage = path.join(work, 'stage', '.offsite-stage');
    const photo = crypto.randomBytes(100_000);
    const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
    fs.mkdirSync(path.join(stage, 'files', 'data'), { recursive: true });
    fs.writeFileSync(path.join(stage, 'files', 'data', 'Oma 80.jpg'), photo);
    fs.writeFileSync(path.join(stage, 'database.dump'), 'dump');
    fs.writeFileSync(path.join(stage, 'database.sha256'), `${sha(Buffer.from('dump'))}  database.dump\n`);
    fs.writeFileSync(path.join(stage, 'MANIFEST'), `${sha(photo)}  data/Oma 80.jpg\n`);
    fs.writeFileSync(path.join(stage, 'summary.json'), '{}');
    const resticEnv = { PATH: '/usr/bin:/bin', HOME: os.tmpdir(), RESTIC_PASSWORD: key, RESTIC_CACHE_DIR: path.join(work, 'cache') };
    expect(spawnSync('restic', ['-r', path.join(folder, 'repository'), 'init'], { env: resticEnv }).status).toBe(0);
    expect(spawnSync('restic', ['-r', path.join(folder, 'repository'), 'backup', '--host', 'homecloud', '--tag', '2026-11-26T013000Z', stage], { env: resticEnv }).status).toBe(0);

    const r = homecloud('restore', '--from', folder, '--yes');
    expect(r.stderr).not.toMatch(/uploading the copy/);
    expect(r.stderr).toMatch(/snapshot 2026-11-26T013000Z is in; restoring it/);
    expect(r.status).toBe(0);
    const pv = cluster.kubectl(['get', 'pvc', 'backup-data', '-n', 'homecloud', '-o', 'jsonpath={.spec.volumeName}']).trim();
    const volume = cluster.kubectl(['get', 'pv', pv, '-o', 'jsonpath={.spec.hostPath.path}']).trim();
    expect(fs.readFileSync(path.join(volume, 'snapshots', '2026-11-26T013000Z', 'files', 'data', 'Oma 80.jpg')).equals(photo)).toBe(true);

    // One bit of an index file rots in the folder: the restore works on a copy of it inside the
    // cluster and leaves the folder, which the nightly job writes to, exactly as it was.
    flipOneBitOfAnIndexFile(path.join(folder, 'repository'));
    const tree = () => spawnSync('sh', ['-c', 'find . -type f | sort | xargs sha256sum'], { cwd: folder, encoding: 'utf8' }).stdout;
    const before = tree();
    const again = homecloud('restore', '--from', folder, '--yes');
    expect(again.stderr).toMatch(/index file\(s\) of the copy are damaged: rebuilding the index from the data, on a working copy/);
    expect(again.status).toBe(0);
    expect(tree()).toBe(before);
    expect(fs.existsSync(path.join(volume, '.incoming'))).toBe(false);
  });
});

// A new PC: the project folder, .homecloud\ and the cluster are all new; only the copy on the USB
// disk and the recovery key are left. The home CA comes back with the data, so the family's
// phones (which trust it, and remember the home cloud is HTTPS-only) go on working.
describeWhen(ready, 'restore --from on a new PC brings the home CA back, on a real control plane', () => {
  let cluster: ControlPlane;
  let work: string;
  let env: NodeJS.ProcessEnv;
  let oldCa: { cert: string; key: string };
  let folder: string;
  let keyFile: string;
  const SNAPSHOT = '2026-11-26T013000Z';
  const newHomecloud = () => path.join(work, 'new-pc', '.homecloud');

  beforeAll(() => {
    cluster = startControlPlane();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-offsite-ca-'));
    // The old PC: its install made the CA for this PC's names (main.ts's way), and its nightly
    // job saved the CA in the repository beside the snapshot (offsite.sh's stage).
    const oldCredentials = path.join(work, 'old-pc', '.homecloud', 'credentials.json');
    if (synth({}, detectHostFacts(), { outdir: path.join(work, 'old-dist'), credentials: oldCredentials }, () => undefined) !== 0) throw new Error('synth failed');
    const caDir = path.dirname(oldCredentials);
    oldCa = { cert: fs.readFileSync(path.join(caDir, 'home-ca.crt'), 'utf8'), key: fs.readFileSync(path.join(caDir, 'home-ca.key'), 'utf8') };
    const key = JSON.parse(fs.readFileSync(oldCredentials, 'utf8')).backupKey as string;
    keyFile = path.join(work, 'recovery-key.txt');
    fs.writeFileSync(keyFile, `${key}\n`);
    const stage = path.join(work, 'stage', '.offsite-stage');
    const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
    const photo = crypto.randomBytes(50_000);
    fs.mkdirSync(path.join(stage, 'files', 'data'), { recursive: true });
    fs.mkdirSync(path.join(stage, 'home-ca'));
    fs.writeFileSync(path.join(stage, 'files', 'data', 'Einschulung.jpg'), photo);
    fs.writeFileSync(path.join(stage, 'database.dump'), 'dump');
    fs.writeFileSync(path.join(stage, 'database.sha256'), `${sha(Buffer.from('dump'))}  database.dump\n`);
    fs.writeFileSync(path.join(stage, 'MANIFEST'), `${sha(photo)}  data/Einschulung.jpg\n`);
    fs.writeFileSync(path.join(stage, 'summary.json'), '{}');
    fs.writeFileSync(path.join(stage, 'home-ca', 'ca.crt'), oldCa.cert);
    fs.writeFileSync(path.join(stage, 'home-ca', 'ca.key'), oldCa.key, { mode: 0o600 });
    folder = path.join(work, 'usb-disk', 'homecloud-backups');
    const resticEnv = { PATH: '/usr/bin:/bin', HOME: os.tmpdir(), RESTIC_PASSWORD: key, RESTIC_CACHE_DIR: path.join(work, 'cache') };
    expect(spawnSync('restic', ['-r', path.join(folder, 'repository'), 'init'], { env: resticEnv }).status).toBe(0);
    expect(spawnSync('restic', ['-r', path.join(folder, 'repository'), 'backup', '--host', 'homecloud', '--tag', SNAPSHOT, stage], { env: resticEnv }).status).toBe(0);
    fs.rmSync(path.join(work, 'old-pc'), { recursive: true });
    // The new PC: no manifests, no credentials, no CA yet; main.ts's settings.
    env = {
      ...process.env, KUBECONFIG: cluster.kubeconfig, HOMECLOUD_OUTDIR: path.join(work, 'dist'),
      HOMECLOUD_CREDENTIALS: path.join(newHomecloud(), 'credentials.json'), HOMECLOUD_IMAGE_LOCK: path.join(work, 'images.lock.json'),
    };
  }, 30 * 60_000);
  afterAll(() => cluster?.stop());

  it('installs, brings the snapshot in, puts the old CA back in place of the new one, and restores', () => {
    const r = spawnSync(process.execPath, [BIN, 'restore', '--from', folder, '--key-file', keyFile, '--yes', '--timeout', '300', '--context', 'homecloud-test'],
      { env, encoding: 'utf8', timeout: 600_000 });
    expect(r.stderr).toMatch(/deploying it first/);
    expect(r.stderr).not.toMatch(/encrypted with a recovery key/); // the family restores with the one it kept
    expect(r.stderr).toMatch(/the home CA from the backup is back \(SHA-256 [0-9A-F:]+\)/);
    expect(r.stdout + r.stderr).toMatch(/Restored 2026-11-26T013000Z from /);
    expect(r.status).toBe(0);
    expect(r.stdout + r.stderr).not.toContain('PRIVATE KEY');
    // On the PC, where synth reads it (owner-only), and in the cluster, where the certificate is issued from.
    expect(fs.readFileSync(path.join(newHomecloud(), 'home-ca.crt'), 'utf8')).toBe(oldCa.cert);
    expect(fs.readFileSync(path.join(newHomecloud(), 'home-ca.key'), 'utf8')).toBe(oldCa.key);
    expect(fs.statSync(path.join(newHomecloud(), 'home-ca.key')).mode & 0o777).toBe(0o600);
    const secret = JSON.parse(cluster.kubectl(['get', 'secret', 'homecloud-ca', '-n', 'homecloud', '-o', 'json']));
    expect(Buffer.from(secret.data['ca.crt'], 'base64').toString()).toBe(oldCa.cert);
    // Nothing of it is left in the backup volume's plain folders.
    const pv = cluster.kubectl(['get', 'pvc', 'backup-data', '-n', 'homecloud', '-o', 'jsonpath={.spec.volumeName}']).trim();
    const volume = cluster.kubectl(['get', 'pv', pv, '-o', 'jsonpath={.spec.hostPath.path}']).trim();
    expect(fs.existsSync(path.join(volume, '.imported-ca'))).toBe(false);
    expect(fs.existsSync(path.join(volume, 'snapshots', SNAPSHOT, 'home-ca'))).toBe(false);
    expect(fs.existsSync(path.join(volume, 'snapshots', SNAPSHOT, 'files', 'data', 'Einschulung.jpg'))).toBe(true);
    // A later deploy keeps it: the manifests were made again from it.
    expect(fs.readFileSync(path.join(work, 'dist', 'app.k8s.yaml'), 'utf8')).toContain(Buffer.from(oldCa.cert).toString('base64'));
    // The data brought the old administrator's password back: the way to this install's is named.
    expect(r.stdout).toMatch(/administrator's password is the one from before too.*npm run admin-password -- --reset/);
  });

  it('admin-password --reset makes the password this install shows the administrator\'s, through stdin only', () => {
    const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args, '--context', 'homecloud-test'], { env, encoding: 'utf8', timeout: 120_000 });
    const pv = cluster.kubectl(['get', 'pvc', 'nextcloud-html', '-n', 'homecloud', '-o', 'jsonpath={.spec.volumeName}']).trim();
    const webroot = cluster.kubectl(['get', 'pv', pv, '-o', 'jsonpath={.spec.hostPath.path}']).trim();
    fs.copyFileSync(path.join(ROOT, 'test', 'controlplane', 'standin', 'occ'), path.join(webroot, 'occ'));
    cluster.kubectl(['wait', '-n', 'homecloud', '--for=jsonpath={.status.phase}=Running', 'pod', '-l', 'app.kubernetes.io/component=web', '--timeout=120s']);
    const secret = JSON.parse(cluster.kubectl(['get', 'secret', 'homecloud-credentials', '-n', 'homecloud', '-o', 'json'])).data;
    const [adminUser, adminPassword] = ['admin-user', 'admin-password'].map((k) => Buffer.from(secret[k], 'base64').toString());
    expect(adminPassword).toBe(JSON.parse(fs.readFileSync(path.join(newHomecloud(), 'credentials.json'), 'utf8')).adminPassword);
    const record = path.join(webroot, `password-of-${adminUser}`);
    // Not without a confirmation.
    const unasked = cli('admin-password', '--reset');
    expect(unasked.stderr).toMatch(/sets the password of Nextcloud's administrator .* needs a confirmation/s);
    expect(unasked.status).toBe(2);
    expect(fs.existsSync(record)).toBe(false);
    const r = cli('admin-password', '--reset', '--yes');
    expect(r.stdout).toMatch(new RegExp(`The administrator "${adminUser}" now signs in with the password npm run admin-password shows`));
    expect(r.status).toBe(0);
    expect(fs.readFileSync(record, 'utf8')).toBe(adminPassword);
    expect(r.stdout + r.stderr).not.toContain(adminPassword);
  });
});
