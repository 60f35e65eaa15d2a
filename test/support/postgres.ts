import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

/** Folder with PostgreSQL's server binaries (Debian keeps them off PATH), or undefined. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!fs.existsSync(root)) return undefined;
  const versions = fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions.length ? path.join(root, versions[0], 'bin') : undefined;
}

export function postgresAvailable(): { ok: boolean; reason: string } {
  const bin = postgresBinDir();
  const asRootWithoutUser = process.getuid?.() === 0 && spawnSync('id', ['postgres']).status !== 0;
  return {
    ok: !!bin && !asRootWithoutUser,
    reason: !bin ? 'PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql)'
      : 'running as root without a "postgres" user to run the server as (apt-get install postgresql creates it)',
  };
}

export interface TestPostgres {
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly bin: string;
  /** libpq environment for connecting as the superuser. */
  readonly env: Record<string, string>;
  psql(sql: string, db?: string): string;
  stop(): void;
  start(): void;
}

async function freePort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** A throw-away PostgreSQL server on loopback with password authentication. */
export async function startPostgres(): Promise<TestPostgres> {
  const bin = postgresBinDir()!;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-pg-'));
  const data = path.join(dir, 'data');
  const port = await freePort();
  const user = 'nextcloud';
  const password = `pw-${process.pid}-${port}`;
  fs.writeFileSync(path.join(dir, 'pw'), password);
  // initdb and postgres refuse to run as root.
  const asPostgres = (cmd: string, args: string[]) => (process.getuid?.() === 0
    ? execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: 'pipe' })
    : execFileSync(cmd, args, { stdio: 'pipe' }));
  if (process.getuid?.() === 0) execFileSync('chown', ['-R', 'postgres', dir]);
  fs.chmodSync(dir, 0o755);
  asPostgres(path.join(bin, 'initdb'), ['-D', data, '-U', user, '--auth=scram-sha-256', `--pwfile=${path.join(dir, 'pw')}`, '-E', 'UTF8', '--no-sync']);
  const ctl = (action: string) => asPostgres(path.join(bin, 'pg_ctl'), ['-D', data, '-w', '-l', path.join(dir, 'log'), action,
    ...(action === 'start' ? ['-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`] : ['-m', 'fast'])]);
  ctl('start');
  const env = { PGHOST: '127.0.0.1', PGPORT: String(port), PGUSER: user, PGPASSWORD: password, PGDATABASE: 'postgres' };
  return {
    port, user, password, bin, env,
    psql: (sql, db = 'postgres') => execFileSync(path.join(bin, 'psql'), ['-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1', '-d', db, '-c', sql],
      { env: { ...process.env, ...env }, encoding: 'utf8' }).trim(),
    stop: () => ctl('stop'),
    start: () => ctl('start'),
  };
}
