import { createHash } from 'crypto';
import { Registry, RegistryError } from '../../client/registry';
import { stillWaiting } from '../../client/updates';

const sha = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

/** A registry answering from a table: path → [status, content type, body, extra headers]. */
function fake(table: Record<string, [number, string, string, Record<string, string>?]>): Registry {
  const fetchImpl = (async (url: string | URL) => {
    const p = new URL(String(url)).pathname;
    const [status, type, body, headers] = table[p] ?? [404, 'application/json', '{}'];
    return new Response(body, { status, headers: { 'content-type': type, ...(headers ?? {}) } });
  }) as typeof fetch;
  return new Registry({ endpoints: { 'docker.io': 'http://registry.test' }, fetch: fetchImpl });
}

describe('the registry client checks every byte it pins', () => {
  const config = JSON.stringify({ config: { Env: ['NGINX_VERSION=1.28.1'] } });
  const manifest = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { digest: sha(config) }, layers: [] });
  const M = 'application/vnd.oci.image.manifest.v1+json';

  it('takes a manifest whose bytes are its digest, and reads the version from its configuration', async () => {
    const r = fake({ [`/v2/library/nginx/manifests/${sha(manifest)}`]: [200, M, manifest], [`/v2/library/nginx/blobs/${sha(config)}`]: [200, 'application/octet-stream', config] });
    await expect(r.inspect('nginx:1.28-alpine', sha(manifest), 'amd64')).resolves.toEqual({ version: '1.28.1' });
  });

  it('refuses a manifest whose bytes are not the digest asked for (a proxy that rewrote it)', async () => {
    const other = manifest.replace('"layers":[]', '"layers":[ ]');
    const r = fake({ [`/v2/library/nginx/manifests/${sha(manifest)}`]: [200, M, other] });
    const e = await r.inspect('nginx:1.28-alpine', sha(manifest), 'amd64').catch((x) => x);
    expect(e).toBeInstanceOf(RegistryError);
    expect(e.message).toMatch(/sent a manifest for nginx:1\.28-alpine whose digest \(sha256:[0-9a-f]{64}\) does not match its content/);
  });

  it('refuses a configuration whose bytes are not its digest', async () => {
    const r = fake({ [`/v2/library/nginx/manifests/${sha(manifest)}`]: [200, M, manifest], [`/v2/library/nginx/blobs/${sha(config)}`]: [200, 'application/octet-stream', `${config} `] });
    await expect(r.inspect('nginx:1.28-alpine', sha(manifest), 'amd64')).rejects.toThrow(/configuration for nginx:1\.28-alpine that does not match its content/);
  });

  it('without a digest header, pins the hash of a manifest only, never of a page', async () => {
    const page = fake({ '/v2/library/nginx/manifests/1.28-alpine': [200, 'text/html', '<html>login</html>'] });
    await expect(page.digestOf('nginx:1.28-alpine')).rejects.toThrow(/with a web page \(text\/html\)/);
    const good = fake({ '/v2/library/nginx/manifests/1.28-alpine': [200, M, manifest] });
    await expect(good.digestOf('nginx:1.28-alpine')).resolves.toMatchObject({ digest: sha(manifest) });
  });
});

describe('what status says is waiting', () => {
  const D = (c: string) => `sha256:${c.repeat(64)}`;
  const record = { checkedAt: '2026-12-01T10:00:00Z', waiting: [{ tag: 'valkey/valkey:8-alpine', version: '8.1.9', digest: D('a') }, { tag: 'nginx:1.28-alpine', digest: D('b') }] };

  it('leaves out what the lock already pins (update pinned it since the check), and keeps the rest', () => {
    const lock = { lockfileVersion: 1 as const, images: { cache: { tag: 'valkey/valkey:8-alpine', digest: D('a'), pinnedAt: '2026-12-01T10:05:00Z' } } };
    expect(stillWaiting(record, lock)?.waiting).toEqual([{ tag: 'nginx:1.28-alpine', digest: D('b') }]);
    expect(stillWaiting(record, undefined)?.waiting).toHaveLength(2);
    expect(stillWaiting(undefined, lock)).toBeUndefined();
  });
});
