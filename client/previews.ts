import { ClusterState } from './report';

// Kubernetes objects are open-ended JSON, as in the rest of the client.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;

/** The nightly thumbnail job's last run (lib/photos/scripts/previews.sh's summary). */
export interface PreviewsReport {
  /** When that run started. */
  readonly time?: string;
  readonly result: 'done' | 'stopped' | 'skipped' | 'failed' | 'running';
  /** Its own words: why it stopped or skipped. */
  readonly reason?: string;
  /** Photos without a preview when it ended; undefined when it could not count. */
  readonly waiting?: number;
  /** Whether the whole library has had its previews made once. */
  readonly caughtUp?: boolean;
}

/** The Jobs a CronJob started (on schedule, and the client's copies of it). */
export function jobsOfCronJob(jobs: Obj[], cronJob: string): Obj[] {
  return jobs.filter((j) => (j.metadata.ownerReferences ?? []).some((r: Obj) => r.kind === 'CronJob' && r.name === cronJob));
}

/** The last run of the thumbnail job, from its pod's termination message. Pure. */
export function previewsReport(state: ClusterState): PreviewsReport | undefined {
  const jobs = new Set(jobsOfCronJob(state.jobs, 'previews').map((j) => j.metadata.name));
  const runs = state.pods
    .filter((p) => jobs.has(p.metadata?.labels?.['job-name']))
    .map((p): PreviewsReport => {
      const c = (p.status?.containerStatuses ?? []).find((x: Obj) => x.name === 'previews');
      const terminated = c?.state?.terminated;
      const time = terminated?.startedAt ?? p.status?.startTime;
      if (!terminated) return { time, result: 'running' };
      let s: Obj = {};
      try { s = JSON.parse(terminated.message ?? '{}'); } catch { s = {}; }
      const result = ['done', 'stopped', 'skipped', 'failed'].includes(s.result) ? s.result : terminated.exitCode === 0 ? 'done' : 'failed';
      return { time, result, reason: s.reason ?? terminated.reason, waiting: typeof s.waiting === 'number' ? s.waiting : undefined, caughtUp: s.caughtUp };
    })
    .sort((a, b) => Date.parse(b.time ?? '0') - Date.parse(a.time ?? '0'));
  return runs[0];
}

/** One line for the status screen: how many photos wait, and what the last night did. */
export function previewsWords(r: PreviewsReport | undefined): string {
  if (!r) return 'no night yet: made when a photo is first opened, and ahead of time every night after the backup';
  if (r.result === 'running') return 'being made now';
  const waiting = r.waiting === undefined ? '' : r.waiting === 0 ? 'every photo has them' : `${r.waiting} photo(s) waiting`;
  const night = r.result === 'done' ? (r.caughtUp === false ? 'catching up with the library' : '') : r.reason ?? r.result;
  return [waiting, night].filter(Boolean).join('; ') || 'done';
}
