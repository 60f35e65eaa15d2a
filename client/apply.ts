/**
 * Deploying: the manifests dist/ holds, what is live, server-side apply in dependency order,
 * pruning what homecloud no longer makes, and waiting until every part is ready.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseAllDocuments, parseDocument } from 'yaml';
import { UserFacingError } from '../lib/config/errors';
import { Io } from './io';
import { KINDS, collectionPath, describe, kindInfo, objectPath } from './kinds';
import { ApiError, Kube } from './kube';
import { PRUNABLE_KINDS, applyOrder, ownedBy, pruneCandidates, selector } from './plan';
import { elapsed } from './progress';
import { upgradeProblems } from './upgrade-guard';
// Kubernetes objects are open-ended JSON, as in the rest of the client.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;
export const FIELD_MANAGER = 'homecloud';

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

/** The Deployments not yet available with their current spec. Pure. */
export function notReady(deployments: Obj[]): Obj[] {
  return deployments.filter((d) => (d.status?.availableReplicas ?? 0) < (d.spec?.replicas ?? 1)
    || (d.status?.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)
    || (d.status?.updatedReplicas ?? 0) < (d.spec?.replicas ?? 1));
}

/** Waits until every Deployment is available, printing what it waits on; false on timeout. */
export async function waitReady(kube: Kube, namespace: string, timeoutMs: number, io: Io): Promise<boolean> {
  const start = io.now().getTime();
  let lastLine = '';
  let printedAt = -Infinity;
  for (;;) {
    const deployments = await kube.list<Obj>(collectionPath('Deployment', namespace));
    const pending = notReady(deployments);
    const spent = io.now().getTime() - start;
    if (deployments.length > 0 && pending.length === 0) {
      io.err(`all parts ready after ${elapsed(spent)}\n`);
      return true;
    }
    const line = `waiting for ${pending.map((d) => d.metadata.name).join(', ') || 'the parts to appear'}`
      + (pending.some((d) => d.metadata.name === 'nextcloud') ? ' (a first install takes 5 to 15 minutes)' : '');
    if (line !== lastLine || spent - printedAt >= 30000) {
      io.err(`${line} — ${elapsed(spent)}\n`);
      printedAt = spent;
    }
    lastLine = line;
    if (spent >= timeoutMs) {
      io.err(`still not ready after ${elapsed(spent)}; \`npm run status\` explains what each part is doing.\n`);
      return false;
    }
    // Half a second: a list of three Deployments is cheap, and the family waits for the answer.
    await io.sleep(500);
  }
}
