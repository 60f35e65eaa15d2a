import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runScript } from '../support/busybox';
import { TestPostgres, postgresAvailable, startPostgres } from '../support/postgres';
import { commands, describeWhen } from '../support/requirements';

const ready = (() => {
  const bb = commands(['busybox'], 'apt-get install busybox');
  const pg = postgresAvailable();
  return { ok: bb.ok && pg.ok, reason: [bb.ok ? '' : bb.reason, pg.ok ? '' : pg.reason].filter(Boolean).join('; ') };
})();

describeWhen(ready, 'backup.sh against a real PostgreSQL, under busybox sh', () => {
  let pg: TestPostgres;

  beforeAll(async () => {
    pg = await startPostgres();
    pg.psql('CREATE DATABASE nextcloud');
    pg.psql(`CREATE TABLE oc_files (id serial primary key, path text, size bigint);
             INSERT INTO oc_files (path, size) SELECT 'files/photo-' || g || '.jpg', g * 1000 FROM generate_series(1, 5000) g;`, 'nextcloud');
  });
  afterAll(() => pg?.stop());

  const backup = (dir: string, env: Record<string, string> = {}) => runScript('backup/backup.sh', {
    path: [pg.bin], env: { ...pg.env, PGDATABASE: 'nextcloud', BACKUP_DIR: dir, ...env },
  });
  const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'hc-backup-'));
  const listing = (dir: string) => fs.readdirSync(path.join(dir, 'database')).sort();

  it('writes a verified dump with its checksum, under its final name only', () => {
    const dir = tmp();
    const run = backup(dir);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const files = listing(dir);
    expect(files).toHaveLength(2);
    expect(files[0]).toMatch(/^nextcloud-\d{8}T\d{6}Z\.dump$/);
    expect(files[1]).toBe(`${files[0]}.sha256`);
    execFileSync('sha256sum', ['-c', files[1]], { cwd: path.join(dir, 'database') });
  });

  it('writes a dump that restores to the same data', () => {
    const dir = tmp();
    expect(backup(dir).status).toBe(0);
    const dump = path.join(dir, 'database', listing(dir)[0]);
    pg.psql('CREATE DATABASE restored');
    execFileSync(path.join(pg.bin, 'pg_restore'), ['--dbname=restored', '--no-owner', dump], { env: { ...process.env, ...pg.env } });
    const digest = (db: string) => pg.psql("SELECT md5(string_agg(id || ':' || path || ':' || size, ',' ORDER BY id)) FROM oc_files", db);
    expect(digest('restored')).toBe(digest('nextcloud'));
  });

  it('fails when the database is unreachable, leaving the earlier backup untouched and no partial file', () => {
    const dir = tmp();
    expect(backup(dir).status).toBe(0);
    const before = listing(dir);
    const run = backup(dir, { PGPORT: '1' });
    expect(run.status).not.toBe(0);
    expect(run.stdout).toMatch(/FAILED \(exit \d+\); earlier backups are untouched/);
    expect(listing(dir)).toEqual(before);
  });
});
