import { SpawnSyncReturns, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { which } from './requirements';

const HERE = path.join(__dirname, '..', 'realnode');
const BUILD = path.join(__dirname, '..', 'controlplane', 'build.sh');

/** Docker Desktop's storage in each of its cluster types (see test/realnode/README.md). */
export type StorageMode = 'hostpath' | 'local-path';

/**
 * Whether a real node can run here: Linux as root (namespaces, cgroups, mounts), the programs
 * the node and the stand-in images are made of, and Go or a cache for the node's binaries.
 */
export function realNodeAvailable(): { ok: boolean; reason: string } {
  if (process.platform !== 'linux') return { ok: false, reason: 'a real node runs on Linux only' };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'a real node needs root (namespaces, cgroups, mounts)' };
  const missing = ['bash', 'openssl', 'curl', 'python3', 'kubectl', 'unshare', 'nsenter', 'ip', 'iptables', 'flock', 'apt-get',
    'postgres', 'nginx', 'php', 'php-fpm8.2', 'rsync', 'busybox'].filter((c) => !which(c) && !fs.existsSync(`/usr/lib/postgresql/15/bin/${c}`));
  const cached = spawnSync('bash', [BUILD, 'node', '--cached-only'], { encoding: 'utf8' }).status === 0;
  if (!cached && !which('go')) missing.push('go (to build the node once; or a cache from an earlier build)');
  if (!fs.existsSync('/usr/lib/php/20220829/pdo_pgsql.so')) missing.push('php8.2-pgsql');
  return { ok: missing.length === 0, reason: `missing ${missing.join(', ')} (apt-get install, see .ci/run)` };
}

export interface RunOptions { cwd?: string; env?: NodeJS.ProcessEnv; input?: string | Buffer; timeout?: number }

export interface RealNode {
  readonly dir: string;
  readonly kubeconfig: string;
  readonly storage: StorageMode;
  readonly startupSeconds: number;
  /** Runs a program inside the node's namespaces (where the API server and the pods are). */
  run(args: string[], opts?: RunOptions): SpawnSyncReturns<string>;
  /** kubectl inside the namespaces; throws with its stderr on failure. */
  kubectl(args: string[], input?: string): string;
  stop(): void;
}

/** Starts the control plane and a real node (building what is missing). Stops with the test process. */
export function startRealNode(storage: StorageMode = 'hostpath'): RealNode {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-realnode-'));
  const env = { ...process.env, HOMECLOUD_STORAGE: storage };
  const up = spawnSync('bash', [path.join(HERE, 'run.sh'), 'up', dir, String(process.pid)], { encoding: 'utf8', env, stdio: ['ignore', 'inherit', 'pipe'] });
  if (up.status !== 0) throw new Error(`the real node did not start:\n${up.stderr}`);
  const kubeconfig = path.join(dir, 'kubeconfig');
  const run = (args: string[], opts: RunOptions = {}) => spawnSync('bash', [path.join(HERE, 'run.sh'), 'exec', dir, ...args], {
    cwd: opts.cwd, env: { ...process.env, KUBECONFIG: kubeconfig, ...opts.env }, input: opts.input,
    encoding: 'utf8', timeout: opts.timeout ?? 120_000, maxBuffer: 64 * 1024 * 1024,
  });
  const kubectl = (args: string[], input?: string) => {
    const r = run(['kubectl', ...args], { input });
    if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed:\n${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  return {
    dir, kubeconfig, storage, run, kubectl,
    startupSeconds: Number(fs.readFileSync(path.join(dir, 'startup-seconds'), 'utf8')),
    stop: () => { spawnSync('bash', [path.join(HERE, 'run.sh'), 'down', dir], { stdio: 'ignore' }); },
  };
}

/** What a node run left on the machine (run.sh check): empty when nothing. */
export function realNodeLeftovers(): string {
  const r = spawnSync('bash', [path.join(HERE, 'run.sh'), 'check'], { encoding: 'utf8' });
  return r.status === 0 ? '' : r.stderr;
}
