import { createHash } from 'crypto';
import { ImageRef, parseImageRef } from '../lib/updates/image-lock';

/**
 * Asks image registries what a tag points to now. Docker Hub's rules shape it: anonymous HEAD
 * requests for a manifest do not count against the pull limit (a GET does), a 401 names the
 * token service to ask for an anonymous token, and 429 means the limit is reached.
 */

/** What went wrong, as the family should hear it. */
export type RegistryProblem = 'unreachable' | 'denied' | 'rate-limited' | 'not-found' | 'bad-answer';

export class RegistryError extends Error {
  constructor(readonly problem: RegistryProblem, message: string) {
    super(message);
    this.name = 'RegistryError';
  }
}

/** Media types asked for: a multi-arch index first, so the pinned digest serves every PC. */
export const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];

export interface RegistryOptions {
  /**
   * Base URL per registry host, e.g. { 'docker.io': 'http://127.0.0.1:5000' } for a mirror or a
   * test registry. @default docker.io → https://registry-1.docker.io, others https://<host>
   */
  readonly endpoints?: Record<string, string>;
  /** Per request. @default 10000 */
  readonly timeoutMs?: number;
  /** @default global fetch */
  readonly fetch?: typeof fetch;
}

export interface RemoteImage {
  readonly digest: string;
  readonly mediaType?: string;
}

type Fetch = typeof fetch;

function baseUrl(ref: ImageRef, o: RegistryOptions): string {
  const mapped = o.endpoints?.[ref.registry];
  if (mapped) return mapped.replace(/\/+$/, '');
  return ref.registry === 'docker.io' ? 'https://registry-1.docker.io' : `https://${ref.registry}`;
}

/** `Bearer realm="…",service="…",scope="…"` → its parameters. Pure. */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const m = /^\s*(\w+)\s*(.*)$/.exec(header) ?? ['', '', ''];
  const params: Record<string, string> = {};
  for (const p of m[2].matchAll(/(\w+)="([^"]*)"/g)) params[p[1].toLowerCase()] = p[2];
  return { scheme: m[1].toLowerCase(), params };
}

/** One client per run: anonymous tokens are reused for every request to the same repository. */
export class Registry {
  private readonly tokens = new Map<string, Promise<string>>();
  private readonly granted = new Map<string, string>();
  private readonly fetch: Fetch;
  private readonly timeoutMs: number;
  /** Requests made (for the benchmark and the tests). */
  public requests = 0;

  constructor(private readonly options: RegistryOptions = {}) {
    this.fetch = options.fetch ?? fetch;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** The digest the tag of `reference` points to now (HEAD: no pull counted). */
  async digestOf(reference: string): Promise<RemoteImage> {
    const ref = parseImageRef(reference);
    if (!ref.tag) throw new RegistryError('bad-answer', `${reference} has no tag to look up`);
    const res = await this.call(ref, `/manifests/${encodeURIComponent(ref.tag)}`, 'HEAD', reference);
    let digest = res.headers.get('docker-content-digest') ?? undefined;
    const mediaType = res.headers.get('content-type')?.split(';')[0].trim();
    if (!digest) {
      // Registries need not send the header; then the digest is the hash of the manifest's bytes.
      const body = await this.call(ref, `/manifests/${encodeURIComponent(ref.tag)}`, 'GET', reference);
      digest = `sha256:${createHash('sha256').update(Buffer.from(await body.arrayBuffer())).digest('hex')}`;
    }
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new RegistryError('bad-answer', `${registryName(ref)} answered ${reference} with an unusable digest "${digest}"`);
    return { digest, mediaType };
  }

  /**
   * What the image says its version is: the OCI version label, else a *_VERSION variable of the
   * official images (NEXTCLOUD_VERSION, PG_VERSION…). Costs manifest GETs, so asked only for
   * images that changed. Undefined when the image does not say or the registry will not tell.
   */
  async versionOf(reference: string, arch = dockerArch(process.arch)): Promise<string | undefined> {
    const ref = parseImageRef(reference);
    const target = ref.digest ?? ref.tag!;
    try {
      let manifest = await (await this.call(ref, `/manifests/${target}`, 'GET', reference)).json() as Manifest;
      if (manifest.manifests) {
        const pick = manifest.manifests.find((m) => m.platform?.os === 'linux' && m.platform?.architecture === arch)
          ?? manifest.manifests.find((m) => m.platform?.os === 'linux');
        if (!pick) return undefined;
        manifest = await (await this.call(ref, `/manifests/${pick.digest}`, 'GET', reference)).json() as Manifest;
      }
      if (!manifest.config?.digest) return undefined;
      const config = await (await this.call(ref, `/blobs/${manifest.config.digest}`, 'GET', reference)).json() as ImageConfig;
      return versionInConfig(config);
    } catch {
      return undefined;
    }
  }

  private async call(ref: ImageRef, suffix: string, method: 'HEAD' | 'GET', reference: string): Promise<Response> {
    const url = `${baseUrl(ref, this.options)}/v2/${ref.repository}${suffix}`;
    // A token won for this repository before is sent at once: one challenge per repository per run.
    const repoKey = `${ref.registry}/${ref.repository}`;
    let token = this.granted.get(repoKey);
    for (let attempt = 0; attempt < 2; attempt++) {
      const res = await this.send(url, method, token, reference, ref);
      if (res.status === 401 && attempt === 0) {
        const challenge = parseChallenge(res.headers.get('www-authenticate') ?? '');
        if (challenge.scheme !== 'bearer' || !challenge.params.realm) {
          throw new RegistryError('denied', `${registryName(ref)} wants a login to read ${reference}; homecloud only uses public images anonymously`);
        }
        token = await this.token(challenge.params, ref);
        this.granted.set(repoKey, token);
        continue;
      }
      if (res.ok) return res;
      throw answerError(res, ref, reference);
    }
    throw new RegistryError('denied', `${registryName(ref)} refused an anonymous token for ${reference}`);
  }

  private async send(url: string, method: string, token: string | undefined, reference: string, ref: ImageRef): Promise<Response> {
    this.requests++;
    try {
      return await this.fetch(url, {
        method,
        headers: { Accept: MANIFEST_TYPES.join(', '), ...(token ? { Authorization: `Bearer ${token}` } : {}) },
        redirect: 'follow',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
      throw new RegistryError('unreachable', `${registryName(ref)} could not be reached for ${reference} (${cause})`);
    }
  }

  private token(params: Record<string, string>, ref: ImageRef): Promise<string> {
    const scope = params.scope ?? `repository:${ref.repository}:pull`;
    const key = `${params.realm} ${params.service ?? ''} ${scope}`;
    let t = this.tokens.get(key);
    if (!t) {
      t = (async () => {
        const u = new URL(params.realm);
        if (params.service) u.searchParams.set('service', params.service);
        u.searchParams.set('scope', scope);
        const res = await this.send(u.toString(), 'GET', undefined, ref.repository, ref);
        if (!res.ok) throw answerError(res, ref, `a token for ${ref.repository}`);
        const body = await res.json() as { token?: string; access_token?: string };
        const token = body.token ?? body.access_token;
        if (!token) throw new RegistryError('bad-answer', `${registryName(ref)}'s token service sent no token`);
        return token;
      })();
      this.tokens.set(key, t);
      t.catch(() => this.tokens.delete(key));
    }
    return t;
  }
}

interface Manifest {
  manifests?: { digest: string; platform?: { os?: string; architecture?: string } }[];
  config?: { digest: string };
}

interface ImageConfig {
  config?: { Labels?: Record<string, string> | null; Env?: string[] | null };
}

/** The version an image's config declares. Pure. */
export function versionInConfig(config: ImageConfig): string | undefined {
  const label = config.config?.Labels?.['org.opencontainers.image.version'];
  if (label) return label;
  for (const e of config.config?.Env ?? []) {
    const m = /^(NEXTCLOUD|PG|NGINX|VALKEY|RESTIC)_VERSION=(.+)$/.exec(e);
    if (m) return m[2];
  }
  return undefined;
}

function dockerArch(nodeArch: string): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm' } as Record<string, string>)[nodeArch] ?? nodeArch;
}

function registryName(ref: ImageRef): string {
  return ref.registry === 'docker.io' ? 'Docker Hub' : ref.registry;
}

function answerError(res: Response, ref: ImageRef, what: string): RegistryError {
  const who = registryName(ref);
  if (res.status === 429) {
    const after = res.headers.get('retry-after');
    return new RegistryError('rate-limited', `${who} says too many requests were made from this connection${after ? ` (try again in ${after} s)` : ''}; try again later`);
  }
  if (res.status === 404) return new RegistryError('not-found', `${who} has no ${what}`);
  if (res.status === 401 || res.status === 403) return new RegistryError('denied', `${who} refused to show ${what} (HTTP ${res.status})`);
  if (res.status >= 500) return new RegistryError('unreachable', `${who} is having trouble (HTTP ${res.status}) answering for ${what}`);
  return new RegistryError('bad-answer', `${who} answered HTTP ${res.status} for ${what}`);
}
