import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as os from 'os';
import * as path from 'path';
import { parse as parseYaml } from 'yaml';
import { UserFacingError } from '../lib/config/errors';

/**
 * The client's one door to Kubernetes: @kubernetes/client-node reads the kubeconfig and
 * its credentials; requests go over Node's own https with them, so every call is one plain
 * request we can count and time. Everything else in client/ is pure and tested without it.
 */
export interface Kube {
  readonly context: string;
  readonly server: string;
  /** API requests made so far (the status report keeps this small). */
  readonly requests: number;
  request<T = unknown>(method: string, path: string, body?: unknown, contentType?: string): Promise<ApiResponse<T>>;
  get<T = unknown>(path: string): Promise<T | undefined>;
  list<T = unknown>(path: string): Promise<T[]>;
}

export interface ApiResponse<T> {
  readonly status: number;
  readonly body: T;
}

/** The context homecloud is made for. Any other must be named explicitly with --context. */
export const DOCKER_DESKTOP = 'docker-desktop';

/** An error from the API server: names the object and, where the server says, the field. */
export class ApiError extends UserFacingError {
  constructor(public readonly status: number, what: string, body: { message?: string; details?: { causes?: Array<{ field?: string; message?: string }> } } | undefined) {
    const causes = body?.details?.causes?.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message)).join('; ');
    super(`Kubernetes refused ${what}: ${causes || body?.message || `HTTP ${status}`}`);
  }
}

/** The cluster cannot be reached at all: Docker Desktop stopped, Kubernetes disabled. */
export class UnreachableError extends UserFacingError {}

interface Target {
  readonly context: string;
  readonly contexts: string[];
  readonly server?: string;
  readonly options: https.RequestOptions;
}

/**
 * Docker Desktop's kubeconfig authenticates with client certificates. For that (and plain
 * tokens) client-node's kubeconfig types are enough, and skipping its full KubeConfig spares
 * every command about 0.3 s of loading the generated API. Anything else (exec plugins, auth
 * providers, proxies, several files) goes through the full KubeConfig.
 */
function quickTarget(files: string[], wanted?: string): Target | undefined {
  if (files.length !== 1) return undefined;
  /* eslint-disable @typescript-eslint/no-require-imports */
  const types = require('@kubernetes/client-node/dist/config_types.js') as typeof import('@kubernetes/client-node/dist/config_types.js');
  /* eslint-enable @typescript-eslint/no-require-imports */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const doc = parseYaml(fs.readFileSync(files[0], 'utf8')) as any;
  if (!doc || typeof doc !== 'object') return undefined;
  const contexts = types.newContexts(doc.contexts, { onInvalidEntry: 'filter' });
  const context = wanted ?? doc['current-context'];
  const ctx = contexts.find((c) => c.name === context);
  if (!ctx) return { context, contexts: contexts.map((c) => c.name), options: {} };
  const cluster = types.newClusters(doc.clusters, { onInvalidEntry: 'filter' }).find((c) => c.name === ctx.cluster);
  const user = types.newUsers(doc.users, { onInvalidEntry: 'filter' }).find((u) => u.name === ctx.user);
  if (!cluster || !user || cluster.proxyUrl || user.exec || user.authProvider || user.username || user.impersonateUser) return undefined;
  const read = (data?: string, file?: string) => (data ? Buffer.from(data, 'base64') : file ? fs.readFileSync(file) : undefined);
  return {
    context,
    contexts: contexts.map((c) => c.name),
    server: cluster.server,
    options: {
      ca: read(cluster.caData, cluster.caFile),
      cert: read(user.certData, user.certFile),
      key: read(user.keyData, user.keyFile),
      rejectUnauthorized: !cluster.skipTLSVerify,
      servername: cluster.tlsServerName,
      headers: user.token ? { Authorization: `Bearer ${user.token}` } : undefined,
    },
  };
}

async function fullTarget(wanted?: string): Promise<Target> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { KubeConfig } = require('@kubernetes/client-node/dist/config.js') as typeof import('@kubernetes/client-node');
  const kc = new KubeConfig();
  try {
    kc.loadFromDefault();
  } catch (e) {
    throw new UnreachableError(`Could not read your Kubernetes settings (${(e as Error).message}). Is Docker Desktop installed with Kubernetes enabled?`);
  }
  const contexts = kc.getContexts().map((c) => c.name);
  const context = wanted ?? kc.getCurrentContext();
  if (!contexts.includes(context)) return { context, contexts, options: {} };
  kc.setCurrentContext(context);
  const options: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(options);
  return { context, contexts, server: kc.getCurrentCluster()?.server, options };
}

/** The context to act on, read from the kubeconfig files; refuses anything but Docker Desktop unless named. */
async function chooseTarget(wanted?: string): Promise<Target & { context: string; server: string }> {
  const files = (process.env.KUBECONFIG ?? path.join(os.homedir(), '.kube', 'config')).split(path.delimiter).filter((f) => f && fs.existsSync(f));
  if (files.length === 0) {
    throw new UnreachableError('No Kubernetes cluster is configured on this PC. In Docker Desktop open Settings → Kubernetes, '
      + 'tick "Enable Kubernetes", apply, and wait until its indicator is green.');
  }
  let target: Target;
  try {
    target = quickTarget(files, wanted) ?? await fullTarget(wanted);
  } catch (e) {
    if (e instanceof UnreachableError) throw e;
    throw new UnreachableError(`Could not read your Kubernetes settings in ${files.join(', ')}: ${(e as Error).message}`);
  }
  const context = target.context;
  if (!context || !target.contexts.includes(context)) {
    throw new UnreachableError(wanted
      ? `There is no Kubernetes context named "${wanted}". Known contexts: ${target.contexts.join(', ') || 'none'}.`
      : 'No Kubernetes cluster is selected. In Docker Desktop open Settings → Kubernetes, tick "Enable Kubernetes" and apply.');
  }
  if (!wanted && context !== DOCKER_DESKTOP) {
    throw new UnreachableError(`kubectl points at the Kubernetes context "${context}", not Docker Desktop's ("${DOCKER_DESKTOP}"). `
      + `homecloud acts only on Docker Desktop unless you name another context: add --context ${context} if you really mean it, `
      + `or switch with: kubectl config use-context ${DOCKER_DESKTOP}`);
  }
  if (!target.server) throw new UnreachableError(`The Kubernetes context "${context}" names no cluster.`);
  return { ...target, context, server: target.server };
}

/** One API request over a kept-alive connection; JSON in and out (logs come back as text). */
function requester(target: { server: string; options: https.RequestOptions }, timeout: number, count: () => void) {
  const server = new URL(target.server);
  const base = target.options;
  const agent = server.protocol === 'https:' ? new https.Agent({ keepAlive: true, maxSockets: 8 }) : new http.Agent({ keepAlive: true });
  return <T>(method: string, path: string, body?: unknown, contentType = 'application/json') => new Promise<ApiResponse<T>>((resolve, reject) => {
    count();
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const lib = server.protocol === 'https:' ? https : http;
    const req = lib.request({
      ...base,
      agent,
      protocol: server.protocol,
      hostname: server.hostname,
      port: server.port || (server.protocol === 'https:' ? 443 : 80),
      path: `${server.pathname.replace(/\/$/, '')}${path}`,
      method,
      timeout,
      headers: {
        ...(base.headers ?? {}),
        Accept: 'application/json',
        ...(payload ? { 'Content-Type': contentType, 'Content-Length': payload.length } : {}),
      },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try { parsed = text ? JSON.parse(text) : undefined; } catch { /* logs are plain text */ }
        resolve({ status: res.statusCode ?? 0, body: parsed as T });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) => reject(new UnreachableError(
      `Cannot reach Kubernetes at ${server.host} (${e.code ?? e.message}). Is Docker Desktop running, with Kubernetes enabled `
      + '(Settings → Kubernetes) and its indicator green?')));
    req.end(payload);
  });
}

export async function connect(opts: { context?: string; timeoutMs?: number } = {}): Promise<Kube> {
  const target = await chooseTarget(opts.context);
  let requests = 0;
  const request = requester(target, opts.timeoutMs ?? 15000, () => { requests++; });
  return {
    context: target.context,
    server: target.server,
    get requests() { return requests; },
    request,
    async get<T>(path: string) {
      const r = await request<T>('GET', path);
      if (r.status === 404) return undefined;
      if (r.status >= 300) throw new ApiError(r.status, `reading ${path}`, r.body as never);
      return r.body;
    },
    async list<T>(path: string) {
      const r = await request<{ items: T[] }>('GET', path);
      if (r.status === 404) return [];
      if (r.status >= 300) throw new ApiError(r.status, `listing ${path}`, r.body as never);
      return r.body.items ?? [];
    },
  };
}
