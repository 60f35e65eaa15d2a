import { spawn } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { parseAllDocuments, parseDocument } from 'yaml';
import { UserFacingError } from '../lib/config/errors';
import { nodeRoom, roomiest } from './capacity';
import { KINDS, collectionPath, describe, kindInfo, objectPath } from './kinds';
import { ApiError, Kube } from './kube';
import { parseManifest } from './manifest';
import { PRUNABLE_KINDS, applyOrder, ownedBy, pruneCandidates, selector } from './plan';
import { ClusterState, HostInfo, Report, backupTimeLimitWords, buildReport, stoppedAtLimit } from './status';
import { upgradeProblems } from './upgrade-guard';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;

/** Where commands write: results to `out` (stdout), progress and messages to `err` (stderr). */
/** Exit codes: documented in --help and the README. */
export const EXIT = { OK: 0, UNHEALTHY: 1, COULD_NOT_RUN: 2 } as const;

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Asks a yes/no style question on an interactive terminal; undefined when there is none. */
  ask?(question: string): Promise<string>;
  now(): Date;
  sleep(ms: number): Promise<void>;
}

export const FIELD_MANAGER = 'homecloud';

/** Elapsed time as "1m05s". */
export function elapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

// ---------------------------------------------------------------- manifests

export interface Manifests {
  readonly file: string;
  readonly objects: Obj[];
  readonly namespace: string;
}

export function readManifests(file: string): Manifests {
  const objects = parseAllDocuments(fs.readFileSync(file, 'utf8')).map((d) => d.toJSON()).filter(Boolean);
  const ns = objects.find((o: Obj) => o.kind === 'Namespace');
  if (!ns) throw new UserFacingError(`${file} has no Namespace: run \`npm run synth\` again.`);
  return { file, objects, namespace: ns.metadata.name };
}

/**
 * The namespace a manifest installs into. synth writes the Namespace first, so only the first
 * document is parsed: status and the other everyday commands need nothing else from dist/.
 */
export function readNamespace(file: string): string {
  const first = parseDocument(fs.readFileSync(file, 'utf8').split(/^---$/m)[0]).toJSON();
  return first?.kind === 'Namespace' ? first.metadata.name : readManifests(file).namespace;
}

/** Whether dist/ is older than anything it is made from (settings, constructs, scripts). */
export function isStale(manifest: string, sources: string[]): boolean {
  if (!fs.existsSync(manifest)) return true;
  const built = fs.statSync(manifest).mtimeMs;
  const newest = (p: string): number => {
    if (!fs.existsSync(p)) return 0;
    const st = fs.statSync(p);
    return st.isDirectory() ? Math.max(st.mtimeMs, ...fs.readdirSync(p).map((f) => newest(path.join(p, f)))) : st.mtimeMs;
  };
  return sources.some((s) => newest(s) > built);
}

// ---------------------------------------------------------------- deploy

export interface ApplyResult {
  readonly object: string;
  readonly action: 'created' | 'configured' | 'repaired' | 'unchanged' | 'pruned' | 'would create' | 'would change' | 'would prune';
}

/** JSON with sorted keys, so two objects compare by content whatever order the server used. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** An object's content without what the server keeps for itself (status, versions, ownership records). */
function comparable(o: Obj): string {
  const { metadata = {}, status: _status, ...rest } = o ?? {};
  const { managedFields: _m, resourceVersion: _r, generation: _g, creationTimestamp: _c, uid: _u, annotations = {}, ...meta } = metadata;
  const { 'deployment.kubernetes.io/revision': _rev, ...keptAnnotations } = annotations;
  return canonical({ ...rest, metadata: { ...meta, annotations: keptAnnotations } });
}

/** Kinds whose spec someone may have edited by hand (kubectl edit/patch/set); see repairDrift. */
const WORKLOADS = ['Deployment', 'CronJob'];

/**
 * Server-side apply repairs the fields homecloud sets, but leaves fields another tool added
 * (a `kubectl set env`, a nodeSelector from `kubectl edit`). For workloads, ask the server
 * what replacing the spec with ours would give (a dry run); if that differs from what is
 * there, replace it for real. Returns whether it did.
 */
async function repairDrift(kube: Kube, desired: Obj, applied: Obj): Promise<boolean> {
  // Without a resourceVersion the replacement is unconditional: the controllers keep writing
  // status meanwhile, and a conditional update would lose that race with a conflict.
  const replacement = { ...applied, spec: desired.spec, metadata: { ...applied.metadata, managedFields: undefined, resourceVersion: undefined } };
  const path = `${objectPath(desired)}?fieldManager=${FIELD_MANAGER}`;
  const dry = await kube.request<Obj>('PUT', `${path}&dryRun=All`, replacement);
  if (dry.status >= 300) throw new ApiError(dry.status, `checking ${describe(desired)} for hand edits`, dry.body);
  if (canonical(dry.body.spec) === canonical(applied.spec)) return false;
  const real = await kube.request<Obj>('PUT', path, replacement);
  if (real.status >= 300) throw new ApiError(real.status, `repairing ${describe(desired)}`, real.body);
  return true;
}

async function liveOwned(kube: Kube, namespace: string): Promise<Obj[]> {
  const labelSelector = encodeURIComponent(selector(ownedBy(namespace)));
  const lists = await Promise.all(PRUNABLE_KINDS.map(async (kind) => (await kube.list<Obj>(`${collectionPath(kind, namespace)}?labelSelector=${labelSelector}`))
    // List items carry no kind or apiVersion; put them back so they compare with ours.
    .map((o) => ({ ...o, kind, apiVersion: KINDS[kind].apiVersion }))));
  return lists.flat();
}

/** Refuses images that cannot safely replace the running ones (see upgrade-guard.ts). */
/** What homecloud finds in the cluster before a deploy: read once, used by the guard and the apply. */
export interface LiveState {
  readonly namespace?: Obj;
  /** Every object carrying homecloud's ownership labels for this instance. */
  readonly owned: Obj[];
}

export async function readLive(kube: Kube, namespace: string): Promise<LiveState> {
  const nsPath = objectPath({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  const [ns, owned] = await Promise.all([kube.get<Obj>(nsPath), liveOwned(kube, namespace)]);
  return { namespace: ns, owned };
}

/** The image a Deployment's container runs (in live objects or in manifests). */
export function containerImage(objects: Obj[], deployment: string, container: string): string | undefined {
  return objects.find((o) => o.kind === 'Deployment' && o.metadata.name === deployment)
    ?.spec.template.spec.containers.find((c: Obj) => c.name === container)?.image;
}

/** Refuses images that cannot safely replace the running ones (see upgrade-guard.ts). */
export function checkUpgrade(m: Manifests, live: LiveState): void {
  const problems = upgradeProblems(
    {
      nextcloudImage: containerImage(live.owned, 'nextcloud', 'nextcloud'),
      postgresImage: containerImage(live.owned, 'database', 'postgres'),
      databaseVolumeExists: live.owned.some((o) => o.kind === 'PersistentVolumeClaim' && o.metadata.name === 'database-data'),
    },
    { nextcloudImage: containerImage(m.objects, 'nextcloud', 'nextcloud')!, postgresImage: containerImage(m.objects, 'database', 'postgres')! },
  );
  if (problems.length) throw new UserFacingError(`Not deploying: ${problems.join('\n')}`);
}

/** Server-side apply of every object in dependency order, then prune; or, with dryRun, what would change. */
export async function applyManifests(kube: Kube, m: Manifests, current: LiveState, opts: { dryRun: boolean }, io: Io): Promise<ApplyResult[]> {
  const ns = m.namespace;
  const liveNs = current.namespace;
  const live = current.owned;
  const liveByName = new Map(live.map((o) => [describe(o), o]));
  if (liveNs) liveByName.set(`Namespace/${ns}`, liveNs);
  const results: ApplyResult[] = [];
  const query = `?fieldManager=${FIELD_MANAGER}&force=true${opts.dryRun ? '&dryRun=All' : ''}`;

  const applyOne = async (o: Obj): Promise<ApplyResult> => {
    const name = describe(o);
    const before = liveByName.get(name);
    // A dry run cannot reach into a namespace that does not exist yet.
    if (opts.dryRun && !liveNs && o.kind !== 'Namespace') return { object: name, action: 'would create' };
    const r = await kube.request<Obj>('PATCH', `${objectPath(o)}${query}`, o, 'application/apply-patch+yaml');
    if (r.status >= 300) throw new ApiError(r.status, `${name}`, r.body);
    if (opts.dryRun) return { object: name, action: !before ? 'would create' : comparable(before) === comparable(r.body) ? 'unchanged' : 'would change' };
    if (before && WORKLOADS.includes(o.kind) && await repairDrift(kube, o, r.body)) return { object: name, action: 'repaired' };
    return { object: name, action: !before ? 'created' : before.metadata.resourceVersion === r.body.metadata.resourceVersion ? 'unchanged' : 'configured' };
  };
  // Objects of one rank do not depend on each other: apply them together, rank by rank.
  const ordered = applyOrder<Obj>(m.objects);
  for (const rank of [...new Set(ordered.map((o) => kindInfo(o.kind).order))]) {
    results.push(...await Promise.all(ordered.filter((o) => kindInfo(o.kind).order === rank).map(applyOne)));
  }

  for (const o of pruneCandidates(live, m.objects, ns)) {
    if (opts.dryRun) {
      results.push({ object: describe(o), action: 'would prune' });
      continue;
    }
    const path = `${collectionPath(o.kind, ns)}/${o.metadata.name}?propagationPolicy=Background`;
    const r = await kube.request<Obj>('DELETE', path);
    if (r.status >= 300 && r.status !== 404) throw new ApiError(r.status, `deleting ${describe(o)}`, r.body);
    results.push({ object: describe(o), action: 'pruned' });
  }
  for (const r of results) io.out(`${r.object} ${r.action}\n`);
  return results;
}

/** Waits until every Deployment is available, printing what it waits on; false on timeout. */
export async function waitReady(kube: Kube, namespace: string, timeoutMs: number, io: Io): Promise<boolean> {
  const start = io.now().getTime();
  let lastLine = '';
  for (;;) {
    const deployments = await kube.list<Obj>(collectionPath('Deployment', namespace));
    const pending = deployments.filter((d) => (d.status?.availableReplicas ?? 0) < (d.spec?.replicas ?? 1)
      || (d.status?.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)
      || (d.status?.updatedReplicas ?? 0) < (d.spec?.replicas ?? 1));
    const spent = io.now().getTime() - start;
    if (deployments.length > 0 && pending.length === 0) {
      io.err(`all parts ready after ${elapsed(spent)}\n`);
      return true;
    }
    const line = `waiting for ${pending.map((d) => d.metadata.name).join(', ') || 'the parts to appear'}`
      + (pending.some((d) => d.metadata.name === 'nextcloud') ? ' (a first install takes 5 to 15 minutes)' : '');
    if (line !== lastLine || spent % 30000 < 2000) io.err(`${line} — ${elapsed(spent)}\n`);
    lastLine = line;
    if (spent >= timeoutMs) {
      io.err(`still not ready after ${elapsed(spent)}; \`npm run status\` explains what each part is doing.\n`);
      return false;
    }
    await io.sleep(2000);
  }
}

// ---------------------------------------------------------------- status

/** Reads everything the report needs in a fixed number of list calls (plus logs of crashing containers). */
export async function readState(kube: Kube, namespace: string, io: Io): Promise<ClusterState> {
  const [namespaceObject, deployments, allPods, pvcs, cronJobs, jobs, services, nodes] = await Promise.all([
    kube.get<Obj>(`/api/v1/namespaces/${namespace}`),
    kube.list<Obj>(collectionPath('Deployment', namespace)),
    // Every namespace's pods: the capacity check counts what other programs reserved.
    kube.list<Obj>('/api/v1/pods'),
    kube.list<Obj>(collectionPath('PersistentVolumeClaim', namespace)),
    kube.list<Obj>(collectionPath('CronJob', namespace)),
    kube.list<Obj>(`/apis/batch/v1/namespaces/${namespace}/jobs`),
    kube.list<Obj>(collectionPath('Service', namespace)),
    kube.list<Obj>('/api/v1/nodes'),
  ]);
  const pods = allPods.filter((p) => p.metadata.namespace === namespace);
  const logs: Record<string, string[]> = {};
  for (const p of pods) {
    for (const c of p.status?.containerStatuses ?? []) {
      if (c.state?.waiting?.reason !== 'CrashLoopBackOff') continue;
      const r = await kube.request<string>('GET', `/api/v1/namespaces/${namespace}/pods/${p.metadata.name}/log?container=${c.name}&previous=true&tailLines=8`);
      logs[`${p.metadata.name}/${c.name}`] = r.status === 200 && typeof r.body === 'string'
        ? r.body.trimEnd().split('\n').slice(-8)
        : [`(its log could not be read: HTTP ${r.status})`];
    }
  }
  const room = roomiest(nodes.map((n) => nodeRoom(n, allPods, namespace)));
  return { now: io.now(), context: kube.context, namespace, namespaceObject, deployments, pods, pvcs, cronJobs, jobs, services, logs, room,
    nodeNames: nodes.map((n) => n.metadata.name) };
}

export async function status(kube: Kube, namespace: string, host: HostInfo, io: Io): Promise<Report> {
  return buildReport(await readState(kube, namespace, io), host);
}

// ---------------------------------------------------------------- jobs from templates

/** A component's pods that are not on their way out, newest first; with `running`, only Running ones. */
export async function podsOf(kube: Kube, namespace: string, component: string, running: boolean): Promise<Obj[]> {
  return (await kube.list<Obj>(`/api/v1/namespaces/${namespace}/pods?labelSelector=${encodeURIComponent(`app.kubernetes.io/component=${component}`)}`))
    .filter((p) => !p.metadata.deletionTimestamp && (!running || p.status?.phase === 'Running'))
    .sort((a, b) => Date.parse(b.metadata.creationTimestamp) - Date.parse(a.metadata.creationTimestamp));
}

/** A Job made from a CronJob's template, as `kubectl create job --from=cronjob/NAME` does. */
export function jobFromCronJob(cron: Obj, name: string, env: Record<string, string> = {}, onlyContainers?: string[]): Obj {
  const spec = JSON.parse(JSON.stringify(cron.spec.jobTemplate.spec));
  const pod = spec.template.spec;
  for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
    if (onlyContainers && !onlyContainers.includes(c.name)) continue;
    for (const [k, v] of Object.entries(env)) c.env = [...(c.env ?? []).filter((e: Obj) => e.name !== k), { name: k, value: v }];
  }
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: cron.metadata.namespace,
      labels: cron.spec.jobTemplate.metadata?.labels ?? cron.metadata.labels,
      annotations: { 'cronjob.kubernetes.io/instantiate': 'manual' },
      // A template read from fresh manifests (not yet in the cluster) has no uid to own the Job.
      ...(cron.metadata.uid ? { ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: cron.metadata.name, uid: cron.metadata.uid, controller: true }] } : {}),
    },
    spec,
  };
}

export interface JobOutcome {
  readonly succeeded: boolean;
  readonly pods: Obj[];
  /** Kubernetes stopped the Job at its time limit (activeDeadlineSeconds, here): its pods, and their logs, are gone. */
  readonly stoppedAtLimitSeconds?: number;
}

/** What a failed backup Job says about itself: its own summary's error, or its time limit. */
export function backupFailure(outcome: JobOutcome): string | undefined {
  if (outcome.stoppedAtLimitSeconds !== undefined) return backupTimeLimitWords(outcome.stoppedAtLimitSeconds);
  return backupSummary(outcome.pods)?.error || undefined;
}

/** Starts a Job from a CronJob template; returns its name. */
export async function startJob(kube: Kube, namespace: string, template: string, prefix: string, io: Io,
  opts: { env?: Record<string, string>; onlyContainers?: string[] } = {}): Promise<string> {
  const cron = await kube.get<Obj>(`${collectionPath('CronJob', namespace)}/${template}`);
  if (!cron) throw new UserFacingError(`There is no ${template} template in namespace ${namespace}: run \`npm run deploy\` first.`);
  const stamp = io.now().toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const job = jobFromCronJob(cron, `${prefix}-${stamp}`, opts.env, opts.onlyContainers);
  const created = await kube.request<Obj>('POST', `/apis/batch/v1/namespaces/${namespace}/jobs`, job);
  if (created.status >= 300) throw new ApiError(created.status, `starting Job/${job.metadata.name}`, created.body);
  io.err(`started ${job.metadata.name}\n`);
  return job.metadata.name;
}

/**
 * Follows a Job to the end with progress on stderr. Without timeoutMs it waits as long as the
 * Job's own time limit allows (and 4 hours for a Job without one).
 */
export async function followJob(kube: Kube, namespace: string, name: string, io: Io, timeoutMs?: number): Promise<JobOutcome> {
  const start = io.now().getTime();
  for (;;) {
    const current = await kube.get<Obj>(`/apis/batch/v1/namespaces/${namespace}/jobs/${name}`);
    if (!current) throw new UserFacingError(`Job/${name} disappeared before it finished (deleted by someone?).`);
    timeoutMs ??= current.spec?.activeDeadlineSeconds ? (current.spec.activeDeadlineSeconds + 120) * 1000 : 4 * 3600 * 1000;
    const conditions: Obj[] = current.status?.conditions ?? [];
    const done = conditions.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
    const spent = io.now().getTime() - start;
    if (done) {
      const pods = await kube.list<Obj>(`/api/v1/namespaces/${namespace}/pods?labelSelector=${encodeURIComponent(`job-name=${name}`)}`);
      const limit = stoppedAtLimit(current);
      io.err(`${name} ${done.type === 'Complete' ? 'finished' : limit !== undefined ? 'was stopped at its time limit' : 'failed'} after ${elapsed(spent)}\n`);
      return { succeeded: done.type === 'Complete', pods, ...(limit !== undefined ? { stoppedAtLimitSeconds: limit } : {}) };
    }
    if (spent > timeoutMs) throw new UserFacingError(`${name} did not finish within ${elapsed(timeoutMs)}; see kubectl logs -n ${namespace} job/${name} --all-containers`);
    if (spent % 15000 < 2000) io.err(`${name} running — ${elapsed(spent)}\n`);
    await io.sleep(2000);
  }
}

/** Starts a Job from a CronJob template and follows it to the end. */
export async function runJob(kube: Kube, namespace: string, template: string, prefix: string, io: Io,
  opts: { env?: Record<string, string>; onlyContainers?: string[]; timeoutMs?: number }): Promise<JobOutcome> {
  const name = await startJob(kube, namespace, template, prefix, io, opts);
  return followJob(kube, namespace, name, io, opts.timeoutMs);
}

/** The message a Job's container ended with (the backup's summary; upgrade-major.sh's result or reason). */
export function terminationMessage(pods: Obj[], container: string): string | undefined {
  for (const p of pods) {
    const c = (p.status?.containerStatuses ?? []).find((x: Obj) => x.name === container);
    const m = c?.state?.terminated?.message?.trim();
    if (m) return m;
  }
  return undefined;
}

/** The backup's own summary, from the files container's termination message. */
export function backupSummary(pods: Obj[]): Obj | undefined {
  const message = terminationMessage(pods, 'files');
  if (!message) return undefined;
  try { return JSON.parse(message); } catch { return undefined; }
}

// ---------------------------------------------------------------- restore, export, uninstall

export async function scaleNextcloud(kube: Kube, namespace: string, replicas: number, io: Io): Promise<void> {
  const r = await kube.request<Obj>('PATCH', `${collectionPath('Deployment', namespace)}/nextcloud/scale`, { spec: { replicas } }, 'application/merge-patch+json');
  if (r.status >= 300) throw new ApiError(r.status, `scaling Deployment/nextcloud to ${replicas}`, r.body);
  if (replicas === 0) {
    for (let i = 0; i < 90; i++) {
      const pods = await kube.list<Obj>(`/api/v1/namespaces/${namespace}/pods?labelSelector=${encodeURIComponent('app.kubernetes.io/component=web')}`);
      if (pods.length === 0) return;
      if (i % 10 === 0) io.err('waiting for Nextcloud to stop\n');
      await io.sleep(2000);
    }
    throw new UserFacingError('Nextcloud did not stop within 3 minutes; nothing was restored. Try again, or check `npm run status`.');
  }
}

/** Sums to a hex sha256 of a file, streaming. */
function sha256File(file: fs.PathLike): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = crypto.createHash('sha256');
    fs.createReadStream(file).on('data', (d) => h.update(d)).on('end', () => resolve(h.digest('hex'))).on('error', reject);
  });
}

/** Checks an exported snapshot folder against its own checksum files; returns the files that differ. */
export async function verifySnapshotFolder(dir: string): Promise<string[]> {
  const bad: string[] = [];
  const check = async (listFile: string, root: string) => {
    for (const entry of parseManifest(fs.readFileSync(listFile))) {
      // Buffer paths keep names that are not valid UTF-8.
      const file = Buffer.concat([Buffer.from(root + path.sep), Buffer.from(entry.name.toString('latin1').split('/').join(path.sep), 'latin1')]);
      if (!fs.existsSync(file) || (await sha256File(file)) !== entry.sha256) bad.push(entry.key);
    }
  };
  await check(path.join(dir, 'database.sha256'), dir);
  await check(path.join(dir, 'MANIFEST'), path.join(dir, 'files'));
  return bad;
}

function folderBytes(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  return fs.readdirSync(dir, { withFileTypes: true }).reduce((n, e) => {
    const p = path.join(dir, e.name);
    return n + (e.isDirectory() ? folderBytes(p) : e.isFile() ? fs.statSync(p).size : 0);
  }, 0);
}

/**
 * A helper pod from an on-demand template (export, import, the PC's copy), once it runs; the
 * caller removes it. A helper that ends or does not start is removed here and explained.
 */
export async function helperPod(kube: Kube, namespace: string, template: string, prefix: string, io: Io): Promise<{ pod: string; remove: () => Promise<unknown> }> {
  const job = await startJob(kube, namespace, template, prefix, io);
  const remove = () => kube.request('DELETE', `/apis/batch/v1/namespaces/${namespace}/jobs/${job}?propagationPolicy=Background`);
  for (let i = 0; i < 150; i++) {
    const pods = await kube.list<Obj>(`/api/v1/namespaces/${namespace}/pods?labelSelector=${encodeURIComponent(`job-name=${job}`)}`);
    if (pods.some((p) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed')) {
      await remove();
      throw new UserFacingError(`The ${prefix} helper stopped before the copy could start; see \`npm run status\`.`);
    }
    const running = pods.find((p) => p.status?.phase === 'Running');
    if (running) return { pod: running.metadata.name, remove };
    if (i % 10 === 0) io.err('waiting for the helper to start\n');
    await io.sleep(2000);
  }
  await remove();
  throw new UserFacingError(`The ${prefix} helper did not start within 5 minutes; see \`npm run status\`.`);
}

/** Copies a snapshot out of the cluster with kubectl cp, showing progress, then verifies it. */
export async function exportSnapshot(kube: Kube, namespace: string, snapshot: string, expectedBytes: number, target: string, io: Io): Promise<string[]> {
  // The helper pod only holds the backup volume; it ends itself after two hours at most.
  const helper = await helperPod(kube, namespace, 'backup-export', 'export', io);
  fs.mkdirSync(target, { recursive: true });
  const dest = path.join(target, snapshot);
  // kubectl cp reads "C:\…" as a pod name: run it inside the target folder with a relative path.
  const child = spawn('kubectl', ['--context', kube.context, 'cp', '-n', namespace, `${helper.pod}:/backup/snapshots/${snapshot}`, snapshot], { cwd: target, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const timer = setInterval(() => {
    const done = folderBytes(dest);
    io.err(`copied ${(done / 1e6).toFixed(0)} MB${expectedBytes ? ` of about ${(expectedBytes / 1e6).toFixed(0)} MB (${Math.min(100, Math.round((100 * done) / expectedBytes))}%)` : ''}\n`);
  }, 3000);
  const code: number = await new Promise((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  clearInterval(timer);
  await helper.remove();
  if (code !== 0) throw new UserFacingError(`Copying failed: ${stderr.trim()}`);
  io.err('verifying checksums\n');
  return verifySnapshotFolder(dest);
}
