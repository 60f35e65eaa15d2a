import { ChildProcess, SpawnSyncReturns, execFileSync, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as os from 'os';
import * as path from 'path';
import { Readable } from 'stream';
import { parseAllDocuments } from 'yaml';
import { scriptPath } from '../../lib/config/container-scripts';
import { HomeCa } from '../../lib/https/home-ca';
import { HomecloudSettings } from '../../lib/config/settings';
import { forHostNginx } from './nginx-host';
import { MANIFEST_FILE, synth } from '../../lib/stack/synth';
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
  const missing = ['nginx', 'unshare', 'setpriv', 'ip', 'nsenter', 'php', 'busybox'].filter((c) => !which(c));
  if (!fpmBinary()) missing.push('php-fpm');
  if (missing.length) return { ok: false, reason: `missing ${missing.join(', ')} (apt-get install nginx-light php-fpm php-cli busybox util-linux iproute2)` };
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

/** What HTTPS needs from the synthesized stack: the CA, the welcome folder and the certificate's names. */
export interface Site {
  readonly ca: HomeCa;
  readonly welcome: Record<string, string>;
  /** The issuing container's environment (HOMECLOUD_TLS_DNS, HOMECLOUD_TLS_IP, VALID_DAYS, …). */
  readonly issuerEnv: Record<string, string>;
}

/** Synthesizes as `npm run synth` does and reads nginx.conf, the PHP pool and PHP's limits back from the output. */
export function synthesizedWeb(settings: HomecloudSettings = {}): PhpLimits & { conf: string; pool: string; site: Site } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-web-synth-'));
  if (synth(settings, HOST, { outdir: dir, credentials: path.join(dir, 'c.json') }, () => undefined) !== 0) throw new Error('synth failed');
  const objects: K8sObject[] = parseAllDocuments(fs.readFileSync(path.join(dir, MANIFEST_FILE), 'utf8')).map((d) => d.toJSON());
  const configMap = (name: string) => objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name).data;
  const fpm = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'nextcloud').spec.template.spec.containers
    .find((c: K8sObject) => c.name === 'nextcloud');
  const env = (n: string) => fpm.env.find((e: K8sObject) => e.name === n).value as string;
  const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === 'homecloud-ca').data;
  const issuer = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'nextcloud').spec.template.spec.initContainers
    .find((c: K8sObject) => c.name === 'certificate');
  const site: Site = {
    ca: { certPem: Buffer.from(secret['ca.crt'], 'base64').toString(), keyPem: Buffer.from(secret['ca.key'], 'base64').toString() },
    welcome: configMap('nextcloud-welcome'),
    issuerEnv: Object.fromEntries(issuer.env.map((e: K8sObject) => [e.name, e.value])),
  };
  return {
    site,
    conf: configMap('nextcloud-web')['nginx.conf'],
    pool: configMap('nextcloud-php')['zz-homecloud-pool.conf'],
    uploadLimit: env('PHP_UPLOAD_LIMIT'),
    memoryLimit: env('PHP_MEMORY_LIMIT'),
  };
}

export interface WebStack {
  /** The URL nginx answers on inside the stack's network (for programs run with `inside`): HTTPS when the config has it. */
  readonly baseUrl: string;
  /** Plain HTTP's URL inside the stack's network. */
  readonly httpUrl: string;
  /** A Unix socket that reaches nginx's first (plain HTTP) port (for clients in this process). */
  readonly socketPath: string;
  /** How a client in this process reaches the family's address: HTTPS, trusting only the home CA, when the config has it. */
  readonly endpoint: Endpoint;
  /** One request to nginx, from this process, through the stack's socket: over HTTPS when the config has it. */
  request(path: string, opts?: RequestOptions): Promise<Response>;
  /** One plain-HTTP request. */
  requestHttp(path: string, opts?: RequestOptions): Promise<Response>;
  /** The folder mounted at /run/homecloud in the stack (tls/, welcome/). */
  readonly runDir: string;
  /** Runs a program inside the stack's network namespace (wrk, curl), as a client in the pod's network would. */
  inside(command: string, args: string[]): SpawnSyncReturns<string>;
  /** Starts a program in the stack's network namespace without waiting (another container of the pod); stopped with the stack. */
  startInside(command: string, args: string[]): ChildProcess;
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

/** Where a client connects: a Unix socket to one of nginx's ports, and the CA to trust when it is HTTPS. */
export interface Endpoint {
  readonly socketPath: string;
  readonly ca?: string;
}

export interface StackOptions {
  /** The synthesized CA and welcome folder; required when the config serves HTTPS. */
  readonly site?: Site;
  /** Addresses put on the stack's loopback, so clients can connect by the PC's LAN addresses. */
  readonly addresses?: string[];
  /** nginx-run.sh's CHECK_SECONDS (how soon a renewed certificate is loaded). */
  readonly checkSeconds?: number;
  readonly webroot?: string;
  /** Pin the stack to these CPUs (taskset -c), e.g. so a benchmark's client has a core of its own. */
  readonly cpus?: string;
}

/**
 * Issues the server certificate the way the pod's init container does: the real
 * issue-certificate.php with the synthesized environment, into `tlsDir`.
 */
export function issueCertificate(site: Site, caDir: string, tlsDir: string, extraEnv: Record<string, string> = {}): SpawnSyncReturns<string> {
  fs.mkdirSync(caDir, { recursive: true });
  fs.mkdirSync(tlsDir, { recursive: true });
  fs.writeFileSync(path.join(caDir, 'ca.crt'), site.ca.certPem);
  fs.writeFileSync(path.join(caDir, 'ca.key'), site.ca.keyPem, { mode: 0o600 });
  return spawnSync('php', ['-n', scriptPath('https/issue-certificate.php')], {
    env: { PATH: process.env.PATH, ...site.issuerEnv, CA_DIR: caDir, TLS_DIR: tlsDir, ...extraEnv }, encoding: 'utf8',
  });
}

/** Starts nginx with `nginxConf` and php-fpm over the stand-in web root; resolves when both answer. */
export async function startWebStack(nginxConf: string, php: PhpLimits, opts: StackOptions = {}): Promise<WebStack> {
  const ports = [...nginxConf.matchAll(/^\s*listen\s+(\d+)/gm)].map((m) => Number(m[1]));
  const port = ports[0];
  if (!port) throw new Error('the nginx.conf under test has no `listen PORT`');
  const httpsPort = Number(/^\s*listen\s+(\d+) ssl/m.exec(nginxConf)?.[1]) || undefined;
  if (httpsPort && !opts.site) throw new Error('the nginx.conf under test serves HTTPS: pass the synthesized site (synthesizedWeb().site)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-web-'));
  fs.chmodSync(dir, 0o755);
  fs.cpSync(opts.webroot ?? path.join(WEB, 'standin'), path.join(dir, 'webroot'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'nginx.conf'), forHostNginx(nginxConf));
  const runDir = path.join(dir, 'run-homecloud');
  if (opts.site) {
    fs.mkdirSync(path.join(runDir, 'welcome'), { recursive: true });
    for (const [name, text] of Object.entries(opts.site.welcome)) fs.writeFileSync(path.join(runDir, 'welcome', name), text);
    const issued = issueCertificate(opts.site, path.join(dir, 'ca'), path.join(runDir, 'tls'));
    if (issued.status !== 0) throw new Error(`issue-certificate.php failed: ${issued.stderr}`);
  }
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
  const command = ['unshare', '--mount', '--net', '--propagation', 'private', 'bash', path.join(WEB, 'serve.sh'), dir, ...ports.map(String)];
  if (opts.cpus) command.unshift('taskset', '-c', opts.cpus);
  // Not the test run's TMPDIR: serve.sh hides the host's /tmp under an empty one, as the pod's
  // emptyDir, and PHP would buffer request bodies in a folder that is no longer there.
  const { TMPDIR: _hostTmp, ...hostEnv } = process.env;
  const child: ChildProcess = spawn(command[0], command.slice(1), {
    stdio: ['ignore', out, out],
    detached: true,
    env: {
      ...hostEnv,
      NODE: process.execPath,
      HC_ADDRESSES: (opts.addresses ?? []).join(' '),
      ...(httpsPort ? { HC_NGINX_RUN: scriptPath('nextcloud/nginx-run.sh'), HC_CHECK_SECONDS: String(opts.checkSeconds ?? 60) } : {}),
    },
  });
  fs.closeSync(out);
  const log = () => fs.readFileSync(logFile, 'utf8');
  // The whole process group: the script, php-fpm and its workers, nginx and its workers.
  const started: ChildProcess[] = [];
  const stop = async () => {
    for (const p of started) p.kill('SIGKILL');
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
  const endpoint: Endpoint = httpsPort ? { socketPath: path.join(dir, `port-${httpsPort}.sock`), ca: opts.site!.ca.certPem } : { socketPath };
  const stack: WebStack = {
    baseUrl: httpsPort ? `https://127.0.0.1:${httpsPort}` : `http://127.0.0.1:${port}`,
    httpUrl: `http://127.0.0.1:${port}`,
    socketPath,
    endpoint,
    runDir,
    request: (p, o = {}) => request(`${endpoint.ca ? 'https' : 'http'}://localhost${p}`, { ...o, socketPath: endpoint.socketPath, ca: endpoint.ca }),
    requestHttp: (p, o = {}) => request(`http://localhost${p}`, { ...o, socketPath }),
    inside: (command, args) => spawnSync('nsenter', [`--net=/proc/${child.pid}/ns/net`, command, ...args], { encoding: 'utf8', timeout: 300_000 }),
    startInside: (command, args) => {
      const p = spawn('nsenter', [`--net=/proc/${child.pid}/ns/net`, command, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      started.push(p);
      return p;
    },
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
  /** For https URLs: the only CA to trust. */
  readonly ca?: string;
}

/** One HTTP(S) request, no redirects followed, whole body collected. */
export function request(url: string, opts: RequestOptions = {}): Promise<Response> {
  const mod = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(url, { method: opts.method ?? 'GET', headers: opts.headers, agent: false, socketPath: opts.socketPath, ca: opts.ca }, (res) => {
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
