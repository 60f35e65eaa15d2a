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

  /**
   * The digest the tag of `reference` points to now (HEAD: no pull counted). Only what says it is
   * a manifest counts: a captive portal's page answers 200 too. Before a new digest is pinned,
   * `inspect` proves it.
   */
  async digestOf(reference: string): Promise<RemoteImage> {
    const ref = parseImageRef(reference);
    if (!ref.tag) throw new RegistryError('bad-answer', `${reference} has no tag to look up`);
    const res = await this.call(ref, `/manifests/${encodeURIComponent(ref.tag)}`, 'HEAD', reference);
    const mediaType = mediaTypeOf(res);
    if (mediaType && !MANIFEST_TYPES.includes(mediaType)) throw notAManifest(ref, reference, mediaType);
    let digest = res.headers.get('docker-content-digest') ?? undefined;
    // Registries need not send the header; then the digest is the hash of the manifest's bytes.
    if (!digest) digest = (await this.manifest(ref, reference, ref.tag)).digest;
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new RegistryError('bad-answer', `${registryName(ref)} answered ${reference} with an unusable digest "${digest}"`);
    return { digest, mediaType };
  }

  /**
   * Proves that `digest` is an image this cluster can run before it is pinned: the manifest (or
   * index) by that digest is one, and its bytes hash to it; an index has a build for linux/`arch`
   * (the node's architecture; no other is taken instead), which is itself a manifest that hashes to
   * its digest; and that build's configuration is there. Two manifest GETs (counted as pulls on
   * Docker Hub), so only for digests that are new. Returns the version the image declares.
   */
  async inspect(reference: string, digest: string, arch: string): Promise<{ version?: string }> {
    const ref = parseImageRef(reference);
    const who = registryName(ref);
    let image: { digest: string; body: Manifest };
    try {
      image = await this.manifest(ref, reference, digest, digest);
    } catch (e) {
      if (!(e instanceof RegistryError) || e.problem !== 'not-found') throw e;
      throw new RegistryError('bad-answer', `${who} named ${digest.slice(0, 19)}… for ${reference} but serves no manifest by that digest`);
    }
    if (image.body.manifests) {
      const builds = image.body.manifests.filter((m) => m.platform?.os);
      const pick = builds.find((m) => m.platform?.os === 'linux' && m.platform?.architecture === arch);
      if (!pick) {
        const has = builds.map((m) => `${m.platform!.os}/${m.platform!.architecture}`).join(', ') || 'none';
        throw new RegistryError('bad-answer', `${who} has no build of ${reference} for this cluster (linux/${arch}); it has ${has}`);
      }
      image = await this.manifest(ref, reference, pick.digest, pick.digest);
      if (image.body.manifests) throw new RegistryError('bad-answer', `${who}'s build of ${reference} for linux/${arch} is not an image manifest`);
    }
    const configDigest = image.body.config!.digest;
    let res: Response;
    try {
      res = await this.call(ref, `/blobs/${configDigest}`, 'GET', reference);
    } catch (e) {
      if (e instanceof RegistryError && e.problem === 'not-found') {
        throw new RegistryError('bad-answer', `${who}'s ${reference} (linux/${arch}) names a configuration that is missing there: the image cannot be pulled`);
      }
      throw e;
    }
    const bytes = await this.body(res, ref, reference);
    if (sha256(bytes) !== configDigest) throw new RegistryError('bad-answer', `${who} sent a configuration for ${reference} that does not match its content`);
    try {
      return { version: versionInConfig(JSON.parse(bytes.toString('utf8')) as ImageConfig) };
    } catch {
      throw new RegistryError('bad-answer', `${who} sent a configuration for ${reference} that is not JSON`);
    }
  }

  /** The digest a tag points to now, proven (see inspect), and the version it declares: what a new pin needs. */
  async resolve(reference: string, arch: string): Promise<{ digest: string; version?: string }> {
    const { digest } = await this.digestOf(reference);
    return { digest, ...(await this.inspect(reference, digest, arch)) };
  }

  /** One manifest or index, checked: its media type, its shape, and its bytes against `expect` and the digest header. */
  private async manifest(ref: ImageRef, reference: string, target: string, expect?: string): Promise<{ digest: string; body: Manifest }> {
    const who = registryName(ref);
    const res = await this.call(ref, `/manifests/${target.startsWith('sha256:') ? target : encodeURIComponent(target)}`, 'GET', reference);
    const mediaType = mediaTypeOf(res) ?? 'no content type';
    if (!MANIFEST_TYPES.includes(mediaType)) throw notAManifest(ref, reference, mediaType);
    const bytes = await this.body(res, ref, reference);
    const digest = sha256(bytes);
    const named = res.headers.get('docker-content-digest');
    if ((expect && digest !== expect) || (named && named !== digest)) {
      throw new RegistryError('bad-answer', `${who} sent a manifest for ${reference} whose digest (${expect ?? named}) does not match its content (${digest})`);
    }
    let body: Manifest;
    try {
      body = JSON.parse(bytes.toString('utf8')) as Manifest;
    } catch {
      throw new RegistryError('bad-answer', `${who} answered ${reference} with ${mediaType} that is not JSON, so it is not an image manifest`);
    }
    const index = mediaType.includes('index') || mediaType.includes('list');
    const shaped = index ? Array.isArray(body.manifests) && body.manifests.every((m) => /^sha256:[0-9a-f]{64}$/.test(m.digest))
      : /^sha256:[0-9a-f]{64}$/.test(body.config?.digest ?? '') && Array.isArray(body.layers);
    if (!shaped) throw new RegistryError('bad-answer', `${who} answered ${reference} with JSON that is not an image manifest (no ${index ? 'manifests list' : 'config and layers'})`);
    return { digest, body };
  }

  /** The whole body, or a clear error when the connection ends early. */
  private async body(res: Response, ref: ImageRef, reference: string): Promise<Buffer> {
    try {
      return Buffer.from(await res.arrayBuffer());
    } catch (e) {
      const name = (e as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError') throw new RegistryError('unreachable', `${registryName(ref)} could not be reached for ${reference} (TimeoutError)`);
      throw new RegistryError('bad-answer', `${registryName(ref)}'s answer for ${reference} was cut off before its end (${(e as Error).message})`);
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
      // The other side closed the connection in the middle of its answer.
      if (cause === 'UND_ERR_SOCKET') throw new RegistryError('bad-answer', `${registryName(ref)}'s answer for ${reference} was cut off before its end (the connection closed)`);
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
  layers?: unknown[];
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function mediaTypeOf(res: Response): string | undefined {
  return res.headers.get('content-type')?.split(';')[0].trim().toLowerCase() || undefined;
}

function notAManifest(ref: ImageRef, reference: string, mediaType: string): RegistryError {
  const page = mediaType === 'text/html' ? 'a web page (text/html), not an image manifest: a Wi-Fi login page or a proxy in the way? Open any web site in a browser first'
    : `${mediaType}, not an image manifest`;
  return new RegistryError('bad-answer', `${registryName(ref)} answered ${reference} with ${page}`);
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

/** Node.js's name of a CPU architecture → the one images use ("x64" → "amd64"). */
export function dockerArch(nodeArch: string): string {
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
