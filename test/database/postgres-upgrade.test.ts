import { execFileSync, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { scriptPath } from '../../lib/config/container-scripts';
import { applets, runScript } from '../support/busybox';
import { TestPostgres, postgresAvailable, startPostgres } from '../support/postgres';
import { commands, describeWhen, which } from '../support/requirements';

// upgrade-major.sh as the Job runs it (busybox sh, as root, dropping to postgres), against a
// real PostgreSQL server standing for the old major. Debian 12 has one PostgreSQL major (15), so
// old and new are the same major here: the code path is the one a 18 → 19 move takes.
const ready = (() => {
  const a = postgresAvailable();
  const b = commands(['busybox'], 'apt-get install busybox');
  return { ok: a.ok && b.ok, reason: [a, b].filter((x) => !x.ok).map((x) => x.reason).join('; ') };
})();

describeWhen(ready, 'moving the database to a new PostgreSQL major (upgrade-major.sh)', () => {
  let old: TestPostgres;
  let root: string;
  const script = scriptPath('database/upgrade-major.sh');

  // Rows of every type Nextcloud's tables use, a role of its own, names a family writes.
  const FAMILY = `CREATE ROLE oc_admin LOGIN PASSWORD 'from-the-old-pc';
    CREATE TABLE oc_rows (id bigserial primary key, small smallint, n numeric(20,6), f double precision, flag boolean, name text,
      raw bytea, at timestamptz, day date, span interval, doc jsonb, tags text[], uid uuid, nothing text);
    INSERT INTO oc_rows (small, n, f, flag, name, raw, at, day, span, doc, tags, uid, nothing)
      SELECT g % 32000, g * 1.000001, g / 3.0, g % 2 = 0, 'Geburtstag Müller ' || g || ' 漢字 😀', decode(md5(g::text), 'hex'),
        '2026-03-29 01:30:00+01'::timestamptz + g * interval '1 hour', '2026-01-01'::date + g, g * interval '1 minute',
        jsonb_build_object('n', g, 'ä', 'ö'), ARRAY['a', 'b' || g], md5(g::text)::uuid, NULL FROM generate_series(1, 3000) g;
    CREATE TABLE oc_filecache (fileid serial primary key, path text, size bigint);
    INSERT INTO oc_filecache (path, size) SELECT 'files/Fotos/IMG_' || g || '.jpg', g * 1000 FROM generate_series(1, 500) g;
    CREATE TABLE "oc_Empty" (id int);
    ALTER TABLE oc_rows OWNER TO oc_admin;`;
  // An independent check from outside the script: each table's rows, in order, as one digest.
  const DIGESTS = `SELECT string_agg(t, ' ' ORDER BY t) FROM (
      SELECT 'oc_rows:' || md5(string_agg(x::text, ',' ORDER BY id)) t FROM oc_rows x
      UNION ALL SELECT 'oc_filecache:' || md5(string_agg(x::text, ',' ORDER BY fileid)) FROM oc_filecache x
      UNION ALL SELECT 'oc_Empty:' || count(*) FROM "oc_Empty") d`;

  const env = (pgdata: string, extra: Record<string, string> = {}) => ({
    // runuser (Debian's stand-in for the image's su-exec) lives in /usr/sbin.
    PATH: [old.bin, applets(), '/usr/bin', '/bin', '/usr/sbin', '/sbin'].join(':'), HOME: os.tmpdir(), LANG: 'C',
    PGDATA: pgdata, OLD_HOST: '127.0.0.1', OLD_PORT: String(old.port), PGUSER: old.user, PGPASSWORD: old.password, PGDATABASE: 'nextcloud',
    TERMINATION_LOG: path.join(path.dirname(path.dirname(pgdata)), 'termination-log'), ...extra,
  });
  const run = (pgdata: string) => spawnSync(which('busybox')!, ['sh', script], { env: env(pgdata), encoding: 'utf8', timeout: 180_000 });
  const asPostgres = (cmd: string, args: string[]) => execFileSync(process.getuid?.() === 0 ? 'runuser' : cmd,
    process.getuid?.() === 0 ? ['-u', 'postgres', '--', cmd, ...args] : args, { stdio: 'pipe', encoding: 'utf8' });
  // Starts the new data folder on a socket of its own and queries it as the family's database.
  const queryNew = (pgdata: string, sql: string) => {
    const sock = fs.mkdtempSync(path.join(root, 'sock-'));
    fs.chmodSync(sock, 0o777);
    // No TCP at all (listen_addresses empty): only a socket file in a folder of its own.
    asPostgres(path.join(old.bin, 'pg_ctl'), ['-D', pgdata, '-w', '-l', path.join(sock, 'log'), '-o', `-c listen_addresses='' -k ${sock}`, 'start']);
    try {
      return execFileSync(path.join(old.bin, 'psql'), ['-X', '-q', '-t', '-A', '-h', sock, '-d', 'nextcloud', '-c', sql],
        { env: { ...process.env, PGUSER: old.user, PGPASSWORD: old.password }, encoding: 'utf8' }).trim();
    } finally {
      asPostgres(path.join(old.bin, 'pg_ctl'), ['-D', pgdata, '-w', '-m', 'fast', 'stop']);
    }
  };
  const newVolume = () => {
    const v = fs.mkdtempSync(path.join(root, 'volume-'));
    fs.chmodSync(v, 0o755);
    // Kubernetes' /dev/termination-log is writable by the container's user.
    fs.writeFileSync(path.join(v, 'termination-log'), '', { mode: 0o666 });
    fs.chmodSync(path.join(v, 'termination-log'), 0o666);
    return path.join(v, '19', 'docker');
  };

  beforeAll(async () => {
    old = await startPostgres();
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-pgup-'));
    fs.chmodSync(root, 0o755);
    fs.chmodSync(applets(), 0o755);
    old.psql('CREATE DATABASE nextcloud');
    old.psql(FAMILY, 'nextcloud');
  }, 120_000);
  afterAll(() => old?.stop());

  it('fills a new data folder with every row equal, roles and owners kept, and says so', () => {
    const pgdata = newVolume();
    const r = run(pgdata);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/upgraded: 3 tables, 3500 rows equal/);
    expect(r.status).toBe(0);
    expect(fs.readFileSync(path.join(path.dirname(path.dirname(pgdata)), 'termination-log'), 'utf8')).toMatch(/^upgraded: 3 tables, 3500 rows equal/);
    expect(queryNew(pgdata, DIGESTS)).toBe(old.psql(DIGESTS, 'nextcloud'));
    expect(queryNew(pgdata, "SELECT tableowner FROM pg_tables WHERE tablename = 'oc_rows'")).toBe('oc_admin');
    expect(queryNew(pgdata, "SELECT rolpassword FROM pg_authid WHERE rolname = 'oc_admin'")).toBe(old.psql("SELECT rolpassword FROM pg_authid WHERE rolname = 'oc_admin'"));
    // Reachable over the pod network once it is the database (as the image's initdb would allow).
    expect(fs.readFileSync(path.join(pgdata, 'pg_hba.conf'), 'utf8')).toMatch(/^host all all all scram-sha-256$/m);
    // Its work folder (with the dump and the password file) is gone.
    expect(fs.readdirSync(path.dirname(pgdata))).toEqual(['docker']);
    expect(fs.readFileSync(path.join(pgdata, 'homecloud-copied-from'), 'utf8').trim()).toBe(old.psql('SHOW server_version_num'));
  }, 180_000);

  it('refuses to overwrite a data folder that holds a database it did not make', () => {
    const pgdata = newVolume();
    expect(run(pgdata).status).toBe(0);
    fs.rmSync(path.join(pgdata, 'homecloud-copied-from'));
    const r = run(pgdata);
    expect(r.stdout).toMatch(/FAILED: .*already holds a PostgreSQL \d+ database; refusing to overwrite it/);
    expect(r.status).toBe(1);
    expect(queryNew(pgdata, DIGESTS)).toBe(old.psql(DIGESTS, 'nextcloud'));
  }, 180_000);

  it('makes again a copy of its own that was never switched to (the Job stopped right after it)', () => {
    const pgdata = newVolume();
    expect(run(pgdata).status).toBe(0);
    const r = run(pgdata);
    expect(r.stdout).toMatch(/replacing an earlier copy that was never switched to[\s\S]*upgraded: 3 tables/);
    expect(r.status).toBe(0);
  }, 180_000);

  it('refuses, touching nothing, when the server it would copy from already runs the target major (started by hand after the switch)', () => {
    const v = fs.mkdtempSync(path.join(root, 'volume-'));
    fs.chmodSync(v, 0o755);
    const live = path.join(v, old.psql('SHOW server_version_num').slice(0, -4), 'docker');
    fs.mkdirSync(live, { recursive: true });
    fs.writeFileSync(path.join(live, 'PG_VERSION'), 'live\n');
    const r = run(live);
    expect(r.stdout).toMatch(/FAILED: the database at 127\.0\.0\.1 already runs PostgreSQL \d+: nothing to copy into \d+; nothing was changed/);
    expect(r.status).toBe(1);
    expect(fs.readdirSync(live)).toEqual(['PG_VERSION']);
  });

  it('replaces the folder an upgrade that was rolled back left behind (tidy had marked it)', () => {
    const pgdata = newVolume();
    expect(run(pgdata).status).toBe(0);
    fs.writeFileSync(path.join(path.dirname(pgdata), 'homecloud-keep-until'), '1999999999');
    const r = run(pgdata);
    expect(r.stdout).toMatch(/replacing the PostgreSQL data left by an earlier upgrade that was rolled back[\s\S]*upgraded: 3 tables/);
    expect(r.status).toBe(0);
    expect(fs.existsSync(path.join(path.dirname(pgdata), 'homecloud-keep-until'))).toBe(false);
  }, 180_000);

  it('fails, naming why, when the old server cannot be reached, and leaves the old data as it was', () => {
    const pgdata = newVolume();
    const before = old.psql(DIGESTS, 'nextcloud');
    const r = spawnSync(which('busybox')!, ['sh', script], { env: env(pgdata, { OLD_PORT: '1' }), encoding: 'utf8' });
    expect(r.stdout).toMatch(/FAILED: cannot reach the old database at 127\.0\.0\.1/);
    expect(r.status).toBe(1);
    expect(old.psql(DIGESTS, 'nextcloud')).toBe(before);
  });

  // The moments a kill can land in, chosen rather than hoped for: a stand-in for each tool on
  // PATH, in front of the real one, says "here" at its step (before or after the real command)
  // and then waits to be killed. A loaded machine only makes the wait longer.
  const KILL_AT = ['initdb:before', 'initdb:after', 'pg_ctl:after', 'pg_dumpall:after', 'pg_dump:before', 'pg_dump:after',
    'pg_restore:after', 'vacuumdb:after'];
  const stopAt = (at: string) => {
    const [tool, when] = at.split(':');
    const dir = fs.mkdtempSync(path.join(root, 'stop-at-'));
    fs.chmodSync(dir, 0o777);
    const here = path.join(dir, 'here');
    const real = path.join(old.bin, tool);
    const runReal = when === 'after' ? `"${real}" "$@"\n` : '';
    fs.writeFileSync(path.join(dir, tool), `#!/bin/sh\n${runReal}: > "${here}"\nexec sleep 3600\n`, { mode: 0o755 });
    return { dir, here };
  };

  it('after being killed inside any of its steps, the next run starts over and succeeds; the old database never changes', async () => {
    const before = old.psql(DIGESTS, 'nextcloud');
    for (const at of KILL_AT) {
      const pgdata = newVolume();
      const stop = stopAt(at);
      const e = env(pgdata);
      const child = spawn(which('busybox')!, ['sh', script], { env: { ...e, PATH: `${stop.dir}:${e.PATH}` }, detached: true, stdio: 'ignore' });
      const exited = new Promise((r) => child.once('exit', r));
      // Waits for the stand-in to be reached; a run that ends first would be the defect.
      let ended = false;
      void exited.then(() => { ended = true; });
      while (!fs.existsSync(stop.here) && !ended) await new Promise((r) => setTimeout(r, 50));
      expect([at, ended]).toEqual([at, false]);
      process.kill(-child.pid!, 'SIGKILL');
      await exited;
      // A server the killed run started is stopped by hand, as a new pod would not find it running.
      spawnSync('runuser', ['-u', 'postgres', '--', path.join(old.bin, 'pg_ctl'), '-D', pgdata, '-m', 'immediate', 'stop'], { stdio: 'ignore' });
      expect([at, fs.existsSync(`${pgdata}.upgrade/incomplete`)]).toEqual([at, true]);
      const r = run(pgdata);
      expect([at, r.stdout]).toEqual([at, expect.stringMatching(/an earlier attempt did not finish[\s\S]*upgraded: 3 tables, 3500 rows equal/)]);
      expect(queryNew(pgdata, DIGESTS)).toBe(before);
      fs.rmSync(path.dirname(path.dirname(pgdata)), { recursive: true, force: true });
    }
    expect(old.psql(DIGESTS, 'nextcloud')).toBe(before);
  }, 600_000);
});

describeWhen(commands(['busybox'], 'apt-get install busybox'), 'keeping the old major\'s data for a while (tidy-old-majors.sh)', () => {
  const tidy = (dataRoot: string, current: string, env: Record<string, string> = {}) =>
    runScript('database/tidy-old-majors.sh', { env: { DATA_ROOT: dataRoot, PG_MAJOR_IN_USE: current, ...env } });

  it('keeps another major\'s folder for KEEP_DAYS from when it is first seen, then removes it; never the one in use', () => {
    const dataRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-tidy-'));
    for (const d of ['18/docker', '19/docker', 'lost+found', 'notes']) fs.mkdirSync(path.join(dataRoot, d), { recursive: true });
    fs.writeFileSync(path.join(dataRoot, '18', 'docker', 'PG_VERSION'), '18\n');
    const first = tidy(dataRoot, '19');
    expect(first.stdout).toMatch(/PostgreSQL 18's data is kept for 14 days/);
    expect(first.status).toBe(0);
    const until = Number(fs.readFileSync(path.join(dataRoot, '18', 'homecloud-keep-until'), 'utf8'));
    expect(until - Date.now() / 1000).toBeGreaterThan(14 * 86400 - 60);
    expect(tidy(dataRoot, '19').stdout).toBe('');
    expect(fs.existsSync(path.join(dataRoot, '18', 'docker', 'PG_VERSION'))).toBe(true);
    fs.writeFileSync(path.join(dataRoot, '18', 'homecloud-keep-until'), String(Math.floor(Date.now() / 1000) - 1));
    expect(tidy(dataRoot, '19').stdout).toMatch(/removed PostgreSQL 18's data/);
    expect(fs.readdirSync(dataRoot).sort()).toEqual(['19', 'lost+found', 'notes']);
    expect(fs.existsSync(path.join(dataRoot, '19', 'homecloud-keep-until'))).toBe(false);
  });

  it('removes every other major at once when the family confirms (REMOVE_NOW)', () => {
    const dataRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-tidy-'));
    for (const d of ['17', '18', '19']) fs.mkdirSync(path.join(dataRoot, d, 'docker'), { recursive: true });
    const r = tidy(dataRoot, '19', { REMOVE_NOW: '1' });
    expect(r.stdout.match(/removed PostgreSQL \d+'s data \(confirmed\)/g)).toHaveLength(2);
    expect(fs.readdirSync(dataRoot)).toEqual(['19']);
  });

  it('keeps a folder whose date it cannot read', () => {
    const dataRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-tidy-'));
    fs.mkdirSync(path.join(dataRoot, '18'));
    fs.writeFileSync(path.join(dataRoot, '18', 'homecloud-keep-until'), 'soon');
    expect(tidy(dataRoot, '19').stdout).toMatch(/unreadable .*keeping PostgreSQL 18's data/);
    expect(fs.existsSync(path.join(dataRoot, '18'))).toBe(true);
  });
});
