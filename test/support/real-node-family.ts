import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { DEFAULT_IMAGES } from '../../lib/config/settings';
import { ImageLock, LOCK_FILE, parseImageRef } from '../../lib/updates/image-lock';
import { copyOfProject } from './project-copy';
import { RealNode } from './real-node';

const ROOT = path.join(__dirname, '..', '..');
const NS = ['-n', 'homecloud'];
export const MINUTES = 60_000;

export interface Result { code: number | null; out: string; err: string; all: string }

/**
 * A family's homecloud on a real node: a copy of the project whose main.ts says where the copy
 * outside the cluster goes (a folder standing in for D:\homecloud-backups), the client run as
 * the README says, and what the tests read back: every table's digest, every file's sha256.
 */
export class FamilyCloud {
  readonly app: string;
  readonly pcFolder: string;
  private adminName = '';

  constructor(readonly node: RealNode) {
    this.app = copyOfProject();
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(this.app, 'node_modules'));
    // D:\homecloud-backups: Docker Desktop's share of the PC's drives lets every user of the VM write.
    this.pcFolder = path.join(node.dir, 'pc', 'homecloud-backups');
    fs.mkdirSync(this.pcFolder, { recursive: true, mode: 0o777 });
    fs.chmodSync(this.pcFolder, 0o777);
    // The family's settings, edited in main.ts as the README says.
    const main = path.join(this.app, 'main.ts');
    const clusterType = node.storage === 'hostpath' ? 'kubeadm' : 'kind';
    fs.writeFileSync(main, fs.readFileSync(main, 'utf8').replace('export const settings: HomecloudSettings = {',
      `export const settings: HomecloudSettings = {\n  backup: { offsite: { folder: ${JSON.stringify(this.pcFolder)}, clusterType: ${JSON.stringify(clusterType)} } },`));
  }

  /**
   * images.lock.json as `npm run update` would write it if a registry served the stand-in images:
   * every image pinned to the digest the node holds it under (DIR/image-digests, node.sh).
   */
  pinImagesByDigest(): ImageLock {
    const held = new Map(fs.readFileSync(path.join(this.node.dir, 'image-digests'), 'utf8').trim().split('\n')
      .map((l) => l.split(' ') as [string, string]));
    const full = (ref: string) => { const r = parseImageRef(ref); return `${r.registry}/${r.repository}:${r.tag}`; };
    const images = Object.fromEntries(Object.entries(DEFAULT_IMAGES).map(([key, tag]) => {
      const digest = held.get(full(tag));
      if (!digest) throw new Error(`the node holds no image ${full(tag)} (images.${key})`);
      return [key, { tag, digest, pinnedAt: new Date().toISOString() }];
    }));
    const lock: ImageLock = { lockfileVersion: 1, images };
    fs.writeFileSync(path.join(this.app, LOCK_FILE), `${JSON.stringify(lock, null, 2)}\n`);
    return lock;
  }

  remove(): void { fs.rmSync(this.app, { recursive: true, force: true }); }

  private clientArgs(args: string[]): string[] {
    return [process.execPath, path.join(this.app, 'bin', 'homecloud.js'), ...args, '--context', 'homecloud-test'];
  }

  /** `npm run <command>` as the family runs it. */
  homecloud(args: string[], timeout = 15 * MINUTES): Result {
    const r = this.node.run(this.clientArgs(args), { cwd: this.app, timeout });
    return { code: r.status, out: r.stdout, err: r.stderr, all: `${r.stdout}${r.stderr}` };
  }

  /** The same, without waiting: for a fault that must land while it runs. */
  homecloudInBackground(args: string[]): { child: ChildProcess; done: Promise<Result> } {
    return this.background(this.clientArgs(args), this.app);
  }

  /** Any command inside the node's namespaces, without waiting. */
  background(args: string[], cwd = this.app): { child: ChildProcess; done: Promise<Result> } {
    const child = spawn('bash', [path.join(__dirname, '..', 'realnode', 'run.sh'), 'exec', this.node.dir, ...args],
      { cwd, env: { ...process.env, KUBECONFIG: this.node.kubeconfig }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => { out += d; });
    child.stderr!.on('data', (d) => { err += d; });
    const done = new Promise<Result>((resolve) => child.on('close', (code) => resolve({ code, out, err, all: `${out}${err}` })));
    return { child, done };
  }

  exec(target: string, container: string, cmd: string[], input?: string | Buffer): string {
    const r = this.node.run(['kubectl', 'exec', ...NS, ...(input === undefined ? [] : ['-i']), target, '-c', container, '--', ...cmd], { input });
    if (r.status !== 0) throw new Error(`exec ${cmd.join(' ')} in ${target}/${container} failed:\n${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  psql(sql: string): string {
    return this.exec('deploy/database', 'postgres', ['psql', '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-U', 'nextcloud', '-d', 'nextcloud', '-c', sql]);
  }

  /** Every table's row count and content digest (Nextcloud's own "last background job" row aside: cron.php rewrites it every 5 minutes). */
  tableDigests(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const t of this.psql("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1").split('\n').filter(Boolean)) {
      const skip = t === 'oc_appconfig' ? "WHERE NOT (appid = 'core' AND configkey = 'lastcron')" : '';
      out[t] = this.psql(`SELECT count(*) || ' ' || coalesce(md5(string_agg(h, '' ORDER BY h)), '-') FROM (SELECT md5(x::text) AS h FROM "${t}" x ${skip}) d`).trim();
    }
    return out;
  }

  /** sha256 of every file in Nextcloud's data folder, by path. */
  fileSums(): string {
    return this.exec('deploy/nextcloud', 'cron', ['sh', '-c', 'cd /var/www/html/data && find . -type f -exec sha256sum {} + | sort -k 2']);
  }

  /** The admin account the install made (its files are at data/<admin>/files). */
  admin(): string {
    if (!this.adminName) {
      this.adminName = this.exec('deploy/nextcloud', 'cron', ['sh', '-c', 'cd /var/www/html/data && for d in */files; do echo "${d%/files}"; done']).trim().split('\n')[0];
      if (!/^[A-Za-z0-9._-]+$/.test(this.adminName)) throw new Error(`unexpected admin account name: ${this.adminName}`);
    }
    return this.adminName;
  }

  writeFamilyFile(rel: string, content: Buffer): void {
    this.exec('deploy/nextcloud', 'cron', ['sh', '-c', 'mkdir -p "$(dirname "$1")" && cat > "$1"', 'write', `/var/www/html/data/${this.admin()}/files/${rel}`], content);
  }

  /** Until every Deployment is available and Nextcloud's pod answers (restore starts it and returns). */
  ready(): void {
    for (const d of ['database', 'cache', 'nextcloud']) this.node.kubectl(['rollout', 'status', ...NS, `deployment/${d}`, '--timeout=600s']);
    this.node.kubectl(['wait', ...NS, '--for=condition=Ready', 'pod', '-l', 'app.kubernetes.io/component=web', '--timeout=600s']);
  }

  /** Each running pod's containers' restart counts, by component and container ("web/nextcloud", "database/postgres"). */
  restarts(): Record<string, number> {
    const pods = JSON.parse(this.node.kubectl(['get', 'pods', ...NS, '-o', 'json'])).items as Array<{
      metadata: { name: string; labels?: Record<string, string> };
      status: { phase: string; containerStatuses?: Array<{ name: string; restartCount: number }> };
    }>;
    const out: Record<string, number> = {};
    for (const p of pods.filter((x) => x.status.phase === 'Running')) {
      const app = p.metadata.labels?.['app.kubernetes.io/component'] ?? p.metadata.name;
      for (const c of p.status.containerStatuses ?? []) out[`${app}/${c.name}`] = c.restartCount;
    }
    return out;
  }
}

/** Polls `check` once a second until it returns something truthy, or throws after `seconds`. */
export async function until<T>(what: string, seconds: number, check: () => T | undefined | false | ''): Promise<T> {
  for (let i = 0; i < seconds; i++) {
    const v = check();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`${what}: not within ${seconds}s`);
}
