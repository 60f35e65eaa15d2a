import { ChildProcess, spawn } from 'child_process';
import { createHash, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { which } from './requirements';

/**
 * A real OCI registry for the tests: Debian's `docker-registry` (the CNCF Distribution
 * registry, as Docker Hub runs), on a free loopback port it picks itself (it logs the port).
 * Images are pushed with the registry's own HTTP API, as crane or docker push would.
 */
export function registryAvailable(): { ok: boolean; reason: string } {
  return { ok: which('docker-registry') !== undefined, reason: 'missing docker-registry (apt-get install docker-registry)' };
}

export interface TestRegistry {
  /** e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly dir: string;
  stop(): Promise<void>;
}

/** Starts a registry; with `auth`, every anonymous request gets 401 (an htpasswd login it cannot give). */
export async function startRegistry(opts: { auth?: boolean; dir?: string } = {}): Promise<TestRegistry> {
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'hc-registry-'));
  const config = [
    'version: 0.1',
    'log: {level: info, formatter: text}',
    `storage: {filesystem: {rootdirectory: ${JSON.stringify(path.join(dir, 'data'))}}, delete: {enabled: true}}`,
    `http: {addr: "127.0.0.1:0", secret: ${randomBytes(8).toString('hex')}}`,
    // A missing htpasswd file is made with a random user: nobody anonymous gets in.
    ...(opts.auth ? [`auth: {htpasswd: {realm: test, path: ${JSON.stringify(path.join(dir, 'htpasswd'))}}}`] : []),
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'config.yml'), config);
  // Its log goes to a file, not a pipe: the tests and benchmarks block in spawnSync for seconds,
  // and a pipe nobody drains meanwhile fills up (64 KiB of request lines) and stalls the
  // registry in the middle of an answer (seen as a client's TimeoutError).
  const logFile = path.join(dir, 'registry.log');
  const out = fs.openSync(logFile, 'a');
  const child = spawn('docker-registry', ['serve', path.join(dir, 'config.yml')], { stdio: ['ignore', out, out] });
  fs.closeSync(out);
  const url = await new Promise<string>((resolve, reject) => {
    const started = Date.now();
    const onExit = (code: number | null) => reject(new Error(`docker-registry exited (${code}):\n${fs.readFileSync(logFile, 'utf8')}`));
    child.on('exit', onExit);
    const look = () => {
      const log = fs.readFileSync(logFile, 'utf8');
      const m = /listening on (127\.0\.0\.1:\d+)/.exec(log);
      if (m) {
        child.off('exit', onExit);
        resolve(`http://${m[1]}`);
      } else if (Date.now() - started > 15_000) reject(new Error(`docker-registry did not start:\n${log}`));
      else setTimeout(look, 50);
    };
    look();
  });
  return { url, dir, stop: () => stopChild(child) };
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.on('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function putBlob(url: string, repo: string, body: Buffer): Promise<string> {
  const digest = sha(body);
  const start = await fetch(`${url}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  if (start.status !== 202) throw new Error(`blob upload refused: HTTP ${start.status} ${await start.text()}`);
  const location = new URL(start.headers.get('location')!, url);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, { method: 'PUT', body, headers: { 'Content-Type': 'application/octet-stream' } });
  if (put.status !== 201) throw new Error(`blob upload failed: HTTP ${put.status} ${await put.text()}`);
  return digest;
}

async function putManifest(url: string, repo: string, reference: string, mediaType: string, body: Buffer): Promise<string> {
  const r = await fetch(`${url}/v2/${repo}/manifests/${reference}`, { method: 'PUT', body, headers: { 'Content-Type': mediaType } });
  if (r.status !== 201) throw new Error(`manifest ${repo}:${reference} refused: HTTP ${r.status} ${await r.text()}`);
  return sha(body);
}

/** Deletes the configuration blob of `repo:tag` (a single-platform image): a manifest that points at nothing. */
export async function dropConfigBlob(url: string, repo: string, tag: string): Promise<void> {
  const m = await fetch(`${url}/v2/${repo}/manifests/${tag}`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
  const config = (await m.json() as { config: { digest: string } }).config.digest;
  const r = await fetch(`${url}/v2/${repo}/blobs/${config}`, { method: 'DELETE' });
  if (r.status !== 202) throw new Error(`blob delete refused: HTTP ${r.status} ${await r.text()}`);
}

export interface PushOptions {
  /** The image's environment (NEXTCLOUD_VERSION=…) and labels, as its config holds them. */
  readonly env?: string[];
  readonly labels?: Record<string, string>;
  /** A multi-arch index over these architectures (pushes each, then the index under the tag). */
  readonly architectures?: string[];
  /** Makes the content (and so the digest) differ between pushes of the same tag. */
  readonly build?: string;
}

/** Pushes a small image under `repo:tag`; returns the digest the tag now points to. */
export async function pushImage(url: string, repo: string, tag: string, o: PushOptions = {}): Promise<string> {
  const one = async (arch: string) => {
    const config = Buffer.from(JSON.stringify({
      architecture: arch, os: 'linux', config: { Env: o.env ?? [], Labels: o.labels ?? null },
      rootfs: { type: 'layers', diff_ids: [] }, history: [{ created_by: `homecloud test ${o.build ?? ''}` }],
    }));
    const layer = Buffer.from(`${repo}:${tag} ${arch} ${o.build ?? ''}`);
    const configDigest = await putBlob(url, repo, config);
    const layerDigest = await putBlob(url, repo, layer);
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length }],
    }));
    return { manifest, arch };
  };
  if (!o.architectures) {
    const { manifest } = await one('amd64');
    return putManifest(url, repo, tag, 'application/vnd.oci.image.manifest.v1+json', manifest);
  }
  const entries = [];
  for (const arch of o.architectures) {
    const { manifest } = await one(arch);
    const digest = await putManifest(url, repo, sha(manifest), 'application/vnd.oci.image.manifest.v1+json', manifest);
    entries.push({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size: manifest.length, platform: { os: 'linux', architecture: arch } });
  }
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: entries }));
  return putManifest(url, repo, tag, 'application/vnd.oci.image.index.v1+json', index);
}

/** A Docker-Hub-like gate in front of a registry (see registry-gate.js), in its own process. */
export interface Gate {
  readonly url: string;
  /** "METHOD /path?query" of every request it was sent. */
  seen(): { method: string; path: string }[];
  stop(): Promise<void>;
}

export type GateMode = 'token' | 'rate-limited' | 'html' | 'not-manifest' | 'wrong-digest' | 'server-error' | 'hang' | 'truncated';

export async function startGate(upstream: string, mode: GateMode = 'token'): Promise<Gate> {
  const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'hc-gate-')), 'requests.log');
  fs.writeFileSync(log, '');
  const child = spawn(process.execPath, [path.join(__dirname, 'registry-gate.js'), upstream, mode, log], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`registry-gate.js exited (${code})`)));
  });
  return {
    url,
    seen: () => fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => {
      const [method, p] = l.split(' ');
      return { method, path: p };
    }),
    stop: () => stopChild(child),
  };
}
