/**
 * Jobs made from the CronJob templates the chart ships (backup, restore, export, import, the
 * PC's copy), followed to the end; and scaling Nextcloud down and up around a restore.
 */
import { UserFacingError } from '../lib/config/errors';
import { Io } from './io';
import { collectionPath } from './kinds';
import { ApiError, Kube } from './kube';
import { elapsed } from './progress';
import { backupTimeLimitWords, stoppedAtLimit } from './status';
// Kubernetes objects are open-ended JSON, as in the rest of the client.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;
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
/** The name startJob gives a Job started now with `prefix`. */
export function jobName(prefix: string, now: Date): string {
  return `${prefix}-${now.toISOString().replace(/[-:T]/g, '').slice(0, 14)}`;
}

/**
 * Who holds the maintenance lock in this process (client/maintenance.ts sets it): every Job
 * started meanwhile carries it, so a backup it runs (lease.sh) knows the lock is its caller's.
 */
export const LOCK_HOLDER: { identity?: string } = {};

export async function startJob(kube: Kube, namespace: string, template: string, prefix: string, io: Io,
  opts: { env?: Record<string, string>; onlyContainers?: string[]; name?: string } = {}): Promise<string> {
  const cron = await kube.get<Obj>(`${collectionPath('CronJob', namespace)}/${template}`);
  if (!cron) throw new UserFacingError(`There is no ${template} template in namespace ${namespace}: run \`npm run deploy\` first.`);
  const env = { ...(LOCK_HOLDER.identity ? { MAINTENANCE_HOLDER: LOCK_HOLDER.identity } : {}), ...opts.env };
  const job = jobFromCronJob(cron, opts.name ?? jobName(prefix, io.now()), env, opts.onlyContainers);
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
