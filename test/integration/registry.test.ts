import { Registry, RegistryError } from '../../client/registry';
import { ImageCheck, askRegistry, checksFor, planUpdate } from '../../client/updates';
import { pinImages } from '../../lib/updates/image-lock';
import { DEFAULT_IMAGES } from '../../lib/config/settings';
import { describeWhen } from '../support/requirements';
import { Gate, GateMode, TestRegistry, dropConfigBlob, pushImage, registryAvailable, startGate, startRegistry } from '../support/registry';

// The registry client against a real Distribution registry (what Docker Hub runs), pushed to
// through its own API; a gate in front of it plays Docker Hub's anonymous-token dance and its 429.
describeWhen(registryAvailable(), 'asking a real image registry what a tag points to', () => {
  let registry: TestRegistry;
  let gate: Gate;
  let limited: Gate;
  const client = (base: string, timeoutMs = 5000) => new Registry({ endpoints: { 'docker.io': base }, timeoutMs });
  const failure = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      if (e instanceof RegistryError) return e;
      throw e;
    }
    throw new Error('expected a RegistryError');
  };

  beforeAll(async () => {
    registry = await startRegistry();
    gate = await startGate(registry.url);
    limited = await startGate(registry.url, 'rate-limited');
  }, 30_000);
  afterAll(async () => {
    await gate?.stop();
    await limited?.stop();
    await registry?.stop();
  });

  it('finds the digest of a tag, and the new one after the tag moves', async () => {
    const first = await pushImage(registry.url, 'library/valkey-test', '8-alpine', { build: '1' });
    expect((await client(registry.url).digestOf('valkey-test:8-alpine')).digest).toBe(first);
    const second = await pushImage(registry.url, 'library/valkey-test', '8-alpine', { build: '2' });
    expect(second).not.toBe(first);
    expect((await client(registry.url).digestOf('valkey-test:8-alpine')).digest).toBe(second);
  });

  it('pins a multi-arch tag by the digest of its index, so every PC pulls its own architecture', async () => {
    const index = await pushImage(registry.url, 'library/postgres-test', '18-alpine', { architectures: ['amd64', 'arm64'], env: ['PG_VERSION=18.1'] });
    const r = client(registry.url);
    const remote = await r.digestOf('postgres-test:18-alpine');
    expect(remote).toEqual({ digest: index, mediaType: 'application/vnd.oci.image.index.v1+json' });
    expect((await r.inspect('postgres-test:18-alpine', index, 'arm64')).version).toBe('18.1');
  });

  it('reads the version from the OCI label before the environment', async () => {
    const digest = await pushImage(registry.url, 'library/nginx-test', '1.28-alpine', { env: ['NGINX_VERSION=1.28.0'], labels: { 'org.opencontainers.image.version': '1.28.1' } });
    expect((await client(registry.url).inspect('nginx-test:1.28-alpine', digest, 'amd64')).version).toBe('1.28.1');
  });

  it('follows the anonymous Bearer token flow (as Docker Hub asks) and reuses the token', async () => {
    const digest = await pushImage(registry.url, 'library/token-test', '1.0', { build: 'token' });
    const r = client(gate.url);
    const before = gate.seen().length;
    expect((await r.digestOf('token-test:1.0')).digest).toBe(digest);
    expect((await r.digestOf('token-test:1.0')).digest).toBe(digest);
    const calls = gate.seen().slice(before).map((s) => `${s.method} ${s.path.replace(/\?.*/, '')}`);
    // One challenge, one token, then authorised HEADs only: no GET of a manifest (a counted pull).
    expect(calls).toEqual(['HEAD /v2/library/token-test/manifests/1.0', 'GET /token', 'HEAD /v2/library/token-test/manifests/1.0', 'HEAD /v2/library/token-test/manifests/1.0']);
  });

  it('says "not found" for a tag the registry does not have', async () => {
    const e = await failure(client(registry.url).digestOf('nextcloud:99-fpm-alpine'));
    expect(e.problem).toBe('not-found');
    expect(e.message).toMatch(/Docker Hub has no nextcloud:99-fpm-alpine/);
  });

  it('says "too many requests" on 429, with when to try again', async () => {
    const e = await failure(client(limited.url).digestOf('token-test:1.0'));
    expect(e.problem).toBe('rate-limited');
    expect(e.message).toMatch(/too many requests.*try again in 3600 s/);
  });

  it('says "wants a login" when the registry asks for credentials (401 Basic)', async () => {
    const locked = await startRegistry({ auth: true });
    try {
      const e = await failure(client(locked.url).digestOf('nextcloud:34-fpm-alpine'));
      expect(e.problem).toBe('denied');
      expect(e.message).toMatch(/wants a login/);
    } finally {
      await locked.stop();
    }
  });

  it('says "could not be reached" when the registry is down or the PC offline', async () => {
    const down = await startRegistry();
    const url = down.url;
    await down.stop();
    const e = await failure(client(url).digestOf('nextcloud:34-fpm-alpine'));
    expect(e.problem).toBe('unreachable');
    expect(e.message).toMatch(/could not be reached.*ECONNREFUSED/);
  });

  /**
   * What a captive portal, a broken proxy or a damaged registry answers is never pinned: each
   * answer below, for a tag whose pinned build is older, leaves the image unchanged and says why.
   */
  describe('an answer that is not what it claims is never pinned', () => {
    const OLD = `sha256:${'0'.repeat(64)}`;
    const check = (tag: string): ImageCheck => ({ key: 'nginx', tag, digest: OLD, fixed: false });
    const ask = async (base: string, tag: string, arch = 'amd64', timeoutMs = 5000) => planUpdate(await askRegistry(client(base, timeoutMs), [check(tag)], arch));
    const refused = async (mode: GateMode, tag: string, why: RegExp, timeoutMs = 5000) => {
      const g = await startGate(registry.url, mode);
      try {
        const plan = await ask(g.url, tag, 'amd64', timeoutMs);
        expect(plan.changes).toEqual([]);
        expect(plan.failed.map((f) => f.error?.message)).toEqual([expect.stringMatching(why)]);
      } finally {
        await g.stop();
      }
    };
    beforeAll(async () => {
      await pushImage(registry.url, 'library/answer-test', '1.0', { build: 'answer', architectures: ['amd64', 'arm64'] });
    });

    it('a good answer is pinned: the index, its amd64 build and that build\'s configuration all resolve', async () => {
      const plan = await ask(registry.url, 'answer-test:1.0');
      expect(plan.failed).toEqual([]);
      expect(plan.changes.map((c) => c.to)).toEqual([expect.stringMatching(/^sha256:[0-9a-f]{64}$/)]);
    });
    it('200 text/html (a hotel Wi-Fi login page)', () => refused('html', 'answer-test:1.0', /answered answer-test:1\.0 with a web page \(text\/html\), not an image manifest/));
    it('JSON of a manifest\'s media type that is no manifest', () => refused('not-manifest', 'answer-test:1.0', /is not an image manifest/));
    // (The digest it names is then asked for, and is not there.)
    it('a digest header that does not match the content', () => refused('wrong-digest', 'answer-test:1.0', /named sha256:[0-9a-f]{12}… for answer-test:1\.0 but serves no manifest by that digest/));
    it('500', () => refused('server-error', 'answer-test:1.0', /is having trouble \(HTTP 500\)/));
    it('no answer at all', () => refused('hang', 'answer-test:1.0', /could not be reached .*\(TimeoutError\)/, 1500));
    it('a body cut off halfway', () => refused('truncated', 'answer-test:1.0', /was cut off/));
    it('an index without a build for the cluster\'s architecture (amd64), though it has arm64', async () => {
      await pushImage(registry.url, 'library/arm-only', '1.0', { build: 'arm', architectures: ['arm64'] });
      const plan = await ask(registry.url, 'arm-only:1.0');
      expect(plan.changes).toEqual([]);
      expect(plan.failed[0].error?.message).toMatch(/has no build of arm-only:1\.0 for this cluster \(linux\/amd64\); it has linux\/arm64/);
    });
    it('a manifest whose configuration blob is missing', async () => {
      await pushImage(registry.url, 'library/no-config', '1.0', { build: 'no-config' });
      await dropConfigBlob(registry.url, 'library/no-config', '1.0');
      const plan = await ask(registry.url, 'no-config:1.0');
      expect(plan.changes).toEqual([]);
      expect(plan.failed[0].error?.message).toMatch(/no-config:1\.0.*configuration.*missing/);
    });
  });

  it('asks for every image at once and sorts changes, unchanged and failures', async () => {
    const repos = { nextcloud: 'nextcloud:34-fpm-alpine', postgres: 'postgres:18-alpine', cache: 'valkey/valkey:8-alpine', nginx: 'nginx:1.28-alpine' };
    const digests: Record<string, string> = {};
    for (const [k, ref] of Object.entries(repos)) {
      const [name, tag] = ref.split(':');
      digests[k] = await pushImage(registry.url, name.includes('/') ? name : `library/${name}`, tag, { build: `sort-${k}` });
    }
    const lock = { lockfileVersion: 1 as const, images: {
      nextcloud: { tag: repos.nextcloud, digest: digests.nextcloud, pinnedAt: '2026-11-01T00:00:00Z' },
      postgres: { tag: repos.postgres, digest: `sha256:${'0'.repeat(64)}`, pinnedAt: '2026-11-01T00:00:00Z' },
    } };
    const { outcomes } = pinImages(DEFAULT_IMAGES, lock);
    const plan = planUpdate(await askRegistry(client(registry.url), checksFor(DEFAULT_IMAGES, outcomes), 'amd64'));
    expect(plan.unchanged.map((a) => a.key)).toEqual(['nextcloud']);
    expect(plan.changes.map((a) => [a.key, a.to])).toEqual([['postgres', digests.postgres], ['cache', digests.cache], ['nginx', digests.nginx]]);
    // restic/restic:0.18.1 and ubuntu/squid were never pushed here.
    expect(plan.failed.map((a) => [a.key, a.error?.problem])).toEqual([['backupStore', 'not-found'], ['egress', 'not-found']]);
  });
});
