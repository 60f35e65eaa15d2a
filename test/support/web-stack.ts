import { ChildProcess, SpawnSyncReturns, execFileSync, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { Readable } from 'stream';
import { parseAllDocuments } from 'yaml';
import { HomecloudSettings } from '../../lib/settings';
import { MANIFEST_FILE, synth } from '../../lib/synth';
import { which } from './requirements';
import { HOST, K8sObject } from './stack';

const WEB = path.join(__dirname, '..', 'web');

/** php-fpm's address in the pod (and in the stack's private network here). */
export const FPM_PORT = 9000;

function fpmBinary(): string | undefined {
  return which('php-fpm') ?? ['8.4', '8.3', '8.2', '8.1'].map((v) => `/usr/sbin/php-fpm${v}`).find((p) => fs.existsSync(p));
}

/**
 * nginx + php-fpm as in the pod needs: root (to build a private mount and network namespace
 * with unshare), nginx, php-fpm, setpriv, ip. No port of this machine is used: the stack
 * listens in its own network namespace, as a pod does, and tests reach it through a socket.
 */
export async function webStackAvailable(): Promise<{ ok: boolean; reason: string }> {
  const missing = ['nginx', 'unshare', 'setpriv', 'ip', 'nsenter'].filter((c) => !which(c));
  if (!fpmBinary()) missing.push('php-fpm');
  if (missing.length) return { ok: false, reason: `missing ${missing.join(', ')} (apt-get install nginx-light php-fpm util-linux iproute2)` };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'needs root to give nginx and php-fpm a private /var/www/html, /tmp and network (unshare --mount --net)' };
  return { ok: true, reason: '' };
}

/**
 * webStackAvailable() for Jest, which collects tests synchronously before any hook runs:
 * asked in a child process.
 */
export function webTierAvailable(): { ok: boolean; reason: string } {
  const out = execFileSync(process.execPath, ['-e', `
    require(${JSON.stringify(path.join(__dirname, '..', '..', 'scripts', 'ts-register.js'))});
    require(${JSON.stringify(path.join(__dirname, 'web-stack.ts'))}).webStackAvailable().then((r) => console.log(JSON.stringify(r)));
  `], { encoding: 'utf8' });
  return JSON.parse(out);
}

/** Synthesizes as `npm run synth` does and reads nginx.conf, the PHP pool and PHP's limits back from the output. */
export function synthesizedWeb(settings: HomecloudSettings = {}): PhpLimits & { conf: string; pool: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-web-synth-'));
  if (synth(settings, HOST, { outdir: dir, credentials: path.join(dir, 'c.json') }, () => undefined) !== 0) throw new Error('synth failed');
  const objects: K8sObject[] = parseAllDocuments(fs.readFileSync(path.join(dir, MANIFEST_FILE), 'utf8')).map((d) => d.toJSON());
  const configMap = (name: string) => objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name).data;
  const fpm = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'nextcloud').spec.template.spec.containers
    .find((c: K8sObject) => c.name === 'nextcloud');
  const env = (n: string) => fpm.env.find((e: K8sObject) => e.name === n).value as string;
  return {
    conf: configMap('nextcloud-web')['nginx.conf'],
    pool: configMap('nextcloud-php')['zz-homecloud-pool.conf'],
    uploadLimit: env('PHP_UPLOAD_LIMIT'),
    memoryLimit: env('PHP_MEMORY_LIMIT'),
  };
}

export interface WebStack {
  /** The URL nginx answers on inside the stack's network (for programs run with `inside`). */
  readonly baseUrl: string;
  /** A Unix socket that reaches nginx's port (for clients in this process). */
  readonly socketPath: string;
  /** One HTTP request to nginx, from this process, through the stack's socket. */
  request(path: string, opts?: RequestOptions): Promise<Response>;
  /** Runs a program inside the stack's network namespace (wrk, curl), as a client in the pod's network would. */
  inside(command: string, args: string[]): SpawnSyncReturns<string>;
  /** php-fpm's processes (master and workers) as seen from here. */
  fpmPids(): number[];
  log(): string;
  stop(): Promise<void>;
}

export interface PhpLimits {
  /** upload_max_filesize and post_max_size, as the image derives them from PHP_UPLOAD_LIMIT. */
  readonly uploadLimit: string;
  readonly memoryLimit: string;
  /** A pool file as the pod mounts it (zz-homecloud-pool.conf); without it, a fixed test pool. */
  readonly pool?: string;
}

/** Starts nginx with `nginxConf` and php-fpm over the stand-in web root; resolves when both answer. */
export async function startWebStack(nginxConf: string, php: PhpLimits, webroot = path.join(WEB, 'standin')): Promise<WebStack> {
  const port = Number(/^\s*listen\s+(\d+)/m.exec(nginxConf)?.[1]);
  if (!port) throw new Error('the nginx.conf under test has no `listen PORT`');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-web-'));
  fs.chmodSync(dir, 0o755);
  fs.cpSync(webroot, path.join(dir, 'webroot'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'nginx.conf'), nginxConf);
  fs.mkdirSync(path.join(dir, 'pool.d'));
  // The pod's pool file is loaded after the image's www.conf, so its settings win; here too.
  fs.writeFileSync(path.join(dir, 'pool.d', 'zz-pool.conf'), php.pool ?? '[www]\npm = static\npm.max_children = 4\n');
  fs.writeFileSync(path.join(dir, 'php-fpm.conf'), [
    '[global]', 'error_log = /proc/self/fd/2', 'daemonize = no', 'pid = /tmp/php-fpm.pid',
    '[www]', 'user = www-data', 'group = www-data', `listen = 127.0.0.1:${FPM_PORT}`,
    'pm = dynamic', 'pm.max_children = 5', 'pm.start_servers = 2', 'pm.min_spare_servers = 1', 'pm.max_spare_servers = 3',
    'catch_workers_output = yes', 'clear_env = no',
    `php_admin_value[upload_max_filesize] = ${php.uploadLimit}`, `php_admin_value[post_max_size] = ${php.uploadLimit}`,
    `php_admin_value[memory_limit] = ${php.memoryLimit}`, 'php_admin_value[max_execution_time] = 600',
    'include = /run/homecloud-test/pool.d/*.conf', '',
  ].join('\n'));
  const logFile = path.join(dir, 'stack.log');
  const out = fs.openSync(logFile, 'w');
  // stderr to a file: nginx logs to /dev/stderr, which cannot be opened on Node's pipe sockets.
  const child: ChildProcess = spawn('unshare', ['--mount', '--net', '--propagation', 'private', 'bash', path.join(WEB, 'serve.sh'), dir, String(port)],
    { stdio: ['ignore', out, out], detached: true, env: { ...process.env, NODE: process.execPath } });
  fs.closeSync(out);
  const log = () => fs.readFileSync(logFile, 'utf8');
  // The whole process group: the script, php-fpm and its workers, nginx and its workers.
  const stop = async () => {
    try { process.kill(-child.pid!, 'SIGTERM'); } catch { /* already gone */ }
    if (child.exitCode === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 3000);
        child.once('exit', () => { clearTimeout(timer); resolve(); });
      });
    }
    try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ }
  };
  const socketPath = path.join(dir, 'http.sock');
  const stack: WebStack = {
    baseUrl: `http://127.0.0.1:${port}`,
    socketPath,
    request: (p, opts = {}) => request(`http://localhost${p}`, { ...opts, socketPath }),
    inside: (command, args) => spawnSync('nsenter', [`--net=/proc/${child.pid}/ns/net`, command, ...args], { encoding: 'utf8', timeout: 300_000 }),
    fpmPids: () => fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number).filter((pid) => {
      try {
        return /^php-fpm/.test(fs.readFileSync(`/proc/${pid}/comm`, 'utf8')) && fs.readlinkSync(`/proc/${pid}/ns/net`) === fs.readlinkSync(`/proc/${child.pid}/ns/net`);
      } catch { return false; }
    }),
    log,
    stop,
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    const res = await stack.request('/status.php').catch(() => undefined);
    if (res?.status === 200) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`nginx/php-fpm did not start:\n${log()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return stack;
}

export interface Response {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  json<T = Record<string, unknown>>(): T;
}

export interface RequestOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  /** A Buffer is sent with Content-Length; a stream is sent chunked. */
  readonly body?: Buffer | Readable;
  /** Connect through this Unix socket instead of the URL's host and port. */
  readonly socketPath?: string;
}

/** One HTTP request, no redirects followed, whole body collected. */
export function request(url: string, opts: RequestOptions = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? 'GET', headers: opts.headers, agent: false, socketPath: opts.socketPath }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        // A refused upload leaves our side of the request unfinished: close it.
        req.destroy();
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode!, headers: res.headers, body, json: () => JSON.parse(body.toString('utf8')) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (opts.body instanceof Readable) opts.body.pipe(req);
    else req.end(opts.body);
  });
}
