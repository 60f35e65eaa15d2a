import { execFileSync, spawn, spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { scriptPath } from '../../lib/config/container-scripts';
import { applets, calls, fakeCommand, runScript, startScript } from '../support/busybox';
import { TestPostgres, postgresAvailable, startPostgres } from '../support/postgres';
import { commands, describeWhen, which } from '../support/requirements';

// The nightly job runs backup.sh (Nextcloud image) and dump-database.sh (postgres image)
// side by side, sharing a folder. These tests run both under busybox sh with a real
// PostgreSQL and rsync. occ is Nextcloud's own CLI and cannot run here: a double records
// maintenance-mode calls and keeps the current mode in a file.
const ready = (() => {
  const tools = commands(['busybox', 'rsync'], 'apt-get install busybox rsync');
  const pg = postgresAvailable();
  return { ok: tools.ok && pg.ok, reason: [tools.ok ? '' : tools.reason, pg.ok ? '' : pg.reason].filter(Boolean).join('; ') };
})();

/** The restic repository's password in these tests (in a real install: the generated recovery key). */
const RECOVERY_KEY = 'test-recovery-key';

interface Fixture {
  readonly root: string;
  readonly webroot: string;
  readonly backupDir: string;
  readonly doubles: string;
  readonly occLog: string;
  maintenance(): string;
}

function fixture(backupDir?: string): Fixture {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-bk-'));
  const webroot = path.join(root, 'html');
  const doubles = path.join(root, 'bin');
  fs.mkdirSync(doubles);
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(webroot, rel)), { recursive: true });
    fs.writeFileSync(path.join(webroot, rel), text);
  };
  write('version.php', "<?php\n$OC_Version = array(33,0,9,1);\n$OC_VersionString = '33.0.9';\n");
  write('config/config.php', "<?php $CONFIG = ['installed' => true];\n");
  write('data/alice/files/Photos/beach.jpg', 'jpeg-bytes-'.repeat(500));
  write('data/alice/files/notes with space.md', '# shopping\n');
  write('data/bob/files/report.pdf', 'pdf-bytes');
  write('themes/README', 'themes');
  write('custom_apps/.keep', '');
  const state = path.join(root, 'maintenance');
  fs.writeFileSync(state, 'off');
  const occLog = fakeCommand(doubles, 'occ', `
case "$1 $2" in
  "maintenance:mode --on") echo on > "${state}" ;;
  "maintenance:mode --off") echo off > "${state}" ;;
esac`);
  return { root, webroot, backupDir: backupDir ?? path.join(root, 'backup'), doubles, occLog, maintenance: () => fs.readFileSync(state, 'utf8').trim() };
}

describeWhen(ready, 'backups against a real PostgreSQL, rsync and busybox', () => {
  let pg: TestPostgres;

  beforeAll(async () => {
    pg = await startPostgres();
    pg.psql('CREATE DATABASE nextcloud');
    pg.psql(`CREATE ROLE oc_admin LOGIN PASSWORD 'oc-secret';
             CREATE TABLE oc_filecache (fileid serial primary key, path text, size bigint);
             CREATE TABLE oc_calendarobjects (id serial primary key, calendardata text);
             INSERT INTO oc_filecache (path, size) SELECT 'files/photo-' || g || '.jpg', g * 1000 FROM generate_series(1, 3000) g;
             INSERT INTO oc_calendarobjects (calendardata) SELECT 'BEGIN:VEVENT ' || g FROM generate_series(1, 200) g;
             ALTER TABLE oc_filecache OWNER TO oc_admin;`, 'nextcloud');
  });
  afterAll(() => pg?.stop());

  /** One nightly run: both containers at once, as in the pod. */
  async function nightly(f: Fixture, opts: { env?: Record<string, string>; dbEnv?: Record<string, string>; dbPath?: string[]; offsite?: Record<string, string>;
    /** Wait until the scripts' output is closed too (nothing they started still holds it), not only until they exit. */
    untilClosed?: boolean; } = {}) {
    const coord = fs.mkdtempSync(path.join(f.root, 'coord-'));
    const env = {
      PATH: [f.doubles, applets(), '/usr/bin', '/bin'].join(':'), LANG: 'C', HOME: f.root,
      BACKUP_DIR: f.backupDir, COORD_DIR: coord, NEXTCLOUD_WEBROOT: f.webroot, OCC: path.join(f.doubles, 'occ'),
      DUMP_WAIT_SECONDS: '60', TERMINATION_LOG: path.join(f.root, 'termination-log'),
      // The maintenance lock is the API server's (test/integration/maintenance.test.ts runs it).
      MAINTENANCE_LOCK: 'false', ...opts.env,
    };
    const dbEnv = {
      ...env, PATH: [...(opts.dbPath ?? []), pg.bin, applets(), '/usr/bin', '/bin'].join(':'),
      ...pg.env, PGDATABASE: 'nextcloud', ...opts.dbEnv,
    };
    const run = (script: string, e: NodeJS.ProcessEnv) => new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(which('busybox')!, ['sh', scriptPath(`backup/${script}`)], { env: e });
      let out = '';
      child.stdout.on('data', (d) => { out += d; });
      child.stderr.on('data', (d) => { out += d; });
      child.on(opts.untilClosed ? 'close' : 'exit', (code) => resolve({ code, out }));
    });
    const offsiteEnv = { ...env, RESTIC_PASSWORD: RECOVERY_KEY, TERMINATION_LOG: path.join(f.root, 'offsite-termination-log'), ...opts.offsite };
    const [files, database, offsite] = await Promise.all([run('backup.sh', env), run('dump-database.sh', dbEnv),
      opts.offsite ? run('offsite.sh', offsiteEnv) : Promise.resolve(undefined)]);
    return { files, database, offsite, coord };
  }


  const snapshotsOf = (f: Fixture) => fs.readdirSync(path.join(f.backupDir, 'snapshots')).sort();
  const summary = (f: Fixture, name: string) => JSON.parse(fs.readFileSync(path.join(f.backupDir, 'snapshots', name, 'summary.json'), 'utf8'));
  const lastRun = (f: Fixture) => JSON.parse(fs.readFileSync(path.join(f.backupDir, 'last-run.json'), 'utf8'));
  const treeHash = (dir: string) => {
    const files = execFileSync('find', ['.', '-type', 'f'], { cwd: dir, encoding: 'utf8' }).trim().split('\n').sort();
    return crypto.createHash('sha256').update(files.map((p) => `${p}:${crypto.createHash('sha256').update(fs.readFileSync(path.join(dir, p))).digest('hex')}`).join('\n')).digest('hex');
  };
  const tableDigests = (db: string) => pg.psql(`SELECT string_agg(t, ' ' ORDER BY t) FROM (
      SELECT 'oc_filecache:' || md5(string_agg(fileid || path || size, ',' ORDER BY fileid)) t FROM oc_filecache
      UNION ALL SELECT 'oc_calendarobjects:' || md5(string_agg(id || calendardata, ',' ORDER BY id)) FROM oc_calendarobjects) x`, db);
  const intact = (f: Fixture, name: string) => {
    const dir = path.join(f.backupDir, 'snapshots', name);
    execFileSync('sha256sum', ['-c', 'database.sha256'], { cwd: dir, stdio: 'ignore' });
    execFileSync('sha256sum', ['-c', '../MANIFEST'], { cwd: path.join(dir, 'files'), stdio: 'ignore' });
    return true;
  };

  describe('a nightly run', () => {
    let f: Fixture;
    let first: string;
    beforeAll(async () => {
      f = fixture();
      const run = await nightly(f);
      expect(run.files.out).toMatch(/done/);
      expect(run.files.code).toBe(0);
      expect(run.database.code).toBe(0);
      first = snapshotsOf(f)[0];
    });

    it('creates one complete snapshot and nothing half-written', () => {
      expect(snapshotsOf(f)).toEqual([first]);
      expect(first).toMatch(/^\d{4}-\d\d-\d\dT\d{6}Z$/);
      expect(fs.readdirSync(path.join(f.backupDir, 'snapshots', first)).sort())
        .toEqual(['MANIFEST', 'backup.log', 'database.dump', 'database.sha256', 'files', 'roles.sql', 'summary.json']);
    });
    it('checksums the dump and every file', () => expect(intact(f, first)).toBe(true));
    it('puts Nextcloud in maintenance mode and takes it out again', () => {
      expect(calls(f.occLog)).toEqual(['maintenance:mode --on', 'maintenance:mode --off']);
      expect(f.maintenance()).toBe('off');
    });
    it('writes a machine-readable summary with sizes, checksums and versions', () => {
      const s = summary(f, first);
      expect(s).toMatchObject({ snapshot: first, result: 'success', nextcloudVersion: '33.0.9', files: { count: 6, changed: 6 } });
      expect(s.postgresVersion).toMatch(/^\d+\.\d+/);
      expect(s.database.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(s.database.bytes).toBe(fs.statSync(path.join(f.backupDir, 'snapshots', first, 'database.dump')).size);
      expect(lastRun(f)).toMatchObject({ result: 'success', snapshot: first, error: '' });
      // The disk under the backups, as df sees it (status warns before it fills up).
      const df = execFileSync('df', ['-Pk', f.backupDir], { encoding: 'utf8' }).trim().split('\n')[1].split(/\s+/);
      expect(s.disk.kib).toBe(Number(df[1]));
      expect(Math.abs(s.disk.freeKib - Number(df[3]))).toBeLessThan(64 * 1024);
    });
    it('leaves the summary as the container\'s termination message, for the status report', () => {
      expect(JSON.parse(fs.readFileSync(path.join(f.root, 'termination-log'), 'utf8'))).toEqual(summary(f, first));
    });
    it('keeps a human-readable log in the snapshot and in the job\'s output', () => {
      expect(fs.readFileSync(path.join(f.backupDir, 'snapshots', first, 'backup.log'), 'utf8'))
        .toMatch(/starting snapshot[\s\S]*maintenance mode on[\s\S]*files copied: 6 new or changed[\s\S]*maintenance mode off/);
      expect(fs.readdirSync(path.join(f.backupDir, 'logs'))).toEqual([`${first}.log`]);
    });
    it('hard-links unchanged files in the next snapshot: no new space', async () => {
      const photo = (name: string) => path.join(f.backupDir, 'snapshots', name, 'files/data/alice/files/Photos/beach.jpg');
      const firstInode = fs.statSync(photo(first)).ino;
      await new Promise((r) => setTimeout(r, 1100)); // snapshot names have one-second resolution
      const run = await nightly(f);
      expect(run.files.code).toBe(0);
      // Retention keeps one snapshot a day, so the first one is gone now; its file lives on.
      expect(run.files.out).toMatch(new RegExp(`retention: removed ${first}`));
      const [second] = snapshotsOf(f);
      expect(second).not.toBe(first);
      expect(fs.statSync(photo(second)).ino).toBe(firstInode);
      expect(summary(f, second).files).toMatchObject({ count: 6, changed: 0 });
      // New space is the folders alone (a directory entry each), no file data.
      const dirs = execFileSync('find', [path.join(f.backupDir, 'snapshots', second, 'files'), '-type', 'd'], { encoding: 'utf8' }).trim().split('\n').length;
      expect(summary(f, second).files.newKib).toBeLessThanOrEqual(dirs * 4);
      expect(intact(f, second)).toBe(true);
    });
  });

  it('restores the database and files exactly, after changes and deletions', async () => {
    const f = fixture();
    pg.psql('DROP DATABASE IF EXISTS roundtrip');
    pg.psql('CREATE DATABASE roundtrip TEMPLATE nextcloud');
    expect((await nightly(f, { dbEnv: { PGDATABASE: 'roundtrip' } })).files.code).toBe(0);
    const dbBefore = tableDigests('roundtrip');
    const filesBefore = treeHash(path.join(f.webroot, 'data'));

    pg.psql("DELETE FROM oc_filecache WHERE fileid % 3 = 0; UPDATE oc_calendarobjects SET calendardata = 'changed'; INSERT INTO oc_filecache (path, size) VALUES ('new', 1)", 'roundtrip');
    fs.rmSync(path.join(f.webroot, 'data/alice/files/Photos'), { recursive: true });
    fs.writeFileSync(path.join(f.webroot, 'data/bob/files/report.pdf'), 'overwritten');
    fs.writeFileSync(path.join(f.webroot, 'data/bob/files/added-later.txt'), 'new');
    expect(tableDigests('roundtrip')).not.toBe(dbBefore);

    const coord = fs.mkdtempSync(path.join(f.root, 'restore-'));
    const env = { BACKUP_DIR: f.backupDir, COORD_DIR: coord, NEXTCLOUD_WEBROOT: f.webroot, OCC: path.join(f.doubles, 'occ'), NEXTCLOUD_IMAGE_MAJOR: '33' };
    const check = runScript('backup/restore-check.sh', { env });
    expect(check.stdout).toMatch(/is whole/);
    const database = runScript('backup/restore-database.sh', { path: [pg.bin], env: { ...env, ...pg.env, PGDATABASE: 'roundtrip' } });
    expect(database.stderr).toBe('');
    expect(database.status).toBe(0);
    const files = runScript('backup/restore-files.sh', { env });
    expect(files.status).toBe(0);

    expect(tableDigests('roundtrip')).toBe(dbBefore);
    expect(treeHash(path.join(f.webroot, 'data'))).toBe(filesBefore);
    expect(calls(f.occLog)).toContain('maintenance:data-fingerprint');
  });

  // Names a family (or a phone's camera app) really produces, and the ones POSIX allows that
  // break line-based tools: rsync escapes non-ASCII names under a C locale, sha256sum escapes
  // backslashes and newlines. The scripts must not depend on the locale at all.
  const HARD_NAMES: Buffer[] = [
    'Geburtstag Müller.jpg', 'line\nbreak.txt', 'back\\slash.txt', '-leading-dash.txt', '  two spaces first',
    'tab\there', 'carriage\rreturn', 'ends with newline\n', 'colon: star* quote" pipe|.txt', 'Ǆ 漢字 😀.png',
  ].map((n) => Buffer.from(n)).concat([Buffer.concat([Buffer.from('not-utf8-'), Buffer.from([0xff, 0xfe, 0x80]), Buffer.from('.bin')])]);
  /** sha256 of every file under dir, by its name as bytes (readdir with buffers keeps invalid UTF-8). */
  const byteTree = (dir: string): Map<string, string> => {
    const out = new Map<string, string>();
    const walk = (d: Buffer, rel: string) => {
      for (const e of fs.readdirSync(d, { encoding: 'buffer', withFileTypes: true })) {
        const full = Buffer.concat([d, Buffer.from('/'), e.name]);
        const key = `${rel}/${e.name.toString('hex')}`;
        if (e.isDirectory()) walk(full, key);
        else out.set(key, crypto.createHash('sha256').update(fs.readFileSync(full)).digest('hex'));
      }
    };
    walk(Buffer.from(dir), '');
    return out;
  };
  it('writes the same manifest, and finds the same damage, checksumming one file at a time or four (HASH_JOBS)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-manifest-'));
    const files = path.join(dir, 'files');
    fs.mkdirSync(files);
    for (let i = 0; i < 40; i++) fs.writeFileSync(path.join(files, `photo-${i}.jpg`), `photo ${i}\n`);
    HARD_NAMES.forEach((n, i) => fs.writeFileSync(Buffer.concat([Buffer.from(files + '/'), n]), `hard ${i}\n`));
    const manifest = (args: string[], input?: Buffer, jobs = '1') => spawnSync(which('busybox')!, ['sh', scriptPath('backup/manifest.sh'), ...args],
      { cwd: dir, input, env: { PATH: [applets(), '/usr/bin', '/bin'].join(':'), HASH_JOBS: jobs, TMPDIR: dir } });
    const names = execFileSync('find', ['.', '-type', 'f', '-print0'], { cwd: files });
    const sums = (jobs: string) => manifest(['sum', files], names, jobs).stdout.toString().split('\n').filter(Boolean).sort();
    expect(sums('3')).toEqual(sums('1'));
    expect(sums('1')).toHaveLength(40 + HARD_NAMES.length);
    fs.writeFileSync(path.join(dir, 'MANIFEST'), manifest(['sum', files], names, '2').stdout);
    expect(manifest(['check', 'files', 'MANIFEST'], undefined, '3').status).toBe(0);
    // Rot with size and time unchanged, a file gone, and rot under a name sha256sum would escape.
    fs.writeFileSync(path.join(files, 'photo-7.jpg'), 'photo X\n');
    fs.rmSync(path.join(files, 'photo-30.jpg'));
    fs.writeFileSync(Buffer.concat([Buffer.from(files + '/'), HARD_NAMES[1]]), 'hard X\n');
    const found = (jobs: string) => {
      const r = manifest(['check', 'files', 'MANIFEST'], undefined, jobs);
      return { status: r.status, lines: r.stdout.toString().trim().split('\n').sort() };
    };
    const one = found('1');
    expect(one).toEqual({ status: 1, lines: ['line\\nbreak.txt: FAILED', 'photo-30.jpg: FAILED', 'photo-7.jpg: FAILED'] });
    for (const jobs of ['2', '3', '4', '9']) expect([jobs, found(jobs)]).toEqual([jobs, one]);
    // Nothing of the checks is left behind.
    expect(fs.readdirSync(dir).sort()).toEqual(['MANIFEST', 'files']);
  });

  const hardFolder = (f: Fixture) => Buffer.from(path.join(f.webroot, 'data/alice/files/Hard'));
  const writeHard = (f: Fixture, name: Buffer, content: string) =>
    fs.writeFileSync(Buffer.concat([hardFolder(f), Buffer.from('/'), name]), content);

  describe.each(['C', 'POSIX', 'C.UTF-8'])('file names that are hard for line-based tools, under LC_ALL=%s', (locale) => {
    const env = { LANG: locale, LC_ALL: locale };
    let f: Fixture;
    beforeAll(async () => {
      f = fixture();
      fs.mkdirSync(hardFolder(f), { recursive: true });
      HARD_NAMES.forEach((n, i) => writeHard(f, n, `content ${i}\n`));
    });

    it('are backed up, checksummed and verified like any other name', async () => {
      const run = await nightly(f, { env });
      expect(run.files.out).toMatch(/done/);
      expect(run.files.code).toBe(0);
      const [first] = snapshotsOf(f);
      expect(summary(f, first).files).toMatchObject({ count: 6 + HARD_NAMES.length, changed: 6 + HARD_NAMES.length });
      expect(byteTree(path.join(f.backupDir, 'snapshots', first, 'files/data'))).toEqual(byteTree(path.join(f.webroot, 'data')));
      expect(intact(f, first)).toBe(true);
    });

    it('a changed file with a hard name is checksummed afresh on the next night, the others carried over', async () => {
      await new Promise((r) => setTimeout(r, 1100));
      writeHard(f, HARD_NAMES[0], 'Müller, retouched\n');
      writeHard(f, HARD_NAMES[1], 'a new line\n');
      const run = await nightly(f, { env });
      expect(run.files.code).toBe(0);
      const [second] = snapshotsOf(f);
      expect(summary(f, second).files).toMatchObject({ count: 6 + HARD_NAMES.length, changed: 2 });
      expect(intact(f, second)).toBe(true);
    });

    it('rot in a file with a hard name is found by restore and by the next night', async () => {
      const [name] = snapshotsOf(f);
      const victim = Buffer.concat([Buffer.from(path.join(f.backupDir, 'snapshots', name, 'files/data/alice/files/Hard/')), HARD_NAMES[1]]);
      fs.writeFileSync(victim, 'a new lint\n');
      const check = runScript('backup/restore-check.sh', {
        env: { ...env, BACKUP_DIR: f.backupDir, COORD_DIR: fs.mkdtempSync(path.join(f.root, 'c-')), NEXTCLOUD_IMAGE_MAJOR: '33' },
      });
      expect(check.stdout).toMatch(/1 file\(s\) in .* do not match their checksums/);
      expect(check.status).toBe(1);
      await new Promise((r) => setTimeout(r, 1100));
      const run = await nightly(f, { env });
      expect(run.files.code).toBe(1);
      expect(fs.readFileSync(path.join(f.backupDir, 'snapshots', name, 'DAMAGED'), 'utf8')).toMatch(/line\\nbreak\.txt: FAILED/);
    });

    it('are restored byte for byte', async () => {
      const good = snapshotsOf(f).filter((s) => !fs.existsSync(path.join(f.backupDir, 'snapshots', s, 'DAMAGED'))).pop()!;
      const before = byteTree(path.join(f.backupDir, 'snapshots', good, 'files/data'));
      fs.rmSync(path.join(f.webroot, 'data'), { recursive: true });
      const renv = { ...env, BACKUP_DIR: f.backupDir, COORD_DIR: fs.mkdtempSync(path.join(f.root, 'r-')), NEXTCLOUD_WEBROOT: f.webroot,
        OCC: path.join(f.doubles, 'occ'), NEXTCLOUD_IMAGE_MAJOR: '33', RESTORE_SNAPSHOT: good };
      expect(runScript('backup/restore-check.sh', { env: renv }).status).toBe(0);
      expect(runScript('backup/restore-files.sh', { env: renv }).status).toBe(0);
      expect(byteTree(path.join(f.webroot, 'data'))).toEqual(before);
    });
  });

  describeWhen(commands(['restic'], 'apt-get install restic'), 'the off-disk copy (restic repository, mirrored to a Windows folder)', () => {
    const restic = (repo: string, ...args: string[]) => spawnSync('restic', ['-r', repo, ...args],
      { env: { PATH: '/usr/bin:/bin', RESTIC_PASSWORD: RECOVERY_KEY, HOME: os.tmpdir(), RESTIC_CACHE_DIR: path.join(os.tmpdir(), 'hc-restic-cache') }, encoding: 'utf8' });
    /** The biggest pack holds the file contents: retention keeps it while the files are kept. */
    const largestFile = (dir: string) => execFileSync('find', [dir, '-type', 'f'], { encoding: 'utf8' }).trim().split('\n')
      .sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0];
    const offsiteJson = (f: Fixture) => JSON.parse(fs.readFileSync(path.join(f.backupDir, 'offsite.json'), 'utf8'));
    const cluster = (folder: string, extra: Record<string, string> = {}) => ({ OFFSITE_MODE: 'cluster', OFFSITE_FOLDER: folder, OFFSITE_FOLDER_NAME: 'C:\\Users\\family\\homecloud-backups', ...extra });

    describe('on a kubeadm cluster (written in-cluster through hostPath)', () => {
      let f: Fixture;
      let folder: string;
      let first: { code: number | null; out: string };
      beforeAll(async () => {
        f = fixture();
        folder = fs.mkdtempSync(path.join(f.root, 'windows-'));
        fs.mkdirSync(hardFolder(f), { recursive: true });
        HARD_NAMES.forEach((n, i) => writeHard(f, n, `content ${i}\n`));
        fs.writeFileSync(path.join(f.webroot, 'data/alice/files/Photos/holiday.mp4'), crypto.randomBytes(3 * 2 ** 20));
        const run = await nightly(f, { offsite: cluster(folder) });
        expect(run.files.code).toBe(0);
        first = run.offsite!;
      });

      it('puts tonight\'s snapshot into the repository and copies the repository to the folder', () => {
        expect(first.out).toMatch(/off-disk copy in C:\\Users\\family\\homecloud-backups is up to date/);
        expect(first.code).toBe(0);
        expect(offsiteJson(f)).toMatchObject({ result: 'success', mode: 'cluster', snapshot: snapshotsOf(f)[0], error: '' });
        expect(offsiteJson(f).copy.bytes).toBeGreaterThan(3 * 2 ** 20);
        expect(JSON.parse(fs.readFileSync(path.join(f.root, 'offsite-termination-log'), 'utf8')).result).toBe('success');
      });

      it('exposes no family file name to Windows: only hash-named repository files', () => {
        const names = execFileSync('find', [folder, '-type', 'f'], { encoding: 'utf8' }).trim().split('\n').map((p) => path.basename(p));
        for (const n of names) expect(n).toMatch(/^([0-9a-f]{64}|config)$/);
      });

      it('the copy alone restores every file byte for byte and the database dump', () => {
        expect(restic(path.join(folder, 'repository'), 'check', '--read-data').status).toBe(0);
        const target = fs.mkdtempSync(path.join(f.root, 'restored-'));
        expect(restic(path.join(folder, 'repository'), 'restore', 'latest', '--target', target).status).toBe(0);
        const restored = path.join(target, f.backupDir, '.offsite-stage');
        const snapshot = path.join(f.backupDir, 'snapshots', snapshotsOf(f)[0]);
        expect(byteTree(restored)).toEqual(byteTree(snapshot));
      });

      it('the second night of an unchanged tree copies next to nothing', async () => {
        await new Promise((r) => setTimeout(r, 1100));
        const run = await nightly(f, { offsite: cluster(folder) });
        expect(run.offsite!.code).toBe(0);
        expect(offsiteJson(f).copy.bytes).toBeLessThan(64 * 1024);
        expect(restic(path.join(folder, 'repository'), 'snapshots', '--json').stdout).toContain(snapshotsOf(f)[0]);
      });

      it('a missing folder (USB disk unplugged) fails with the reason, and the backup itself is kept', async () => {
        const lastCopy = offsiteJson(f).lastCopy;
        expect(lastCopy).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        await new Promise((r) => setTimeout(r, 1100));
        const run = await nightly(f, { offsite: cluster(path.join(f.root, 'unplugged')) });
        expect(run.files.code).toBe(0);
        expect(run.offsite!.code).toBe(1);
        expect(offsiteJson(f).error).toMatch(/is not there \(USB disk unplugged\? drive letter changed\?\)/);
        // Status counts from the last good copy, whatever the job history still holds.
        expect(offsiteJson(f).lastCopy).toBe(lastCopy);
      });

      (process.getuid?.() === 0 ? it : it.skip)('a read-only folder fails with the reason and changes nothing there', async () => {
        const ro = fs.mkdtempSync(path.join(f.root, 'ro-'));
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', ro]);
        try {
          const run = await nightly(f, { offsite: cluster(ro) });
          expect(run.offsite!.code).toBe(1);
          expect(offsiteJson(f).error).toMatch(/cannot write to .* \(read-only, or no permission\)/);
        } finally {
          spawnSync('umount', [ro]);
        }
      });

      (process.getuid?.() === 0 ? it : it.skip)('a full folder fails with the reason; the earlier copy there stays usable', async () => {
        const small = fs.mkdtempSync(path.join(f.root, 'full-'));
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=5m', 'tmpfs', small]);
        try {
          execFileSync('cp', ['-a', path.join(folder, 'repository'), small]);
          fs.writeFileSync(path.join(f.webroot, 'data/alice/files/Photos/another.mp4'), crypto.randomBytes(4 * 2 ** 20));
          await new Promise((r) => setTimeout(r, 1100));
          const run = await nightly(f, { offsite: cluster(small) });
          expect(run.offsite!.code).toBe(1);
          expect(offsiteJson(f).error).toMatch(/folder full\?|No space left/);
          expect(fs.readdirSync(small)).toEqual(['repository']); // the half-copied pack does not keep the space
          expect(restic(path.join(small, 'repository'), 'check', '--read-data', '--no-lock').status).toBe(0);
        } finally {
          spawnSync('umount', [small]);
        }
      });
    });

    it('on a kind cluster it leaves the copy to the PC\'s scheduled task and says so', async () => {
      const f = fixture();
      const run = await nightly(f, { offsite: { OFFSITE_MODE: 'client', OFFSITE_FOLDER_NAME: 'D:\\homecloud-backups' } });
      expect(run.offsite!.code).toBe(0);
      expect(run.offsite!.out).toMatch(/the off-disk copy to D:\\homecloud-backups is made by the PC's scheduled task/);
      expect(restic(path.join(f.backupDir, 'repository'), 'snapshots', '--json').stdout).toContain(snapshotsOf(f)[0]);
    });

    it('does nothing, and says why, when the backup made no snapshot', async () => {
      const f = fixture();
      const run = await nightly(f, { dbEnv: { PGPORT: '1' }, offsite: { OFFSITE_MODE: 'client' } });
      expect(run.files.code).not.toBe(0);
      expect(run.offsite!.code).toBe(0);
      expect(offsiteJson(f)).toMatchObject({ result: 'skipped' });
      expect(offsiteJson(f).error).toMatch(/made no snapshot tonight/);
    });

    it('a copy killed at 25 moments inside its copying always leaves a usable repository outside, and the next copy completes it', async () => {
      const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-mirror-kill-'));
      const repo = path.join(root, 'repository');
      const folder = path.join(root, 'windows');
      const source = path.join(root, 'source');
      fs.mkdirSync(folder);
      fs.mkdirSync(source);
      expect(restic(repo, 'init').status).toBe(0);
      const mirror = (detached: boolean, stopDir?: string) => {
        const child = spawn(which('busybox')!, ['sh', scriptPath('backup/mirror.sh'), 'copy', repo, folder],
          { env: { PATH: [...(stopDir ? [stopDir] : []), applets(), '/usr/bin', '/bin'].join(':') }, detached, stdio: 'ignore' });
        return { child, done: new Promise<number | null>((r) => child.once('exit', (c) => r(c))) };
      };
      // The kill's moment is chosen, not hoped for: a stand-in in front of busybox's cp or mv
      // (the copy of one file, and its move into place) counts the calls, even side by side,
      // and at the chosen one, before or after the real command, says "here" and waits.
      const MOMENTS = ['cp:before', 'cp:after', 'mv:before', 'mv:after'];
      const stopAt = (night: number) => {
        const [tool, when] = MOMENTS[night % MOMENTS.length].split(':');
        const nth = 1 + (Math.floor(night / MOMENTS.length) % 3); // every night copies at least a pack, an index and a snapshot
        const dir = fs.mkdtempSync(path.join(root, 'stop-'));
        const pause = `{ : > "${dir}/here"; exec sleep 3600; }`;
        fs.writeFileSync(path.join(dir, tool), `#!/bin/sh
i=1; while ! mkdir "${dir}/call-$i" 2>/dev/null; do i=$((i + 1)); done
[ "$i" -eq ${nth} ] && [ ${when} = before ] && ${pause}
"${which('busybox')}" ${tool} "$@" || exit $?
[ "$i" -eq ${nth} ] && ${pause}
exit 0
`, { mode: 0o755 });
        return dir;
      };
      let kills = 0;
      for (let night = 0; night < 25; night++) {
        // Each night the repository changes: new data, and every fifth night retention drops old snapshots.
        fs.writeFileSync(path.join(source, `night-${night}.bin`), crypto.randomBytes(1.5 * 2 ** 20));
        if (night % 5 === 4) fs.rmSync(path.join(source, `night-${night - 3}.bin`));
        expect(restic(repo, 'backup', '--host', 'homecloud', source).status).toBe(0);
        if (night % 5 === 4) expect(restic(repo, 'forget', '--keep-last', '2', '--prune').status).toBe(0);
        const stop = stopAt(night);
        const run = mirror(true, stop);
        let ended = false;
        void run.done.then(() => { ended = true; });
        while (!fs.existsSync(path.join(stop, 'here')) && !ended) await new Promise((r) => setTimeout(r, 20));
        expect([night, MOMENTS[night % MOMENTS.length], ended]).toEqual([night, MOMENTS[night % MOMENTS.length], false]);
        process.kill(-run.child.pid!, 'SIGKILL');
        kills++;
        await run.done;
        if (fs.existsSync(path.join(folder, 'repository', 'config'))) {
          const check = restic(path.join(folder, 'repository'), 'check', '--no-lock');
          expect([night, check.status, check.stderr]).toEqual([night, 0, expect.anything()]);
        }
      }
      expect(kills).toBe(25);
      expect(await mirror(false).done).toBe(0);
      expect(fs.readdirSync(folder)).toEqual(['repository']); // nothing half-copied is left
      const files = (dir: string) => execFileSync('find', ['.', '-type', 'f', '!', '-path', './locks/*'], { cwd: dir, encoding: 'utf8' }).trim().split('\n').sort();
      expect(files(path.join(folder, 'repository'))).toEqual(files(repo));
      expect(restic(path.join(folder, 'repository'), 'check', '--read-data').status).toBe(0);
    }, 180_000);

    describe('the disaster drill: everything lost but the folder on the PC', () => {
      // Rows of every type Nextcloud's tables use, with names and text a family writes.
      const DRILL_TABLE = `CREATE TABLE oc_drill (id bigserial primary key, small smallint, n numeric(20,6), flag boolean, name text,
        raw bytea, at timestamptz, day date, doc jsonb, tags text[], uid uuid, nothing text);
        INSERT INTO oc_drill (small, n, flag, name, raw, at, day, doc, tags, uid, nothing)
        SELECT g % 32000, g * 1.000001, g % 2 = 0, 'Geburtstag Müller ' || g || ' 漢字 😀', decode(md5(g::text), 'hex'),
          '2026-03-29 01:30:00+01'::timestamptz + g * interval '1 hour', '2026-01-01'::date + g, jsonb_build_object('n', g, 'ä', 'ö'),
          ARRAY['a', 'b' || g], md5(g::text)::uuid, NULL FROM generate_series(1, 2000) g;
        ALTER TABLE oc_drill OWNER TO oc_drill;`;
      const digests = (db: string) => pg.psql(`SELECT string_agg(t, ' ' ORDER BY t) FROM (
          SELECT 'oc_drill:' || md5(string_agg(x::text, ',' ORDER BY id)) t FROM oc_drill x
          UNION ALL SELECT 'oc_filecache:' || md5(string_agg(fileid || path || size, ',' ORDER BY fileid)) FROM oc_filecache
          UNION ALL SELECT 'oc_calendarobjects:' || md5(string_agg(id || calendardata, ',' ORDER BY id)) FROM oc_calendarobjects) x`, db);
      const roleHash = () => pg.psql("SELECT rolpassword FROM pg_authid WHERE rolname = 'oc_drill'");
      const importSnapshot = (backupDir: string, repo: string, env: Record<string, string> = {}) => spawnSync(which('busybox')!, ['sh', scriptPath('backup/import.sh'), repo], {
        env: { PATH: [applets(), '/usr/bin', '/bin'].join(':'), BACKUP_DIR: backupDir, RESTIC_PASSWORD: RECOVERY_KEY, HOME: os.tmpdir(), LANG: 'C', ...env }, encoding: 'utf8',
      });

      /**
       * A first night copied into `folder`, its plain snapshot moved to another day (retention
       * keeps one a night) so that the next night adds a second; the repository keeps the
       * first's name, which is returned.
       */
      const firstNightOnAnEarlierDay = async (f: Fixture, folder: string) => {
        expect((await nightly(f, { offsite: cluster(folder) })).offsite!.code).toBe(0);
        const [older] = snapshotsOf(f);
        fs.renameSync(path.join(f.backupDir, 'snapshots', older), path.join(f.backupDir, 'snapshots', '2026-01-01T013000Z'));
        await new Promise((r) => setTimeout(r, 1100));
        return older;
      };

      it('restores rows and files exactly onto a fresh install with new passwords, and the nightly job carries on', async () => {
        pg.psql('DROP DATABASE IF EXISTS drill');
        pg.psql('CREATE DATABASE drill TEMPLATE nextcloud');
        pg.psql("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'oc_drill') THEN CREATE ROLE oc_drill LOGIN; END IF; END $$; ALTER ROLE oc_drill PASSWORD 'old-pc-secret'");
        pg.psql(DRILL_TABLE, 'drill');
        const f = fixture();
        const folder = fs.mkdtempSync(path.join(f.root, 'windows-'));
        fs.mkdirSync(hardFolder(f), { recursive: true });
        HARD_NAMES.forEach((n, i) => writeHard(f, n, `content ${i}\n`));
        const night = await nightly(f, { dbEnv: { PGDATABASE: 'drill' }, offsite: cluster(folder) });
        expect([night.files.code, night.offsite!.code]).toEqual([0, 0]);
        const rowsBefore = digests('drill');
        const filesBefore = byteTree(path.join(f.webroot, 'data'));
        const hashBefore = roleHash();

        // kubectl delete namespace: the volumes go, and with them the database and every in-cluster backup.
        fs.rmSync(f.backupDir, { recursive: true });
        fs.rmSync(f.webroot, { recursive: true });
        pg.psql('DROP DATABASE drill');
        // A fresh deploy: Nextcloud installs itself anew (its own database user, a new password),
        // and the new install generated a new key for its backups.
        pg.psql('CREATE DATABASE drill');
        pg.psql("ALTER ROLE oc_drill PASSWORD 'new-install-secret'");
        fs.mkdirSync(path.join(f.webroot, 'config'), { recursive: true });
        fs.writeFileSync(path.join(f.webroot, 'config/config.php'), "<?php $CONFIG = ['instanceid' => 'fresh'];\n");
        fs.writeFileSync(path.join(f.webroot, 'version.php'), "<?php\n$OC_VersionString = '33.0.9';\n");

        const imported = importSnapshot(f.backupDir, path.join(folder, 'repository'), { INSTALL_KEY: 'new-install-key' });
        expect(imported.stdout).toMatch(/adopting the copy as this install's backup repository/);
        expect(imported.status).toBe(0);
        const name = /snapshot=(\S+)/.exec(imported.stdout)![1];
        const coord = fs.mkdtempSync(path.join(f.root, 'restore-'));
        const env = { BACKUP_DIR: f.backupDir, COORD_DIR: coord, NEXTCLOUD_WEBROOT: f.webroot, OCC: path.join(f.doubles, 'occ'), NEXTCLOUD_IMAGE_MAJOR: '33', RESTORE_SNAPSHOT: name };
        expect(runScript('backup/restore-check.sh', { env }).stdout).toMatch(/is whole/);
        const database = runScript('backup/restore-database.sh', { path: [pg.bin], env: { ...env, ...pg.env, PGDATABASE: 'drill' } });
        expect(database.status).toBe(0);
        expect(runScript('backup/restore-files.sh', { env }).status).toBe(0);

        expect(digests('drill')).toBe(rowsBefore);
        expect(byteTree(path.join(f.webroot, 'data'))).toEqual(filesBefore);
        // The restored config.php's database password is the old one: the role gets it back.
        expect(roleHash()).toBe(hashBefore);
        // The next night runs with the new install's key on the adopted repository, and copies on.
        await new Promise((r) => setTimeout(r, 1100));
        const next = await nightly(f, { dbEnv: { PGDATABASE: 'drill' }, offsite: cluster(folder, { RESTIC_PASSWORD: 'new-install-key' }) });
        expect([next.files.code, next.offsite!.code]).toEqual([0, 0]);
        expect(restic(path.join(folder, 'repository'), 'snapshots', '--json').stdout).toContain(snapshotsOf(f).pop());
        expect(restic(path.join(folder, 'repository'), 'check').status).toBe(0);
      }, 120_000);

      it('adopts the copy even when the new install\'s first night already made an empty repository of its own', async () => {
        const f = fixture();
        const folder = fs.mkdtempSync(path.join(f.root, 'windows-'));
        expect((await nightly(f, { offsite: cluster(folder) })).offsite!.code).toBe(0);
        // The fresh install's nightly job started before the restore: offsite.sh created the
        // repository (with the new install's key) while backup.sh was still at work.
        const fresh = fs.mkdtempSync(path.join(f.root, 'fresh-'));
        const newKey = { ...process.env, RESTIC_PASSWORD: 'new-install-key', RESTIC_CACHE_DIR: path.join(f.root, 'cache') };
        expect(spawnSync('restic', ['-r', path.join(fresh, 'repository'), 'init'], { env: newKey }).status).toBe(0);
        const run = importSnapshot(fresh, path.join(folder, 'repository'), { INSTALL_KEY: 'new-install-key' });
        expect(run.stdout).toMatch(/adopting the copy as this install's backup repository/);
        expect(run.status).toBe(0);
        // The copy's repository, history and all, now the install's: its next nights add to it,
        // and the copy outside goes on from where the old PC stopped.
        expect(fs.readFileSync(path.join(fresh, 'repository', 'config'))).toEqual(fs.readFileSync(path.join(folder, 'repository', 'config')));
        expect(spawnSync('restic', ['-r', path.join(fresh, 'repository'), 'snapshots', '--json'], { env: newKey, encoding: 'utf8' }).stdout)
          .toContain(snapshotsOf(f)[0]);
      });

      it('refuses a wrong recovery key with the words to fix it, and changes nothing', async () => {
        const f = fixture();
        const folder = fs.mkdtempSync(path.join(f.root, 'windows-'));
        expect((await nightly(f, { offsite: cluster(folder) })).offsite!.code).toBe(0);
        const fresh = fs.mkdtempSync(path.join(f.root, 'fresh-'));
        const run = importSnapshot(fresh, path.join(folder, 'repository'), { RESTIC_PASSWORD: 'not-the-key' });
        expect(run.status).toBe(1);
        expect(run.stdout).toMatch(/does not open with this key: give the recovery key/);
        expect(fs.readdirSync(fresh)).toEqual([]);
      });

      it('keeps the home CA in the encrypted copy only, and brings it back aside from the snapshot', async () => {
        const f = fixture();
        const folder = fs.mkdtempSync(path.join(f.root, 'windows-'));
        const caDir = fs.mkdtempSync(path.join(f.root, 'ca-'));
        fs.writeFileSync(path.join(caDir, 'ca.crt'), '-----BEGIN CERTIFICATE-----\nroot\n-----END CERTIFICATE-----\n');
        fs.writeFileSync(path.join(caDir, 'ca.key'), '-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n');
        expect((await nightly(f, { offsite: cluster(folder, { CA_DIR: caDir }) })).offsite!.code).toBe(0);
        const [name] = snapshotsOf(f);
        // Not in the plain snapshot folder (which export copies as it is), nor as a name on Windows.
        expect(fs.existsSync(path.join(f.backupDir, 'snapshots', name, 'home-ca'))).toBe(false);
        const listed = restic(path.join(folder, 'repository'), 'ls', 'latest').stdout;
        expect(listed).toMatch(/\.offsite-stage\/home-ca\/ca\.key$/m);
        expect(spawnSync('grep', ['-rl', 'secret', folder], { encoding: 'utf8' }).stdout).toBe(''); // encrypted there

        const fresh = fs.mkdtempSync(path.join(f.root, 'fresh-'));
        const run = importSnapshot(fresh, path.join(folder, 'repository'));
        expect(run.status).toBe(0);
        expect(run.stdout.trim().split('\n').slice(-2)).toEqual(['ca=yes', `snapshot=${name}`]);
        expect(fs.readFileSync(path.join(fresh, '.imported-ca', 'ca.key'), 'utf8')).toBe(fs.readFileSync(path.join(caDir, 'ca.key'), 'utf8'));
        expect(fs.statSync(path.join(fresh, '.imported-ca')).mode & 0o777).toBe(0o700);
        expect(fs.existsSync(path.join(fresh, 'snapshots', name, 'home-ca'))).toBe(false);
        // A snapshot saved without one (no CA mounted) clears what an earlier import left.
        await new Promise((r) => setTimeout(r, 1100));
        expect((await nightly(f, { offsite: cluster(folder) })).offsite!.code).toBe(0);
        const again = importSnapshot(fresh, path.join(folder, 'repository'));
        expect(again.stdout.trim().split('\n').slice(-1)).toEqual([`snapshot=${snapshotsOf(f).pop()}`]);
        expect(again.stdout).not.toMatch(/ca=yes/);
        expect(fs.existsSync(path.join(fresh, '.imported-ca'))).toBe(false);
      }, 120_000);

      it('continues the family\'s repository even after the new install\'s first night made and filled one of its own; the next copy keeps every earlier snapshot', async () => {
        const f = fixture();
        const folder = fs.mkdtempSync(path.join(f.root, 'windows-'));
        expect((await nightly(f, { offsite: cluster(folder) })).offsite!.code).toBe(0);
        await new Promise((r) => setTimeout(r, 1100));
        expect((await nightly(f, { offsite: cluster(folder) })).offsite!.code).toBe(0);
        const earlier = snapshotsOf(f);
        // A new PC (or a reset Docker Desktop): deployed in the evening, its first night ran
        // before the family restored the next day; it made a repository and a snapshot of its own.
        const fresh = fixture();
        const NEW_KEY = 'new-install-key';
        expect((await nightly(fresh, { offsite: { OFFSITE_MODE: 'client', RESTIC_PASSWORD: NEW_KEY } })).offsite!.code).toBe(0);
        const run = importSnapshot(fresh.backupDir, path.join(folder, 'repository'), { INSTALL_KEY: NEW_KEY });
        expect(run.stdout).toMatch(/adopting the copy as this install's backup repository/);
        expect(run.stdout).toMatch(/this install's own backup repository \(1 snapshot\(s\)\) is kept aside as repository\.before-restore/);
        expect(run.status).toBe(0);
        // The next night, with the new install's key, copies on into the family's folder.
        await new Promise((r) => setTimeout(r, 1100));
        const next = await nightly(fresh, { offsite: cluster(folder, { RESTIC_PASSWORD: NEW_KEY }) });
        expect([next.offsite!.code, next.offsite!.code ? next.offsite!.out : '']).toEqual([0, '']);
        const listed = restic(path.join(folder, 'repository'), 'snapshots', '--json', '--no-lock');
        expect(listed.status).toBe(0); // the family's recovery key still opens it
        for (const s of [...earlier, snapshotsOf(fresh).pop()!]) expect([s, listed.stdout.includes(s)]).toEqual([s, true]);
      }, 180_000);

      describe('a copy with one rotten file, restored to its last readable byte', () => {
        const OTHER_KEY = 'key-of-an-earlier-install';
        let source: { f: Fixture; folder: string; older: string; newest: string };
        beforeAll(async () => {
          const f = fixture();
          const folder = fs.mkdtempSync(path.join(f.root, 'windows-'));
          // Larger than one pack: some of its packs hold nothing else (see the partial case below).
          fs.writeFileSync(path.join(f.webroot, 'data/alice/files/Photos/every-night.mp4'), crypto.randomBytes(20 * 2 ** 20));
          const older = await firstNightOnAnEarlierDay(f, folder);
          fs.writeFileSync(path.join(f.webroot, 'data/alice/files/Photos/second-night.jpg'), crypto.randomBytes(300_000));
          expect((await nightly(f, { offsite: cluster(folder) })).offsite!.code).toBe(0);
          // A copy restored on another PC before has that install's key as well: two key files.
          const keyFile = path.join(f.root, 'other-key');
          fs.writeFileSync(keyFile, `${OTHER_KEY}\n`);
          expect(restic(path.join(folder, 'repository'), 'key', 'add', '--new-password-file', keyFile).status).toBe(0);
          const newest = snapshotsOf(f).find((n) => n !== '2026-01-01T013000Z')!;
          source = { f, folder, older, newest };
        }, 180_000);

        /** A copy of the family's folder with one bit flipped in `pick`'s file; the folder's hash before. */
        const rotten = (pick: (repo: string) => string) => {
          const folder = fs.mkdtempSync(path.join(source.f.root, 'rotten-'));
          execFileSync('cp', ['-a', path.join(source.folder, 'repository'), folder]);
          const file = pick(path.join(folder, 'repository'));
          fs.chmodSync(file, 0o644);
          const bytes = fs.readFileSync(file);
          bytes[bytes.length >> 1] ^= 0x01;
          fs.writeFileSync(file, bytes);
          return { repo: path.join(folder, 'repository'), file: path.basename(file), before: treeHash(folder), folder };
        };
        const newestFile = (dir: string) => fs.readdirSync(dir).map((n) => path.join(dir, n)).sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
        /** The key file that opens with `password` (restic key list marks it with *). */
        const keyFileOf = (repo: string, password: string) => {
          const list = spawnSync('restic', ['-r', repo, '--no-lock', '--no-cache', 'key', 'list', '--json'], { env: { PATH: '/usr/bin:/bin', HOME: os.tmpdir(), RESTIC_PASSWORD: password }, encoding: 'utf8' });
          const id = JSON.parse(list.stdout).find((k: { current: boolean }) => k.current).id as string;
          return fs.readdirSync(path.join(repo, 'keys')).find((n) => n.startsWith(id))!;
        };

        it.each([
          ['the key file of the key in use', 'newest', (repo: string) => path.join(repo, 'keys', keyFileOf(repo, OTHER_KEY)), RECOVERY_KEY, /key file \w+ of the copy is damaged: trying the other key files/],
          ['the recovery key\'s own key file', 'newest', (repo: string) => path.join(repo, 'keys', keyFileOf(repo, RECOVERY_KEY)), OTHER_KEY, /key file \w+ of the copy is damaged: trying the other key files/],
          ['an index file', 'newest', (repo: string) => newestFile(path.join(repo, 'index')), RECOVERY_KEY, /index file\(s\) of the copy are damaged: rebuilding the index from the data, on a working copy/],
        ])('%s: restores the %s snapshot, says what it did, and leaves the folder as it was', (_what, _which, pick, key, said) => {
          const r = rotten(pick as (repo: string) => string);
          const fresh = fs.mkdtempSync(path.join(source.f.root, 'fresh-'));
          const run = importSnapshot(fresh, r.repo, { RESTIC_PASSWORD: key as string });
          expect(run.stdout).toMatch(said as RegExp);
          expect([run.status, run.stdout.trim().split('\n').pop()]).toEqual([0, `snapshot=${source.newest}`]);
          expect(treeHash(r.folder)).toBe(r.before);
          // The adopted repository opens with the key and holds both nights.
          const listed = spawnSync('restic', ['-r', path.join(fresh, 'repository'), 'snapshots', '--json'],
            { env: { PATH: '/usr/bin:/bin', HOME: os.tmpdir(), RESTIC_PASSWORD: key as string, RESTIC_CACHE_DIR: path.join(fresh, 'c') }, encoding: 'utf8' });
          expect([listed.status, listed.stdout.includes(source.older), listed.stdout.includes(source.newest)]).toEqual([0, true, true]);
        });

        it.each(['C', 'POSIX', 'C.UTF-8'])('under LC_ALL=%s: a rotten index and the newest snapshot file at once; the one before restores', (locale) => {
          const r = rotten((repo) => newestFile(path.join(repo, 'index')));
          const snapshot = newestFile(path.join(r.repo, 'snapshots'));
          fs.chmodSync(snapshot, 0o644);
          const bytes = fs.readFileSync(snapshot);
          bytes[bytes.length >> 1] ^= 0x01;
          fs.writeFileSync(snapshot, bytes);
          const before = treeHash(r.folder);
          const fresh = fs.mkdtempSync(path.join(source.f.root, 'fresh-'));
          const run = importSnapshot(fresh, r.repo, { LANG: locale, LC_ALL: locale });
          expect(run.stdout).toMatch(/rebuilding the index from the data[\s\S]*snapshot file\(s\) \w+ of the copy are damaged: left out/);
          expect([run.status, run.stdout.trim().split('\n').pop()]).toEqual([0, `snapshot=${source.older}`]);
          expect(treeHash(r.folder)).toBe(before);
        });

        it('the newest snapshot file: leaves it out and restores the one before, and the folder is as it was', () => {
          const r = rotten((repo) => newestFile(path.join(repo, 'snapshots')));
          const fresh = fs.mkdtempSync(path.join(source.f.root, 'fresh-'));
          const run = importSnapshot(fresh, r.repo);
          expect(run.stdout).toMatch(/snapshot file\(s\) \w+ of the copy are damaged: left out/);
          expect([run.status, run.stdout.trim().split('\n').pop()]).toEqual([0, `snapshot=${source.older}`]);
          expect(treeHash(r.folder)).toBe(r.before);
        });

        const env = { PATH: '/usr/bin:/bin', HOME: os.tmpdir(), RESTIC_PASSWORD: RECOVERY_KEY };
        // Each restic command derives the key anew (about half a second): each object is read once.
        const read = new Map<string, unknown>();
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        const cat = (repo: string, ...args: string[]): any => {
          const k = [repo, ...args].join(' ');
          if (!read.has(k)) read.set(k, JSON.parse(spawnSync('restic', ['-r', repo, '--no-lock', '--no-cache', 'cat', ...args], { env, encoding: 'utf8' }).stdout));
          return read.get(k);
        };
        /** The restic snapshot id of a homecloud snapshot (its tag). */
        const snapshotId = (repo: string, name: string) => fs.readdirSync(path.join(repo, 'snapshots'))
          .find((n) => cat(repo, 'snapshot', n).tags.includes(name))!;
        /** The content blobs of a file of the newest snapshot, by its path under the staged snapshot. */
        const blobsOf = (repo: string, rel: string) => {
          let nodes = cat(repo, 'blob', cat(repo, 'snapshot', snapshotId(repo, source.newest)).tree).nodes;
          while (!nodes.some((n: { name: string }) => n.name === '.offsite-stage')) nodes = cat(repo, 'blob', nodes.find((n: { type: string }) => n.type === 'dir').subtree).nodes;
          for (const part of ['.offsite-stage', ...rel.split('/')]) {
            const node = nodes.find((n: { name: string }) => n.name === part);
            if (node.type === 'file') return node.content as string[];
            nodes = cat(repo, 'blob', node.subtree).nodes;
          }
          throw new Error(`${rel} is not a file`);
        };
        const packOf = (repo: string, blob: string) => fs.readdirSync(path.join(repo, 'index')).map((i) => cat(repo, 'index', i))
          .flatMap((idx) => idx.packs).find((p: { blobs: Array<{ id: string }> }) => p.blobs.some((b) => b.id === blob)).id as string;
        it('the pack holding the newest snapshot\'s root tree: restores the one before, and the folder is as it was', () => {
          const r = rotten((repo) => {
            const pack = packOf(repo, cat(repo, 'snapshot', snapshotId(repo, source.newest)).tree);
            expect(pack).not.toBe(packOf(repo, cat(repo, 'snapshot', snapshotId(repo, source.older)).tree));
            return path.join(repo, 'data', pack.slice(0, 2), pack);
          });
          const fresh = fs.mkdtempSync(path.join(source.f.root, 'fresh-'));
          const run = importSnapshot(fresh, r.repo);
          expect(run.stdout).toMatch(new RegExp(`snapshot ${source.newest} in the copy is damaged .*trying the next older one`));
          expect([run.status, run.stdout.trim().split('\n').pop()]).toEqual([0, `snapshot=${source.older}`]);
          expect(treeHash(r.folder)).toBe(r.before);
        });

        it('a pack every snapshot shares: restores the newest in part, lists exactly the files lost, and the restore puts back every other one', () => {
          const r = rotten((repo) => {
            const database = new Set(['database.dump', 'roles.sql'].flatMap((f) => blobsOf(repo, f)).map((b) => packOf(repo, b)));
            const pack = blobsOf(repo, 'files/data/alice/files/Photos/every-night.mp4').map((b) => packOf(repo, b)).find((p) => !database.has(p))!;
            return path.join(repo, 'data', pack.slice(0, 2), pack);
          });
          const fresh = fixture();
          const run = importSnapshot(fresh.backupDir, r.repo);
          expect(run.stdout).toMatch(/is damaged .*trying the next older one[\s\S]*snapshot \S+ restores only in part: \d+ file\(s\) could not be read from the copy/);
          expect(run.status).toBe(0);
          expect(run.stdout.trim().split('\n').pop()).toBe(`snapshot=${source.newest}`);
          const lost = [...run.stdout.matchAll(/^lost=(.*)$/gm)].map((m) => m[1]);
          expect(lost).toContain('data/alice/files/Photos/every-night.mp4');
          expect(treeHash(r.folder)).toBe(r.before);
          // Exactly those are missing; every other file of the snapshot is whole.
          const dir = path.join(fresh.backupDir, 'snapshots', source.newest);
          expect(fs.readFileSync(path.join(dir, 'LOST'), 'utf8').trim().split('\n')).toEqual(lost);
          for (const l of lost) expect([l, fs.existsSync(path.join(dir, 'files', l))]).toEqual([l, false]);
          const whole = spawnSync('sh', ['-c', 'cd files && sha256sum -c ../MANIFEST 2>/dev/null | grep -v ": OK$" | sed "s/: FAILED.*$//"'], { cwd: dir, encoding: 'utf8' });
          expect(whole.stdout.trim().split('\n').filter(Boolean).sort()).toEqual([...lost].sort());
          // The restore template takes it, restores the rest, and has Nextcloud forget the lost files.
          const coord = fs.mkdtempSync(path.join(fresh.root, 'restore-'));
          const renv = { BACKUP_DIR: fresh.backupDir, COORD_DIR: coord, NEXTCLOUD_WEBROOT: fresh.webroot, OCC: path.join(fresh.doubles, 'occ'), RESTORE_SNAPSHOT: source.newest };
          const check = runScript('backup/restore-check.sh', { env: renv });
          expect(check.stdout).toMatch(new RegExp(`${lost.length} file\\(s\\) of ${source.newest} could not be read from the backup copy and are not restored`));
          expect(check.status).toBe(0);
          const files = runScript('backup/restore-files.sh', { env: renv });
          expect(files.stdout).toMatch(/rescanning \/alice\/files\/Photos \(files lost from the backup copy\)/);
          expect(files.status).toBe(0);
          expect(fs.existsSync(path.join(fresh.webroot, 'data/alice/files/Photos/every-night.mp4'))).toBe(false);
          expect(fs.readFileSync(fresh.occLog, 'utf8')).toMatch(/^files:scan --path=\/alice\/files\/Photos$/m);
          expect(fs.readFileSync(path.join(fresh.webroot, 'data/alice/files/Photos/second-night.jpg')))
            .toEqual(fs.readFileSync(path.join(source.f.webroot, 'data/alice/files/Photos/second-night.jpg')));
        });

        it('a key file, opened with a key that is not the copy\'s: asks for the recovery key, naming the damaged file, and changes nothing', () => {
          const r = rotten((repo) => path.join(repo, 'keys', keyFileOf(repo, OTHER_KEY)));
          const fresh = fs.mkdtempSync(path.join(source.f.root, 'fresh-'));
          const run = importSnapshot(fresh, r.repo, { RESTIC_PASSWORD: 'this-new-install-s-key' });
          expect(run.stdout).toMatch(/does not open with this key \(its key file \w+ is damaged\): give the recovery key/);
          expect(run.status).toBe(1);
          expect(fs.readdirSync(fresh)).toEqual([]);
          expect(treeHash(r.folder)).toBe(r.before);
        });

        it('the config file: says plainly that this copy cannot be opened, and changes nothing', () => {
          const r = rotten((repo) => path.join(repo, 'config'));
          const fresh = fs.mkdtempSync(path.join(source.f.root, 'fresh-'));
          const run = importSnapshot(fresh, r.repo);
          expect(run.stdout).toMatch(/the copy's config file is damaged/);
          expect(run.status).toBe(1);
          expect(treeHash(r.folder)).toBe(r.before);
        });
      });

      it('falls back to the newest snapshot that restores completely when the latest is damaged', async () => {
        const f = fixture();
        const folder = fs.mkdtempSync(path.join(f.root, 'windows-'));
        const older = await firstNightOnAnEarlierDay(f, folder);
        const packsBefore = new Set(execFileSync('find', [path.join(folder, 'repository', 'data'), '-type', 'f'], { encoding: 'utf8' }).trim().split('\n'));
        fs.writeFileSync(path.join(f.webroot, 'data/alice/files/Photos/new.mp4'), crypto.randomBytes(2 ** 20));
        expect((await nightly(f, { offsite: cluster(folder) })).offsite!.code).toBe(0);
        const newPacks = execFileSync('find', [path.join(folder, 'repository', 'data'), '-type', 'f'], { encoding: 'utf8' }).trim().split('\n').filter((p) => !packsBefore.has(p));
        for (const p of newPacks) {
          const bytes = fs.readFileSync(p);
          bytes[bytes.length >> 1] ^= 0xff;
          fs.writeFileSync(p, bytes);
        }
        const fresh = fs.mkdtempSync(path.join(f.root, 'fresh-'));
        const run = importSnapshot(fresh, path.join(folder, 'repository'));
        expect(run.stdout + run.stderr).toMatch(/is damaged .*trying the next older one/);
        expect(run.status).toBe(0);
        expect(run.stdout).toMatch(new RegExp(`snapshot=${older}`));
      }, 120_000);
    });

    describe('the copy is this repository, or nothing is touched', () => {
      const mirrorCopy = (repo: string, folder: string) => spawnSync(which('busybox')!, ['sh', scriptPath('backup/mirror.sh'), 'copy', repo, folder],
        { env: { PATH: [applets(), '/usr/bin', '/bin'].join(':') }, encoding: 'utf8' });
      const repository = (root: string, name: string) => {
        const repo = path.join(root, name, 'repository');
        const source = path.join(root, `${name}-data`);
        fs.mkdirSync(source, { recursive: true });
        fs.writeFileSync(path.join(source, 'photo.jpg'), crypto.randomBytes(100_000));
        expect(restic(repo, 'init').status).toBe(0);
        expect(restic(repo, 'backup', '--host', 'homecloud', source).status).toBe(0);
        return repo;
      };

      it('refuses a folder holding another install\'s repository and changes nothing in it', () => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-mirror-other-'));
        const family = repository(root, 'family');
        const fresh = repository(root, 'fresh');
        const folder = path.dirname(family);
        const before = treeHash(folder);
        const r = mirrorCopy(fresh, folder);
        expect(r.stdout).toMatch(/holds a different backup repository \(another install's\?\)\. Nothing was changed/);
        expect(r.status).toBe(1);
        expect(treeHash(folder)).toBe(before);
      });

      it('copies the config again when only it rotted in the copy (they share their key files)', () => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-mirror-config-'));
        const repo = repository(root, 'cluster');
        const folder = path.join(root, 'windows');
        fs.mkdirSync(folder);
        expect(mirrorCopy(repo, folder).status).toBe(0);
        const config = path.join(folder, 'repository', 'config');
        const bytes = fs.readFileSync(config);
        bytes[bytes.length >> 1] ^= 0x01;
        fs.writeFileSync(config, bytes);
        const r = mirrorCopy(repo, folder);
        expect(r.stdout).toMatch(/the copy's config file does not match the repository's \(damaged\): copying it again/);
        expect(r.status).toBe(0);
        expect(fs.readFileSync(config).equals(fs.readFileSync(path.join(repo, 'config')))).toBe(true);
        expect(restic(path.join(folder, 'repository'), 'check', '--read-data').status).toBe(0);
      });
    });

    it('leaves out a file a killed restic half-wrote (named like a pack, not matching its name), and copies the rest', () => {
      const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-mirror-torn-'));
      const repo = path.join(root, 'repository');
      const source = path.join(root, 'source');
      fs.mkdirSync(source);
      fs.writeFileSync(path.join(source, 'photo.jpg'), crypto.randomBytes(2 ** 20));
      expect(restic(repo, 'init').status).toBe(0);
      expect(restic(repo, 'backup', '--host', 'homecloud', source).status).toBe(0);
      const name = crypto.createHash('sha256').update('the whole pack').digest('hex');
      fs.mkdirSync(path.join(repo, 'data', name.slice(0, 2)), { recursive: true });
      fs.writeFileSync(path.join(repo, 'data', name.slice(0, 2), name), 'the who'); // cut short by the kill
      const folder = path.join(root, 'windows');
      fs.mkdirSync(folder);
      const r = spawnSync(which('busybox')!, ['sh', scriptPath('backup/mirror.sh'), 'copy', repo, folder],
        { env: { PATH: [applets(), '/usr/bin', '/bin'].join(':') }, encoding: 'utf8' });
      expect(r.stdout).toMatch(new RegExp(`skipping data/${name.slice(0, 2)}/${name}: half-written by a run that was stopped`));
      expect(r.status).toBe(0);
      expect(fs.existsSync(path.join(folder, 'repository', 'data', name.slice(0, 2), name))).toBe(false);
      expect(restic(path.join(folder, 'repository'), 'check', '--read-data').status).toBe(0);
    });

    /**
     * offsite.sh on its own, over snapshot folders made as backup.sh leaves them, with restic
     * behind a double that records each command.
     */
    const offsiteAlone = () => {
      const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-offsite-'));
      const backupDir = path.join(root, 'backup');
      const doubles = path.join(root, 'bin');
      fs.mkdirSync(doubles);
      fs.mkdirSync(backupDir);
      const log = fakeCommand(doubles, 'restic', `exec ${which('restic')} "$@"`);
      // Scrubbed just now: not part of these nights.
      fs.writeFileSync(path.join(backupDir, 'scrub.json'), `{"epoch":${Math.floor(Date.now() / 1000)}}\n`);
      const snapshot = (name: string) => {
        const dir = path.join(backupDir, 'snapshots', name);
        fs.mkdirSync(path.join(dir, 'files'), { recursive: true });
        fs.writeFileSync(path.join(dir, 'files', `${name}.txt`), name);
        fs.writeFileSync(path.join(dir, 'summary.json'), '{}');
      };
      const run = (env: Record<string, string> = {}) => {
        const coord = fs.mkdtempSync(path.join(root, 'coord-'));
        const script = { path: [doubles], env: { BACKUP_DIR: backupDir, COORD_DIR: coord, RESTIC_PASSWORD: RECOVERY_KEY, OFFSITE_MODE: 'client',
          TERMINATION_LOG: path.join(coord, 'log'), TZ: 'Europe/Berlin', RESTIC_CACHE_DIR: path.join(root, 'cache'), ...env } };
        /** backup.sh is done: it made snapshot `name`. */
        const backupDone = (name: string) => { snapshot(name); fs.writeFileSync(path.join(coord, 'backup.exit'), `0 ${name}\n`); };
        return { script, backupDone };
      };
      /** One night whose snapshot is ready when offsite.sh starts. */
      const night = (name: string, env: Record<string, string> = {}) => {
        const r = run(env);
        r.backupDone(name);
        return runScript('backup/offsite.sh', r.script);
      };
      return { backupDir, repo: path.join(backupDir, 'repository'), log, run, night };
    };

    it('applies the off-disk retention by the family\'s nights, and skips it while there are too few snapshots to drop any', () => {
      const o = offsiteAlone();
      // In Berlin these are the nights of 9, 10, 11 and 12 November; by UTC days the 2nd and 3rd
      // are both on the 10th, and a daily retention would keep only one of them.
      const nights = ['2026-11-09T003000Z', '2026-11-10T003000Z', '2026-11-10T233000Z', '2026-11-11T233000Z'];
      const forgets: number[] = [];
      for (const name of nights) {
        const before = calls(o.log).length;
        const run = o.night(name, { KEEP_DAILY: '3', KEEP_WEEKLY: '1', KEEP_MONTHLY: '1' });
        expect([name, run.status, run.stderr]).toEqual([name, 0, '']);
        forgets.push(calls(o.log).slice(before).filter((c) => c.startsWith('forget ')).length);
      }
      // --keep-last 2 keeps one or two snapshots whatever their dates: restic forget (a key
      // derivation and a read of every snapshot) has nothing to do on the first two nights.
      expect(forgets).toEqual([0, 0, 1, 1]);
      const kept = JSON.parse(restic(o.repo, 'snapshots', '--json').stdout) as { tags: string[] }[];
      expect(kept.map((s) => s.tags[0]).sort()).toEqual(nights.slice(1));
    });

    it('on the first night creates the repository while backup.sh still makes the snapshot, and then needs one restic command', async () => {
      const o = offsiteAlone();
      const night = o.run();
      const child = startScript('backup/offsite.sh', night.script);
      let out = '';
      child.stdout.on('data', (d) => { out += d; });
      child.stderr.on('data', (d) => { out += d; });
      const exited = new Promise<number | null>((r) => child.once('exit', r));
      const config = path.join(o.repo, 'config');
      for (let i = 0; i < 100 && !fs.existsSync(config); i++) await new Promise((r) => setTimeout(r, 200));
      const beforeSnapshot = calls(o.log);
      night.backupDone('2026-11-09T003000Z');
      expect([await exited, out]).toEqual([0, expect.stringMatching(/done/)]);
      expect(beforeSnapshot).toEqual(['init']);
      expect(calls(o.log).map((c) => c.split(' ')[0])).toEqual(['init', 'backup']);
      expect(fs.existsSync(path.join(o.backupDir, '.repository-init'))).toBe(false);
      expect(restic(o.repo, 'snapshots', '--json').stdout).toContain('2026-11-09T003000Z');
    });

    it('a first run killed while it created the repository (a key written, no config yet): the next night creates it afresh', () => {
      const o = offsiteAlone();
      expect(restic(o.repo, 'init').status).toBe(0);
      fs.rmSync(path.join(o.repo, 'config'));
      fs.mkdirSync(path.join(o.backupDir, '.repository-init')); // the killed run's init lock
      const run = o.night('2026-11-09T003000Z');
      expect(run.stdout).toMatch(/left half-created by a run that was stopped: creating it again/);
      expect(run.status).toBe(0);
      // One key, to the one repository: the recovery key opens it.
      expect(fs.readdirSync(path.join(o.repo, 'keys'))).toHaveLength(1);
      expect(restic(o.repo, 'snapshots', '--json').stdout).toContain('2026-11-09T003000Z');
      expect(fs.existsSync(path.join(o.backupDir, '.repository-init'))).toBe(false);
    });

    it('creates the repository again when a killed first run left it half-created', async () => {
      const f = fixture();
      const repo = path.join(f.backupDir, 'repository');
      expect(restic(repo, 'init').status).toBe(0);
      fs.writeFileSync(path.join(repo, 'config'), fs.readFileSync(path.join(repo, 'config')).subarray(0, 20)); // cut short
      const run = await nightly(f, { offsite: { OFFSITE_MODE: 'client' } });
      expect(run.offsite!.out).toMatch(/left half-created by a run that was stopped: creating it again/);
      expect(run.offsite!.code).toBe(0);
      expect(restic(repo, 'snapshots', '--json').stdout).toContain(snapshotsOf(f)[0]);
    });

    it('says the recovery key does not open the repository (not just "backup failed"), and changes nothing there or outside', async () => {
      const f = fixture();
      const folder = fs.mkdtempSync(path.join(f.root, 'windows-'));
      expect((await nightly(f, { offsite: cluster(folder) })).offsite!.code).toBe(0);
      const repo = path.join(f.backupDir, 'repository');
      const listing = (dir: string) => execFileSync('find', [dir, '-type', 'f'], { encoding: 'utf8' }).split('\n').sort();
      const [inside, outside] = [listing(repo), listing(path.join(folder, 'repository'))];
      await new Promise((r) => setTimeout(r, 1100));
      const run = await nightly(f, { offsite: cluster(folder, { RESTIC_PASSWORD: 'a-replaced-key' }) });
      expect(run.offsite!.code).toBe(1);
      expect(run.offsite!.out).toMatch(/does not open with this install's recovery key \(backup-key in the credentials\); was the key replaced\?/);
      expect(listing(repo)).toEqual(inside);
      expect(listing(path.join(folder, 'repository'))).toEqual(outside);
    });

    describe('a new install whose PC folder holds the family\'s earlier backups (uninstalled, folder kept)', () => {
      const files = (dir: string) => execFileSync('find', ['.', '-type', 'f'], { cwd: dir, encoding: 'utf8' }).trim().split('\n').sort();
      const snapshotTags = (repo: string, key = RECOVERY_KEY) => JSON.parse(spawnSync('restic', ['-r', repo, 'snapshots', '--json'],
        { env: { ...process.env, RESTIC_PASSWORD: key }, encoding: 'utf8' }).stdout).map((s: { tags: string[] }) => s.tags[0]).sort();

      it('goes on from them: nothing in the folder is removed, tonight\'s snapshot is added to them', async () => {
        const earlier = fixture();
        const folder = fs.mkdtempSync(path.join(earlier.root, 'windows-'));
        expect((await nightly(earlier, { offsite: cluster(folder) })).offsite!.code).toBe(0);
        const copy = path.join(folder, 'repository');
        const before = files(copy);
        const earlierSnapshot = snapshotsOf(earlier)[0];
        await new Promise((r) => setTimeout(r, 1100));
        // The same credentials (uninstall keeps them), a new backup volume.
        const fresh = fixture();
        const run = await nightly(fresh, { offsite: cluster(folder) });
        expect(run.offsite!.out).toMatch(/holds this family's earlier backups \(this install's recovery key opens them\): going on from them/);
        expect(run.offsite!.out).not.toMatch(/DAMAGED|FAILED/);
        expect(run.offsite!.code).toBe(0);
        expect(files(copy)).toEqual(expect.arrayContaining(before));
        expect(snapshotTags(copy)).toEqual([earlierSnapshot, snapshotsOf(fresh)[0]].sort());
        expect(fs.readFileSync(path.join(fresh.backupDir, 'repository', 'config')).equals(fs.readFileSync(path.join(copy, 'config')))).toBe(true);
        expect(restic(copy, 'check', '--read-data').status).toBe(0);
        expect(fs.readdirSync(fresh.backupDir).filter((n) => /adopting|repository\.new/.test(n))).toEqual([]);
      }, 180_000);

      it('leaves a repository this install\'s key does not open untouched, and says what to do', async () => {
        const earlier = fixture();
        const folder = fs.mkdtempSync(path.join(earlier.root, 'windows-'));
        expect((await nightly(earlier, { offsite: cluster(folder) })).offsite!.code).toBe(0);
        const before = treeHash(folder);
        const fresh = fixture();
        const run = await nightly(fresh, { offsite: cluster(folder, { RESTIC_PASSWORD: 'another-install-s-key' }) });
        expect(run.files.code).toBe(0);
        expect(run.offsite!.out).toMatch(/holds a different backup repository \(another install's\?\)\. Nothing was changed\. If it is the family's earlier backups, npm run restore -- --from/);
        expect(run.offsite!.out).not.toMatch(/DAMAGED/);
        expect(run.offsite!.code).toBe(1);
        expect(treeHash(folder)).toBe(before);
        // The scrub of the new repository found nothing wrong: the folder is not its copy.
        expect(JSON.parse(fs.readFileSync(path.join(fresh.backupDir, 'scrub.json'), 'utf8'))).toMatchObject({ result: 'good', offsiteCopy: 'good' });
      }, 180_000);
    });

    describe('scrub', () => {
      it('finds rot in an older kept snapshot and in the off-disk copy, marks it, repairs the copy, and fails the night', async () => {
        const f = fixture();
        const folder = fs.mkdtempSync(path.join(f.root, 'windows-'));
        const snapshots = path.join(f.backupDir, 'snapshots');
        // Night 1 (moved to an earlier day, so retention keeps it) holds a file night 2 does not:
        // the nightly check of the newest snapshot never reads it; only a scrub does.
        fs.writeFileSync(path.join(f.webroot, 'data/bob/files/only-in-first.txt'), 'first night');
        expect((await nightly(f, { offsite: cluster(folder) })).offsite!.code).toBe(0);
        fs.renameSync(path.join(snapshots, snapshotsOf(f)[0]), path.join(snapshots, '2026-01-01T013000Z'));
        fs.rmSync(path.join(f.webroot, 'data/bob/files/only-in-first.txt'));
        await new Promise((r) => setTimeout(r, 1100));
        expect((await nightly(f, { offsite: cluster(folder) })).offsite!.code).toBe(0);
        fs.writeFileSync(path.join(snapshots, '2026-01-01T013000Z', 'files/data/bob/files/only-in-first.txt'), 'first nighX');
        const pack = largestFile(path.join(folder, 'repository', 'data'));
        const bytes = fs.readFileSync(pack);
        bytes[100] ^= 0xff; // same size: only reading it finds this
        fs.writeFileSync(pack, bytes);

        await new Promise((r) => setTimeout(r, 1100));
        const run = await nightly(f, { offsite: cluster(folder, { SCRUB_NOW: 'true' }) });
        expect(run.offsite!.out).toMatch(/scrub: damaged \(snapshots marked DAMAGED: 2026-01-01T013000Z\)/);
        expect(run.offsite!.out).toMatch(/DAMAGED: data\/.* \(removed; the next copy replaces it\)/);
        expect(run.offsite!.code).toBe(1);
        expect(fs.readFileSync(path.join(snapshots, '2026-01-01T013000Z', 'DAMAGED'), 'utf8')).toMatch(/only-in-first\.txt: FAILED/);
        const scrub = JSON.parse(fs.readFileSync(path.join(f.backupDir, 'scrub.json'), 'utf8'));
        expect(scrub).toMatchObject({ result: 'damaged', damagedSnapshots: '2026-01-01T013000Z', repository: 'good', offsiteCopy: 'damaged' });
        expect(restic(path.join(folder, 'repository'), 'check', '--read-data').status).toBe(0);
      });

      it('reads the copy\'s config too (the one file not named by its content), puts it back the same night, and says the copy was damaged', async () => {
        const f = fixture();
        const folder = fs.mkdtempSync(path.join(f.root, 'windows-'));
        expect((await nightly(f, { offsite: cluster(folder) })).offsite!.code).toBe(0);
        const config = path.join(folder, 'repository', 'config');
        const bytes = fs.readFileSync(config);
        bytes[bytes.length >> 1] ^= 0x01;
        fs.writeFileSync(config, bytes);
        await new Promise((r) => setTimeout(r, 1100));
        const run = await nightly(f, { offsite: cluster(folder, { SCRUB_NOW: 'true' }) });
        expect(run.offsite!.out).toMatch(/DAMAGED: config \(removed; the next copy replaces it\)/);
        expect(run.offsite!.code).toBe(1);
        expect(JSON.parse(fs.readFileSync(path.join(f.backupDir, 'offsite.json'), 'utf8')).scrub)
          .toMatchObject({ result: 'damaged', repository: 'good', offsiteCopy: 'damaged' });
        expect(fs.readFileSync(config).equals(fs.readFileSync(path.join(f.backupDir, 'repository', 'config')))).toBe(true);
        expect(restic(path.join(folder, 'repository'), 'check', '--read-data').status).toBe(0);
      });

      it('repairs rot in the in-cluster repository from the copy outside Docker Desktop (kubeadm), and the night goes on', async () => {
        const f = fixture();
        const folder = fs.mkdtempSync(path.join(f.root, 'windows-'));
        fs.writeFileSync(path.join(f.webroot, 'data/alice/files/Photos/holiday.mp4'), crypto.randomBytes(2 * 2 ** 20));
        expect((await nightly(f, { offsite: cluster(folder) })).offsite!.code).toBe(0);
        const repo = path.join(f.backupDir, 'repository');
        const pack = largestFile(path.join(repo, 'data'));
        const data = fs.readFileSync(pack);
        data[100] ^= 0xff; // same size: the copy keeps its good version
        fs.writeFileSync(pack, data);
        await new Promise((r) => setTimeout(r, 1100));
        const run = await nightly(f, { offsite: cluster(folder, { SCRUB_NOW: 'true' }) });
        expect(run.offsite!.out).toMatch(new RegExp(`repaired data/../${path.basename(pack)} from the copy`));
        expect(run.offsite!.out).toMatch(/scrub: the repository was damaged and is repaired from the copy/);
        expect(run.offsite!.code).toBe(0);
        expect(JSON.parse(fs.readFileSync(path.join(f.backupDir, 'scrub.json'), 'utf8'))).toMatchObject({ result: 'good', repository: 'repaired', offsiteCopy: 'good' });
        expect(JSON.parse(fs.readFileSync(path.join(f.backupDir, 'offsite.json'), 'utf8')).scrub).toMatchObject({ result: 'good', repaired: true });
        expect(restic(repo, 'check', '--read-data').status).toBe(0);
        expect(restic(path.join(folder, 'repository'), 'check', '--read-data').status).toBe(0);
      });

      it('finds rot in the in-cluster repository (kind), lists the files for the PC\'s copy to put back, and checks again each night until it has', async () => {
        const f = fixture();
        fs.writeFileSync(path.join(f.webroot, 'data/alice/files/Photos/holiday.mp4'), crypto.randomBytes(2 * 2 ** 20));
        expect((await nightly(f, { offsite: { OFFSITE_MODE: 'client' } })).offsite!.code).toBe(0);
        const repo = path.join(f.backupDir, 'repository');
        const pack = largestFile(path.join(repo, 'data'));
        const good = fs.readFileSync(pack);
        const data = Buffer.from(good);
        data[100] ^= 0xff;
        fs.writeFileSync(pack, data);
        await new Promise((r) => setTimeout(r, 1100));
        const run = await nightly(f, { offsite: { OFFSITE_MODE: 'client', SCRUB_NOW: 'true' } });
        expect(run.offsite!.code).toBe(1);
        expect(run.offsite!.out).toMatch(/scrub: 1 damaged file\(s\) in the repository; npm run offsite replaces them from the PC's copy/);
        expect(JSON.parse(fs.readFileSync(path.join(f.backupDir, 'scrub.json'), 'utf8'))).toMatchObject({ result: 'damaged', repository: 'damaged' });
        const list = path.join(f.backupDir, 'repository-damaged');
        expect(fs.readFileSync(list, 'utf8')).toBe(`${path.relative(repo, pack)}\n`);
        // Still damaged the next night (no scrub due, but the list makes one): still listed.
        await new Promise((r) => setTimeout(r, 1100));
        expect((await nightly(f, { offsite: { OFFSITE_MODE: 'client' } })).offsite!.code).toBe(1);
        expect(fs.existsSync(list)).toBe(true);
        // What npm run offsite does from the PC's copy (client/offsite.ts): the good file is back.
        fs.writeFileSync(pack, good);
        await new Promise((r) => setTimeout(r, 1100));
        const after = await nightly(f, { offsite: { OFFSITE_MODE: 'client' } });
        expect(after.offsite!.code).toBe(0);
        expect(JSON.parse(fs.readFileSync(path.join(f.backupDir, 'scrub.json'), 'utf8'))).toMatchObject({ result: 'good', repository: 'repaired' });
        expect(fs.existsSync(list)).toBe(false);
      });
    });
  });

  it('leaves nothing running behind it: the job\'s output closes when the backup ends', async () => {
    // The maintenance-mode heartbeat sleeps between beats; a sleep left running would hold the
    // output open (here for an hour) after the backup is done.
    const run = await nightly(fixture(), { env: { BACKUP_HEARTBEAT_SECONDS: '3600' }, untilClosed: true });
    expect(run.files.code).toBe(0);
    expect(run.database.code).toBe(0);
  }, 60_000);

  describe('restore refuses', () => {
    let f: Fixture;
    let name: string;
    beforeAll(async () => {
      f = fixture();
      await nightly(f);
      name = snapshotsOf(f)[0];
    });
    const check = (env: Record<string, string> = {}) => runScript('backup/restore-check.sh', {
      env: { BACKUP_DIR: f.backupDir, COORD_DIR: fs.mkdtempSync(path.join(f.root, 'c-')), NEXTCLOUD_IMAGE_MAJOR: '33', ...env },
    });

    it('a snapshot from a newer Nextcloud than the configured image, and says why', () => {
      const run = check({ NEXTCLOUD_IMAGE_MAJOR: '32' });
      expect(run.status).toBe(1);
      expect(run.stdout).toMatch(/made by Nextcloud 33\.0\.9, newer than the configured image \(major 32\).*set images\.nextcloud to a 33 image/);
    });
    it('a snapshot whose files no longer match their checksums', () => {
      const victim = path.join(f.backupDir, 'snapshots', name, 'files/data/bob/files/report.pdf');
      const saved = fs.readFileSync(victim);
      fs.writeFileSync(victim, 'bit rot');
      try {
        const run = check();
        expect(run.status).toBe(1);
        expect(run.stdout).toMatch(/1 file\(s\) in .* do not match their checksums/);
      } finally {
        fs.writeFileSync(victim, saved);
      }
    });
    it('a snapshot that does not exist', () => {
      expect(check({ RESTORE_SNAPSHOT: '2020-01-01T000000Z' }).stdout).toMatch(/does not exist or is incomplete/);
    });
  });

  describe('faults never lose an earlier good backup, fail the job and leave maintenance mode off', () => {
    async function withEarlierBackup(backupDir?: string) {
      const f = fixture(backupDir);
      expect((await nightly(f)).files.code).toBe(0);
      const [good] = snapshotsOf(f);
      await new Promise((r) => setTimeout(r, 1100));
      return { f, good };
    }
    function expectSafe(f: Fixture, good: string, code: number | null) {
      if (fs.existsSync(path.join(f.root, 'termination-log'))) {
        expect(JSON.parse(fs.readFileSync(path.join(f.root, 'termination-log'), 'utf8')).result).toBe('failed');
      }
      expect(code).not.toBe(0);
      expect(snapshotsOf(f)).toEqual([good]);
      expect(intact(f, good)).toBe(true);
      expect(f.maintenance()).toBe('off');
      expect(lastRun(f).result).toBe('failed');
    }

    /** backup.sh alone, as if its database container never answered: it holds maintenance mode and waits. */
    function startWaitingBackup(f: Fixture, env: Record<string, string> = {}, detached = false) {
      const coord = fs.mkdtempSync(path.join(f.root, 'coord-'));
      return spawn(which('busybox')!, ['sh', scriptPath('backup/backup.sh')], {
        env: { PATH: [f.doubles, applets(), '/usr/bin', '/bin'].join(':'), BACKUP_DIR: f.backupDir, COORD_DIR: coord,
          NEXTCLOUD_WEBROOT: f.webroot, OCC: path.join(f.doubles, 'occ'), DUMP_WAIT_SECONDS: '60', TERMINATION_LOG: path.join(f.root, 'termination-log'), ...env },
        ...(detached ? { detached: true, stdio: 'ignore' as const } : {}),
      });
    }

    it('the database is unreachable', async () => {
      const { f, good } = await withEarlierBackup();
      const run = await nightly(f, { dbEnv: { PGPORT: '1' } });
      expectSafe(f, good, run.files.code);
      expect(lastRun(f).error).toMatch(/cannot reach the database/);
    });

    it('pg_dump is killed midway', async () => {
      const { f, good } = await withEarlierBackup();
      const killer = path.join(f.root, 'killer');
      fs.mkdirSync(killer);
      // Writes part of a dump, then dies as if OOM-killed.
      fakeCommand(killer, 'pg_dump', `for a in "$@"; do case "$a" in --file=*) head -c 100000 /dev/urandom > "\${a#--file=}";; esac; done; kill -9 $$`);
      const run = await nightly(f, { dbPath: [killer] });
      expectSafe(f, good, run.files.code);
      expect(lastRun(f).error).toMatch(/pg_dump failed/);
    });

    // Found on the real node: kill -9 of PostgreSQL during the dump. pg_dump's error is four
    // lines; the cause is the first ("server closed the connection"), not the last two.
    it('the database server dies during the dump, and the reason says so', async () => {
      const { f, good } = await withEarlierBackup();
      const dying = path.join(f.root, 'dying');
      fs.mkdirSync(dying);
      fakeCommand(dying, 'pg_dump', [
        "printf 'pg_dump: error: query failed: server closed the connection unexpectedly\\n' >&2",
        "printf '\\tThis probably means the server terminated abnormally\\n\\tbefore or while processing the request.\\n' >&2",
        "printf 'pg_dump: detail: Query was: LOCK TABLE public.oc_users IN ACCESS SHARE MODE\\n' >&2",
        'exit 1'].join('\n'));
      const run = await nightly(f, { dbPath: [dying] });
      expectSafe(f, good, run.files.code);
      expect(lastRun(f).error).toMatch(/pg_dump failed: query failed: server closed the connection unexpectedly/);
    });

    const root = process.getuid?.() === 0 && !!which('mount');
    (root ? it : it.skip)('the backup volume is full', async () => {
      const small = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-full-'));
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', small]);
      try {
        const { f, good } = await withEarlierBackup(path.join(small, 'backup'));
        fs.writeFileSync(path.join(f.webroot, 'data/alice/files/video.mp4'), crypto.randomBytes(4 * 2 ** 20));
        const run = await nightly(f);
        expectSafe(f, good, run.files.code);
        expect(lastRun(f).error).toMatch(/copying data failed|No space left/);
      } finally {
        spawnSync('umount', [small]);
      }
    });

    it('a second run starts while one is still running', async () => {
      const { f, good } = await withEarlierBackup();
      const slow = path.join(f.root, 'slow');
      fs.mkdirSync(slow);
      fakeCommand(slow, 'pg_dump', `sleep 3; exec ${path.join(pg.bin, 'pg_dump')} "$@"`);
      const firstRun = nightly(f, { dbPath: [slow] });
      await new Promise((r) => setTimeout(r, 1000));
      const second = await nightly(f);
      expect(second.files.code).toBe(75);
      expect(second.files.out).toMatch(/another backup has been running since/);
      expect(f.maintenance()).toBe('on'); // still the first run's, untouched by the second
      const first = await firstRun;
      expect(first.files.code).toBe(0);
      // The first run finished; retention then replaced the same day's earlier snapshot.
      const [newest] = snapshotsOf(f);
      expect(newest > good).toBe(true);
      expect(first.files.out).toMatch(new RegExp(`snapshot ${newest} complete`));
      expect(intact(f, newest)).toBe(true);
      expect(f.maintenance()).toBe('off');
    });

    it('an earlier snapshot is corrupted: it is detected, kept and marked, and a fresh full snapshot is made', async () => {
      const { f, good } = await withEarlierBackup();
      fs.writeFileSync(path.join(f.backupDir, 'snapshots', good, 'files/data/alice/files/notes with space.md'), '# tampered\n');
      const run = await nightly(f);
      expect(run.files.code).toBe(1);
      expect(f.maintenance()).toBe('off');
      const [kept, fresh] = snapshotsOf(f);
      expect(kept).toBe(good);
      expect(fs.readFileSync(path.join(f.backupDir, 'snapshots', good, 'DAMAGED'), 'utf8')).toMatch(/notes with space\.md: FAILED/);
      expect(intact(f, fresh)).toBe(true);
      expect(summary(f, fresh).files.changed).toBe(6);
      expect(lastRun(f)).toMatchObject({ result: 'failed', damagedSnapshot: good });
    });

    it('keeps bit rot out of a fresh snapshot: an older snapshot is verified before it becomes the link base', async () => {
      // Night 1 (moved to an earlier day, so retention keeps it) and night 2, which hard-links
      // the unchanged files to night 1: one inode, two snapshots.
      const { f, good } = await withEarlierBackup();
      const snapshots = path.join(f.backupDir, 'snapshots');
      fs.renameSync(path.join(snapshots, good), path.join(snapshots, '2026-01-01T013000Z'));
      expect((await nightly(f)).files.code).toBe(0);
      const [older, newer] = snapshotsOf(f);
      await new Promise((r) => setTimeout(r, 1100));
      // Silent rot: same size and modification time, different bytes, in the shared inode.
      const rotten = path.join(snapshots, older, 'files/data/alice/files/Photos/beach.jpg');
      const { mtime, size } = fs.statSync(rotten);
      fs.writeFileSync(rotten, Buffer.alloc(size, 0x58));
      fs.utimesSync(rotten, mtime, mtime);
      expect(fs.statSync(path.join(snapshots, newer, 'files/data/alice/files/Photos/beach.jpg')).ino).toBe(fs.statSync(rotten).ino);

      const run = await nightly(f);
      expect(run.files.code).toBe(1);
      const fresh = snapshotsOf(f).filter((s) => s !== older && s !== newer);
      expect(fresh).toHaveLength(1);
      expect(intact(f, fresh[0])).toBe(true);
      expect(fs.existsSync(path.join(snapshots, newer, 'DAMAGED'))).toBe(true);
      expect(fs.existsSync(path.join(snapshots, older, 'DAMAGED'))).toBe(true);
      expect(summary(f, fresh[0]).base).toBe('');
      expect(f.maintenance()).toBe('off');
    });

    it('removes the half-written snapshot a killed run left behind', async () => {
      const { f } = await withEarlierBackup();
      const leftover = path.join(f.backupDir, 'snapshots', '.incomplete-2026-01-01T013000Z');
      fs.mkdirSync(path.join(leftover, 'files'), { recursive: true });
      fs.writeFileSync(path.join(leftover, 'files', 'big.bin'), crypto.randomBytes(2 ** 20));
      const run = await nightly(f);
      expect(run.files.code).toBe(0);
      expect(fs.existsSync(leftover)).toBe(false);
      expect(run.files.out).toMatch(/removed .incomplete-2026-01-01T013000Z, left by a run that was stopped/);
    });

    it('a stale lock from a killed run does not block the next night', async () => {
      const { f } = await withEarlierBackup();
      fs.mkdirSync(path.join(f.backupDir, '.lock'));
      fs.writeFileSync(path.join(f.backupDir, '.lock', 'since'), String(Math.floor(Date.now() / 1000) - 20000));
      const run = await nightly(f, { env: { LOCK_STALE_SECONDS: '14400' } });
      expect(run.files.code).toBe(0);
      expect(run.files.out).toMatch(/removing a stale lock/);
    });

    // The PC switched off during the nightly backup: its lock stays in the volume. Its age alone
    // (backup.timeout, hours) kept a backup run minutes after the restart from starting.
    it('a lock whose holder stopped beating (PC switched off mid-backup) does not block a backup minutes later', async () => {
      const { f } = await withEarlierBackup();
      const child = startWaitingBackup(f, { BACKUP_HEARTBEAT_SECONDS: '1' }, true);
      const beat = path.join(f.backupDir, '.lock', 'beat');
      for (let i = 0; i < 100 && !fs.existsSync(beat); i++) await new Promise((r) => setTimeout(r, 100));
      expect(fs.existsSync(beat)).toBe(true);
      process.kill(-child.pid!, 'SIGKILL'); // no trap runs: the lock stays
      // While the holder beats the lock is honoured (the quiet limit is ten beats by default).
      const during = await nightly(f, { env: { LOCK_STALE_SECONDS: '14400', BACKUP_HEARTBEAT_SECONDS: '30' } });
      expect(during.files.code).toBe(75);
      await new Promise((r) => setTimeout(r, 3000));
      const run = await nightly(f, { env: { LOCK_STALE_SECONDS: '14400', LOCK_QUIET_SECONDS: '2' } });
      expect(run.files.out).toMatch(/removing the lock of a backup that stopped without finishing \(no sign of life for \d+ s\)/);
      expect(run.files.code).toBe(0);
      expect(lastRun(f).result).toBe('success');
    });

    it('a backup killed outright (power cut, OOM) leaves maintenance on only until the cron container notices, within minutes', async () => {
      const { f, good } = await withEarlierBackup();
      const child = startWaitingBackup(f, { BACKUP_HEARTBEAT_SECONDS: '1' }, true);
      await new Promise((r) => setTimeout(r, 2500));
      const marker = path.join(f.webroot, '.homecloud-backup-maintenance');
      expect(f.maintenance()).toBe('on');
      expect(Math.floor(Date.now() / 1000) - Number(fs.readFileSync(marker, 'utf8'))).toBeLessThanOrEqual(2);
      process.kill(-child.pid!, 'SIGKILL'); // the whole container at once: no trap runs
      await new Promise((r) => setTimeout(r, 500));
      expect(f.maintenance()).toBe('on');

      // The Nextcloud pod's cron container, with its occ going to the same double.
      const php = path.join(f.root, 'php-double');
      fs.mkdirSync(php);
      const phpLog = fakeCommand(php, 'php', `case "$1" in */occ) shift; exec ${path.join(f.doubles, 'occ')} "$@" ;; esac`);
      const cron = startScript('nextcloud/cron-loop.sh', { path: [php], env: { NEXTCLOUD_WEBROOT: f.webroot, CRON_INTERVAL_SECONDS: '1', BACKUP_HEARTBEAT_STALE_SECONDS: '3' } });
      let out = '';
      cron.stdout.on('data', (d) => { out += d; });
      await new Promise((r) => setTimeout(r, 5000));
      cron.kill('SIGTERM');
      await new Promise((r) => cron.once('exit', r));
      expect(f.maintenance()).toBe('off');
      expect(fs.existsSync(marker)).toBe(false);
      expect(out).toMatch(/a backup stopped midway left maintenance mode on; turned it off/);
      expect(calls(phpLog).filter((c) => c.includes('maintenance:mode --off'))).toHaveLength(1);
      expect(snapshotsOf(f)).toContain(good);
    }, 30_000);

    it('a normal night leaves no maintenance marker behind', async () => {
      const { f } = await withEarlierBackup();
      expect(fs.existsSync(path.join(f.webroot, '.homecloud-backup-maintenance'))).toBe(false);
    });

    const resticReady = commands(['restic'], 'apt-get install restic').ok;
    (resticReady ? it : it.skip)('killed at 20 random moments (power cut, PC shut down): no good snapshot lost, nothing leaked after the next night, which succeeds', async () => {
      const { f, good: tonight } = await withEarlierBackup();
      // An earlier night's snapshot (retention keeps one a night, so a run finished today may
      // replace today's earlier one; it must never touch another night's).
      const good = '2026-01-01T013000Z';
      fs.renameSync(path.join(f.backupDir, 'snapshots', tonight), path.join(f.backupDir, 'snapshots', good));
      const folder = fs.mkdtempSync(path.join(f.root, 'windows-'));
      fs.writeFileSync(path.join(f.webroot, 'data/alice/files/Photos/holiday.mp4'), crypto.randomBytes(6 * 2 ** 20));
      const base = { PATH: [f.doubles, applets(), '/usr/bin', '/bin'].join(':'), LANG: 'C', HOME: f.root, BACKUP_DIR: f.backupDir,
        NEXTCLOUD_WEBROOT: f.webroot, OCC: path.join(f.doubles, 'occ'), DUMP_WAIT_SECONDS: '60', LOCK_STALE_SECONDS: '0',
        TERMINATION_LOG: path.join(f.root, 'termination-log') };
      const start = (script: string, env: Record<string, string>) => {
        const child = spawn(which('busybox')!, ['sh', scriptPath(`backup/${script}`)], { env, detached: true, stdio: 'ignore' });
        return { child, done: new Promise((r) => child.once('exit', r)) };
      };
      const complete = () => snapshotsOf(f).filter((s) => !s.startsWith('.') && !fs.existsSync(path.join(f.backupDir, 'snapshots', s, 'DAMAGED')));
      let kills = 0;
      for (let i = 0; i < 20; i++) {
        const coord = fs.mkdtempSync(path.join(f.root, 'coord-'));
        const env = { ...base, COORD_DIR: coord };
        const runs = [start('backup.sh', env), start('dump-database.sh', { ...env, PATH: [pg.bin, applets(), '/usr/bin', '/bin'].join(':'), ...pg.env, PGDATABASE: 'nextcloud' }),
          start('offsite.sh', { ...env, RESTIC_PASSWORD: RECOVERY_KEY, OFFSITE_MODE: 'cluster', OFFSITE_FOLDER: folder, TERMINATION_LOG: path.join(coord, 'offsite-log') })];
        await new Promise((r) => setTimeout(r, Math.random() * 4000));
        for (const run of runs) {
          try { process.kill(-run.child.pid!, 'SIGKILL'); kills++; } catch { /* already finished */ }
        }
        await Promise.all(runs.map((r) => r.done));
        // Whatever the moment, every complete snapshot still matches its checksums, the earlier good one included.
        expect(complete()).toContain(good);
        for (const s of complete()) expect([i, s, intact(f, s)]).toEqual([i, s, true]);
        if (fs.existsSync(path.join(folder, 'repository', 'config'))) {
          const check = spawnSync('restic', ['-r', path.join(folder, 'repository'), 'check', '--no-lock'],
            { env: { PATH: '/usr/bin:/bin', HOME: f.root, RESTIC_PASSWORD: RECOVERY_KEY, RESTIC_CACHE_DIR: path.join(f.root, 'rc') }, encoding: 'utf8' });
          expect([i, check.status]).toEqual([i, 0]);
        }
        await new Promise((r) => setTimeout(r, 1100)); // snapshot names have one-second resolution
      }
      expect(kills).toBeGreaterThanOrEqual(20);
      const next = await nightly(f, { env: { LOCK_STALE_SECONDS: '0' }, offsite: { OFFSITE_MODE: 'cluster', OFFSITE_FOLDER: folder } });
      expect([next.files.code, next.offsite!.code, next.offsite!.code ? next.offsite!.out : '']).toEqual([0, 0, '']);
      // No leaked space: no half-written snapshot, stage, lock or partial copy is left.
      expect(fs.readdirSync(path.join(f.backupDir, 'snapshots')).filter((s) => s.startsWith('.'))).toEqual([]);
      expect(fs.existsSync(path.join(f.backupDir, '.offsite-stage'))).toBe(false);
      expect(fs.existsSync(path.join(f.backupDir, '.lock'))).toBe(false);
      expect(fs.readdirSync(folder)).toEqual(['repository']);
      expect(f.maintenance()).toBe('off');
    }, 240_000);

    it('a kill while retention removes an old snapshot leaves no half-deleted snapshot that looks complete', async () => {
      const { f, good } = await withEarlierBackup();
      // `rm` that removes the first file of the snapshot retention drops, then cuts the power:
      // the whole job (its process group) is killed in the middle of the removal.
      fs.writeFileSync(path.join(f.doubles, 'rm'), `#!/bin/sh
for a in "$@"; do
  case "$a" in *snapshots/*${good}*)
    /bin/rm -f "$a/database.dump"
    kill -9 "-$(cut -d' ' -f5 /proc/self/stat)" ;;
  esac
done
exec /bin/rm "$@"
`, { mode: 0o755 });
      const coord = fs.mkdtempSync(path.join(f.root, 'coord-'));
      const env = { PATH: [f.doubles, applets(), '/usr/bin', '/bin'].join(':'), LANG: 'C', HOME: f.root, BACKUP_DIR: f.backupDir, COORD_DIR: coord,
        NEXTCLOUD_WEBROOT: f.webroot, OCC: path.join(f.doubles, 'occ'), DUMP_WAIT_SECONDS: '60', TERMINATION_LOG: path.join(f.root, 'termination-log') };
      const start = (script: string, e: Record<string, string>) => {
        const child = spawn(which('busybox')!, ['sh', scriptPath(`backup/${script}`)], { env: e, detached: true, stdio: 'ignore' });
        return new Promise((r) => child.once('exit', r));
      };
      const codes = await Promise.all([start('backup.sh', env),
        start('dump-database.sh', { ...env, PATH: [pg.bin, applets(), '/usr/bin', '/bin'].join(':'), ...pg.env, PGDATABASE: 'nextcloud' })]);
      expect(codes[0]).toBeNull(); // killed, as planned
      expect(fs.existsSync(path.join(f.backupDir, 'snapshots', good))).toBe(false);
      // Every snapshot the scripts would build on or restore is whole.
      const listed = execFileSync(which('busybox')!, ['sh', scriptPath('backup/good-snapshots.sh'), path.join(f.backupDir, 'snapshots')], { encoding: 'utf8' }).trim().split('\n');
      expect(listed).toHaveLength(1);
      for (const s of listed) expect([s, intact(f, s)]).toEqual([s, true]);
      // The next night removes the rest and succeeds.
      fs.unlinkSync(path.join(f.doubles, 'rm'));
      await new Promise((r) => setTimeout(r, 1100));
      const next = await nightly(f, { env: { LOCK_STALE_SECONDS: '0' } });
      expect(next.files.code).toBe(0);
      expect(snapshotsOf(f).filter((s) => s.startsWith('.'))).toEqual([]);
    }, 60_000);

    it('SIGTERM (the job\'s deadline) still takes Nextcloud out of maintenance mode', async () => {
      const { f, good } = await withEarlierBackup();
      const child = startWaitingBackup(f);
      await new Promise((r) => setTimeout(r, 1500));
      expect(f.maintenance()).toBe('on');
      child.kill('SIGTERM');
      const code = await new Promise((r) => child.once('exit', (c) => r(c)));
      expectSafe(f, good, code as number);
      expect(lastRun(f).error).toMatch(/stopped by a signal/);
    });
  });
});

// In the pod, dump-database.sh is its container's PID 1: the kernel delivers no signal to a
// PID 1 that has no handler for it, so without an early trap the job's deadline or a node
// shutdown waits out the whole grace period.
const asPid1 = (() => {
  const tools = commands(['busybox', 'unshare'], 'apt-get install busybox util-linux');
  if (!tools.ok) return tools;
  return process.getuid?.() === 0 ? tools : { ok: false, reason: 'needs root for a PID namespace (unshare --pid)' };
})();
describeWhen(asPid1, 'dump-database.sh as PID 1', () => {
  it('stops at once on SIGTERM while it waits for the backup to start', async () => {
    const coord = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-pid1-'));
    const child = spawn(which('unshare')!, ['--pid', '--fork', '--kill-child', which('busybox')!, 'sh', scriptPath('backup/dump-database.sh')],
      { env: { PATH: [applets(), '/usr/bin', '/bin'].join(':'), COORD_DIR: coord, DUMP_WAIT_SECONDS: '20' } });
    await new Promise((r) => setTimeout(r, 700));
    // The script is PID 1 in its namespace; here it is unshare's child.
    const pid1 = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number).find((pid) => {
      try { return new RegExp(`^PPid:\\s+${child.pid}$`, 'm').test(fs.readFileSync(`/proc/${pid}/status`, 'utf8')); } catch { return false; }
    })!;
    expect(fs.readFileSync(`/proc/${pid1}/status`, 'utf8')).toMatch(/^NSpid:\s+\d+\s+1$/m);
    const stopped = Date.now();
    process.kill(pid1, 'SIGTERM');
    const code = await new Promise((r) => child.once('exit', (c) => r(c)));
    expect(Date.now() - stopped).toBeLessThan(3000);
    expect(code).toBe(143);
  }, 30_000);
});

describeWhen(commands(['busybox'], 'apt-get install busybox'), 'retention under busybox sh', () => {
  const keep = (names: string[], env: Record<string, string> = {}) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-ret-'));
    fs.writeFileSync(path.join(dir, 'in'), names.join('\n') + '\n');
    const r = spawnSync(which('busybox')!, ['sh', '-c', `sh ${scriptPath('backup/retention.sh')} < ${path.join(dir, 'in')}`],
      { env: { PATH: '/usr/bin:/bin', ...env }, encoding: 'utf8' });
    expect(r.status).toBe(0);
    const gone = new Set(r.stdout.trim().split('\n').filter(Boolean));
    return names.map((n) => n.split(' ')[0]).filter((n) => !gone.has(n)).sort();
  };
  /** One snapshot a night at 02:30 from `from` for `days` days, skipping the dates in `off`. */
  const nightlyFrom = (from: string, days: number, off: string[] = []) => Array.from({ length: days }, (_, i) => {
    const d = new Date(`${from}T02:30:00Z`);
    d.setUTCDate(d.getUTCDate() + i);
    return d.toISOString().slice(0, 10);
  }).filter((d) => !off.includes(d)).map((d) => `${d}T023000Z`);

  describeWhen(commands(['php'], 'apt-get install php-cli'), 'by the local night (nights.sh), across daylight-saving changes', () => {
    // A 01:30 backup in Berlin, every night around the spring change (29 March 2026): 00:30 UTC
    // in winter, 23:30 UTC the day before in summer.
    const berlin = ['2026-03-25T003000Z', '2026-03-26T003000Z', '2026-03-27T003000Z', '2026-03-28T003000Z',
      '2026-03-28T233000Z', '2026-03-29T233000Z', '2026-03-30T233000Z', '2026-03-31T233000Z'];
    const nights = (names: string[], tz: string) => spawnSync(which('busybox')!, ['sh', scriptPath('backup/nights.sh')],
      { env: { PATH: '/usr/bin:/bin', TZ: tz }, input: names.join('\n') + '\n', encoding: 'utf8' }).stdout.trim().split('\n');

    it('gives each night its own date, whatever the UTC date', () => {
      expect(nights(['2026-03-28T003000Z', '2026-03-28T233000Z'], 'Europe/Berlin'))
        .toEqual(['2026-03-28T003000Z 2026-03-27', '2026-03-28T233000Z 2026-03-28']);
    });

    it('keeps a snapshot of each of the last 7 nights after the clocks change', () => {
      const kept = keep(nights(berlin, 'Europe/Berlin'), { KEEP_DAILY: '7', KEEP_WEEKLY: '1', KEEP_MONTHLY: '1' });
      expect(kept).toEqual(berlin.slice(1).sort());
    });

    it('(by UTC days, the night after the change would have lost its snapshot)', () => {
      const kept = keep(berlin, { KEEP_DAILY: '7', KEEP_WEEKLY: '1', KEEP_MONTHLY: '1' });
      expect(kept).not.toContain('2026-03-28T003000Z');
    });
  });

  it('keeps 7 daily, 4 weekly and 6 monthly over half a year of nights', () => {
    const kept = keep(nightlyFrom('2026-05-01', 210));
    const daily = nightlyFrom('2026-11-20', 7);
    expect(kept).toEqual(expect.arrayContaining(daily));
    // The newest of each of the 4 newest ISO weeks (Monday to Sunday; the two newest weeks'
    // are among the daily ones) and of the 6 newest months.
    const weekly = ['2026-11-15T023000Z', '2026-11-08T023000Z'];
    const monthly = ['2026-10-31T023000Z', '2026-09-30T023000Z', '2026-08-31T023000Z', '2026-07-31T023000Z', '2026-06-30T023000Z'];
    expect(kept).toEqual([...monthly, ...weekly, ...daily].sort());
    expect(kept).not.toContain('2026-11-01T023000Z');
  });

  it('counts days with a backup, not calendar days, when the PC was off', () => {
    const off = nightlyFrom('2026-11-10', 14);
    const kept = keep(nightlyFrom('2026-10-01', 40, off), { KEEP_DAILY: '7', KEEP_WEEKLY: '0', KEEP_MONTHLY: '0' });
    expect(kept).toEqual(nightlyFrom('2026-11-03', 7));
  });

  it('always keeps the newest snapshot', () => {
    expect(keep(['2026-01-01T000000Z'], { KEEP_DAILY: '0', KEEP_WEEKLY: '0', KEEP_MONTHLY: '0' })).toEqual(['2026-01-01T000000Z']);
  });

  it('keeps only the newest of several snapshots on one day', () => {
    expect(keep(['2026-11-26T023000Z', '2026-11-26T150000Z', '2026-11-26T090000Z'], { KEEP_WEEKLY: '0', KEEP_MONTHLY: '0' }))
      .toEqual(['2026-11-26T150000Z']);
  });

  it('handles a year boundary in weeks and months', () => {
    const kept = keep(nightlyFrom('2026-12-20', 20), { KEEP_DAILY: '1', KEEP_WEEKLY: '3', KEEP_MONTHLY: '2' });
    expect(kept).toEqual(['2026-12-27T023000Z', '2026-12-31T023000Z', '2027-01-03T023000Z', '2027-01-08T023000Z']);
  });
});
