import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { Readable } from 'stream';
import { which } from './requirements';

const WEB = path.join(__dirname, '..', 'web');

/** The pod's ports: nginx listens on 8080 and reaches php-fpm on 127.0.0.1:9000. */
export const NGINX_PORT = 8080;
export const FPM_PORT = 9000;

function fpmBinary(): string | undefined {
  return which('php-fpm') ?? ['8.4', '8.3', '8.2', '8.1'].map((v) => `/usr/sbin/php-fpm${v}`).find((p) => fs.existsSync(p));
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer().once('error', () => resolve(false)).listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * nginx + php-fpm as in the pod needs: root (to build a private mount namespace with
 * unshare), nginx, php-fpm, setpriv. Ports 8080 and 9000 must be free: the config under
 * test listens exactly where the pod's nginx does.
 */
export async function webStackAvailable(): Promise<{ ok: boolean; reason: string }> {
  const missing = ['nginx', 'unshare', 'setpriv'].filter((c) => !which(c));
  if (!fpmBinary()) missing.push('php-fpm');
  if (missing.length) return { ok: false, reason: `missing ${missing.join(', ')} (apt-get install nginx-light php-fpm util-linux)` };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'needs root to give nginx and php-fpm a private /var/www/html and /tmp (unshare --mount)' };
  for (const port of [NGINX_PORT, FPM_PORT]) {
    if (!(await portFree(port))) return { ok: false, reason: `port ${port} is in use on this machine` };
  }
  return { ok: true, reason: '' };
}

export interface WebStack {
  readonly baseUrl: string;
  log(): string;
  stop(): Promise<void>;
}

export interface PhpLimits {
  /** upload_max_filesize and post_max_size, as the image derives them from PHP_UPLOAD_LIMIT. */
  readonly uploadLimit: string;
  readonly memoryLimit: string;
}

/** Starts nginx with `nginxConf` and php-fpm over the stand-in web root; resolves when both answer. */
export async function startWebStack(nginxConf: string, php: PhpLimits, webroot = path.join(WEB, 'standin')): Promise<WebStack> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-web-'));
  fs.chmodSync(dir, 0o755);
  fs.cpSync(webroot, path.join(dir, 'webroot'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'nginx.conf'), nginxConf);
  fs.writeFileSync(path.join(dir, 'php-fpm.conf'), [
    '[global]', 'error_log = /proc/self/fd/2', 'daemonize = no', 'pid = /tmp/php-fpm.pid',
    '[www]', 'user = www-data', 'group = www-data', `listen = 127.0.0.1:${FPM_PORT}`,
    'pm = static', 'pm.max_children = 4', 'catch_workers_output = yes', 'clear_env = no',
    `php_admin_value[upload_max_filesize] = ${php.uploadLimit}`, `php_admin_value[post_max_size] = ${php.uploadLimit}`,
    `php_admin_value[memory_limit] = ${php.memoryLimit}`, 'php_admin_value[max_execution_time] = 600', '',
  ].join('\n'));
  const logFile = path.join(dir, 'stack.log');
  const out = fs.openSync(logFile, 'w');
  // stderr to a file: nginx logs to /dev/stderr, which cannot be opened on Node's pipe sockets.
  const child: ChildProcess = spawn('unshare', ['--mount', '--propagation', 'private', 'bash', path.join(WEB, 'serve.sh'), dir],
    { stdio: ['ignore', out, out], detached: true });
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
  const baseUrl = `http://127.0.0.1:${NGINX_PORT}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    const res = await request(`${baseUrl}/status.php`).catch(() => undefined);
    if (res?.status === 200) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`nginx/php-fpm did not start:\n${log()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { baseUrl, log, stop };
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
}

/** One HTTP request, no redirects followed, whole body collected. */
export function request(url: string, opts: RequestOptions = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
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
