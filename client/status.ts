/**
 * The status report: what a family member needs to know, in plain words, built from a few
 * API lists. Pure: the lists come in, the report (and its text) goes out.
 */
import { trustedNames } from './addresses';
import { capacityVerdict, demandOf } from './capacity';
import { BackupReport, ClusterState, ClusterType, CopyRecord, ComponentReport, ComponentState, HostInfo, OffsiteReport, Report } from './report';
import { durationWords, humanBytes } from './status-text';
import { CertificateCheck } from './trust';
import { upgradeInProgress } from './nextcloud-log';
import { jobsOfCronJob, previewsReport } from './previews';
import { maintenanceReport } from './maintenance';
import { updateWarnings, updatesReport } from './update-report';

export type { ClusterState, ClusterType, CopyRecord, HostInfo, Report } from './report';
// Kubernetes objects as the API returns them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;

const COMPONENTS: Array<[string, string, string]> = [
  ['Nextcloud', 'nextcloud', 'web'],
  ['Database', 'database', 'database'],
  ['Cache', 'cache', 'cache'],
  ['Way out', 'egress', 'egress'],
];

/** How long a first install usually takes on a desktop, for the message while it runs. */
const FIRST_INSTALL = '5 to 15 minutes';
const BACKUP_OVERDUE_HOURS = 36;
const COPY_OVERDUE_HOURS = 48;
/** The certificate is renewed 45 days ahead (lib/https/server-certificate.ts): 30 days left means renewal is failing. */
const CERTIFICATE_WARN_DAYS = 30;

/** Docker Desktop names its kubeadm node docker-desktop, its kind nodes desktop-control-plane, desktop-worker… */
export function clusterTypeOf(nodeNames: string[]): ClusterType {
  if (nodeNames.includes('docker-desktop')) return 'kubeadm';
  if (nodeNames.some((n) => n.startsWith('desktop-'))) return 'kind';
  return 'other';
}

function podsOf(state: ClusterState, component: string): Obj[] {
  return state.pods.filter((p) => p.metadata?.labels?.['app.kubernetes.io/component'] === component && !p.metadata?.labels?.['job-name']);
}

function minutesSince(state: ClusterState, time?: string): number {
  return time ? (state.now.getTime() - Date.parse(time)) / 60000 : 0;
}

/** Plain words for why a component's pod is not ready. */
export function explainPod(state: ClusterState, name: string, pod: Obj | undefined): { state: ComponentState; words: string; logLines?: string[] } {
  if (!pod) return { state: 'starting', words: 'is being started by Kubernetes.' };
  const statuses: Obj[] = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  for (const c of statuses) {
    const waiting = c.state?.waiting?.reason;
    if (waiting === 'ErrImagePull' || waiting === 'ImagePullBackOff') {
      return { state: 'problem', words: `cannot download its program (${c.image}). Is the PC online? Docker Desktop keeps retrying by itself.` };
    }
    if (waiting === 'CrashLoopBackOff') {
      const oom = c.lastState?.terminated?.reason === 'OOMKilled';
      return {
        state: 'problem',
        words: oom
          ? `keeps running out of memory (${c.name}) and restarting: give it more memory in main.ts (resources), then deploy.`
          : `keeps crashing (${c.name}, restarted ${c.restartCount} times). Its last log lines are below.`,
        logLines: state.logs[`${pod.metadata.name}/${c.name}`],
      };
    }
    if (waiting === 'CreateContainerConfigError') {
      return { state: 'problem', words: `cannot start: ${c.state.waiting.message ?? 'its configuration is incomplete'}. Deploy again to repair it.` };
    }
  }
  const scheduled = pod.status?.conditions?.find((x: Obj) => x.type === 'PodScheduled');
  if (scheduled?.status === 'False') {
    if (/PersistentVolumeClaim|volume/i.test(scheduled.message ?? '')) {
      return { state: 'problem', words: 'is waiting for its storage. Check that Docker Desktop has free disk space (Settings → Resources) and that Kubernetes is running.' };
    }
    return { state: 'problem', words: `cannot be placed on the PC: ${scheduled.message ?? scheduled.reason}. Docker Desktop may need more memory (Settings → Resources).` };
  }
  const age = minutesSince(state, pod.status?.startTime ?? pod.metadata?.creationTimestamp);
  if (name === 'Nextcloud' && pod.status?.phase === 'Running') {
    const upgradingTo = upgradeInProgress(state.logs[`${pod.metadata.name}/nextcloud`] ?? []);
    if (upgradingTo) {
      return { state: 'starting', words: `is upgrading itself to ${upgradingTo} (running for ${Math.round(age)} min). A large upgrade can take an hour or more: leave the PC on and Docker Desktop running; it finishes by itself.` };
    }
    const restarts = statuses.reduce((n, c) => n + (c.restartCount ?? 0), 0);
    if (age < 25 && restarts === 0) {
      return { state: 'starting', words: `is installing or upgrading itself (running for ${Math.round(age)} min; a first install usually takes ${FIRST_INSTALL}).` };
    }
    return { state: 'problem', words: `has been running ${Math.round(age)} min without answering. See: kubectl logs -n ${state.namespace} ${pod.metadata.name} -c nextcloud` };
  }
  if (pod.status?.phase === 'Pending') return { state: 'starting', words: 'is starting (downloading its program the first time can take a few minutes).' };
  return { state: 'starting', words: 'is starting.' };
}

/** The next time a five-field cron schedule fires in an IANA zone (minute resolution, up to 400 days ahead). */
export function nextRun(schedule: string, timeZone: string, from: Date): Date | undefined {
  const fields = schedule.trim().split(/\s+/);
  if (fields.length !== 5) return undefined;
  const matchers = fields.map((f, i) => fieldMatcher(f, i === 4));
  const fmt = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', weekday: 'short' });
  const weekdays: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
  let t = Math.ceil((from.getTime() + 1) / 60000) * 60000;
  for (let i = 0; i < 400 * 1440; i++, t += 60000) {
    const parts = Object.fromEntries(fmt.formatToParts(new Date(t)).map((p) => [p.type, p.value]));
    const values = [Number(parts.minute), Number(parts.hour), Number(parts.day), Number(parts.month), weekdays[parts.weekday]];
    if (!matchers[0](values[0]) || !matchers[1](values[1])) {
      // Skip to the next hour quickly when the hour cannot match.
      if (!matchers[1](values[1])) t += (59 - values[0]) * 60000;
      continue;
    }
    const domRestricted = fields[2] !== '*';
    const dowRestricted = fields[4] !== '*';
    const dom = matchers[2](values[2]);
    const dow = matchers[4](values[4]);
    const dayOk = domRestricted && dowRestricted ? dom || dow : dom && dow;
    if (dayOk && matchers[3](values[3])) return new Date(t);
  }
  return undefined;
}

function fieldMatcher(field: string, weekday: boolean): (v: number) => boolean {
  const parts = field.split(',').map((item) => {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(item);
    if (!m) return () => false;
    const lo = m[1] === '*' ? 0 : Number(m[2]);
    const hi = m[1] === '*' ? 99 : m[3] !== undefined ? Number(m[3]) : m[4] ? 99 : lo;
    const step = m[4] ? Number(m[4]) : 1;
    return (v: number) => {
      const vals = weekday && v === 0 ? [0, 7] : [v];
      return vals.some((x) => x >= lo && x <= hi && (x - lo) % step === 0);
    };
  });
  return (v) => parts.some((p) => p(v));
}

/** A Job that Kubernetes stopped at its time limit (the Job's Failed condition says DeadlineExceeded). Pure. */
export function stoppedAtLimit(job: Obj): number | undefined {
  const failed = (job?.status?.conditions ?? []).find((c: Obj) => c.type === 'Failed' && c.status === 'True');
  return failed?.reason === 'DeadlineExceeded' ? job.spec?.activeDeadlineSeconds ?? 0 : undefined;
}

/**
 * Why a backup stopped at its time limit, and what to change: a first backup of a large library
 * copies, checksums and encrypts every file, which at night's pace can need more than one night's
 * limit (the copy outside Docker Desktop goes on from where it stopped; the snapshot does not).
 */
export function backupTimeLimitWords(seconds: number): string {
  const more = Math.max(6, 2 * Math.ceil(seconds / 3600));
  return `it was stopped at its time limit of ${durationWords(seconds)} (backup.timeout) before it finished. `
    + 'A first backup of a large photo library can need longer; if the next one stops the same way, allow more time: '
    + `backup: { timeout: Duration.hours(${more}) } in main.ts, then npm run deploy`;
}

/** The nightly job's runs; a night skipped while another operation held the maintenance lock says why. */
export function backupReport(state: ClusterState): BackupReport {
  const cron = state.cronJobs.find((c) => c.metadata.name === 'backup');
  const ownJobs = jobsOfCronJob(state.jobs, 'backup');
  // A run Kubernetes stopped at its time limit leaves no pod (it deletes them, and their summaries):
  // only its Job says so, and says it for the whole run.
  const stopped: Array<NonNullable<BackupReport['last']>> = [];
  const backupJobs = new Set<string>();
  for (const j of ownJobs) {
    const limit = stoppedAtLimit(j);
    if (limit === undefined) backupJobs.add(j.metadata.name);
    else stopped.push({ time: j.status?.startTime ?? j.metadata.creationTimestamp, result: 'failed', error: backupTimeLimitWords(limit) });
  }
  const runs: Array<NonNullable<BackupReport['last']>> = state.pods
    .filter((p) => backupJobs.has(p.metadata?.labels?.['job-name']))
    .map((p) => {
      const files = (p.status?.containerStatuses ?? []).find((c: Obj) => c.name === 'files');
      const terminated = files?.state?.terminated;
      let summary: Obj = {};
      try { summary = terminated?.message ? JSON.parse(terminated.message) : {}; } catch { summary = {}; }
      const result = !terminated ? 'running' : terminated.exitCode !== 0 ? 'failed' : summary.result === 'skipped' ? 'skipped' : 'success';
      const limit = ownJobs.find((j) => j.metadata.name === p.metadata?.labels?.['job-name'])?.spec?.activeDeadlineSeconds;
      return {
        time: summary.time ?? terminated?.startedAt ?? p.status?.startTime,
        result,
        ...(result === 'running' && p.status?.startTime ? { runningSeconds: Math.max(0, Math.round((state.now.getTime() - Date.parse(p.status.startTime)) / 1000)) } : {}),
        ...(result === 'running' && limit ? { limitSeconds: limit } : {}),
        snapshot: summary.snapshot || undefined,
        databaseBytes: summary.database?.bytes,
        filesKiB: summary.files?.kib,
        newKiB: summary.files?.newKib,
        diskKiB: summary.disk?.kib || undefined,
        diskFreeKiB: summary.disk?.freeKib,
        error: summary.error || (result === 'failed' ? terminated?.reason : undefined),
      };
    });
  runs.push(...stopped);
  runs.sort((a, b) => Date.parse(b.time ?? '0') - Date.parse(a.time ?? '0'));
  const next = cron && !cron.spec.suspend ? nextRun(cron.spec.schedule, cron.spec.timeZone ?? 'UTC', state.now) : undefined;
  const success = runs.find((r) => r.result === 'success') ?? undefined;
  const lastSuccessFromCron = cron?.status?.lastSuccessfulTime;
  return {
    last: runs[0],
    lastSuccess: success?.time ?? lastSuccessFromCron,
    next: next?.toISOString(),
    schedule: cron?.spec.schedule,
    timeZone: cron?.spec.timeZone,
  };
}

/** The off-disk copy's settings, read from the backup CronJob (in the manifests or the cluster). Pure. */
export function offsiteSettings(cronJobs: Obj[]): { mode?: 'cluster' | 'client'; folder?: string; schedule?: string } {
  const cron = cronJobs.find((c) => c.metadata?.name === 'backup');
  const container = (cron?.spec?.jobTemplate?.spec?.template?.spec?.containers ?? []).find((c: Obj) => c.name === 'offsite');
  const env = (name: string): string | undefined => (container?.env ?? []).find((e: Obj) => e.name === name)?.value;
  const mode = env('OFFSITE_MODE');
  return { mode: mode === 'cluster' || mode === 'client' ? mode : undefined, folder: env('OFFSITE_FOLDER_NAME'), schedule: cron?.spec?.schedule };
}

function offsiteReport(state: ClusterState, host: HostInfo): OffsiteReport {
  const { mode, folder } = offsiteSettings(state.cronJobs);
  const backupJobs = new Set(jobsOfCronJob(state.jobs, 'backup').map((j) => j.metadata.name));
  const records: Obj[] = state.pods
    .filter((p) => backupJobs.has(p.metadata?.labels?.['job-name']))
    .map((p) => (p.status?.containerStatuses ?? []).find((c: Obj) => c.name === 'offsite')?.state?.terminated?.message)
    .filter(Boolean)
    .map((m: string) => { try { return JSON.parse(m); } catch { return undefined; } })
    .filter((r: Obj) => r && r.time)
    .sort((a: Obj, b: Obj) => Date.parse(b.time) - Date.parse(a.time));
  const copies: CopyRecord[] = records
    .filter((r) => r.result !== 'skipped' && (r.copy?.time || r.result === 'failed'))
    .map((r) => ({ time: r.copy?.time ?? r.time, result: r.result === 'success' ? 'success' : 'failed', folder: r.folder, kib: r.copy?.kib,
      error: r.error || undefined, lastSuccess: r.lastCopy || undefined }));
  const scrubbed = records.find((r) => r.scrub && r.scrub.result);
  return {
    mode,
    folder,
    last: mode === 'client' ? host.pcCopy : copies[0],
    scrub: scrubbed ? {
      time: scrubbed.time, result: scrubbed.scrub.result, damagedSnapshots: scrubbed.scrub.damagedSnapshots || undefined, repaired: scrubbed.scrub.repaired === true || undefined,
      repository: scrubbed.scrub.repository || undefined, offsiteCopy: scrubbed.scrub.offsiteCopy || undefined,
    } : undefined,
    clusterType: clusterTypeOf(state.nodeNames ?? []),
  };
}

/** What the off-disk copy needs the family to know or do. */
function offsiteWarnings(o: OffsiteReport, state: ClusterState, installedHours: number): string[] {
  const w: string[] = [];
  if (!o.mode) return w;
  if (o.mode === 'cluster' && o.clusterType === 'kind') {
    w.push(`This is a kind cluster: folders on the PC come up empty inside it, so the nightly copy is not reaching ${o.folder}. `
      + 'Set backup.offsite.clusterType to \'kind\' in main.ts, then run `npm run synth` and `npm run deploy` (it offers to schedule the copy on this PC).');
  }
  const goodTime = o.last?.result === 'success' ? o.last.time : o.last?.lastSuccess;
  const lastGood = goodTime ? minutesSince(state, goodTime) / 60 : Infinity;
  if (installedHours > COPY_OVERDUE_HOURS && lastGood > COPY_OVERDUE_HOURS) {
    const how = o.mode === 'client'
      ? 'Run `npm run offsite` now, and check that the scheduled task "homecloud offsite copy" exists (`npm run deploy -- --schedule-copy` registers it).'
      : 'Check that the folder\'s drive is plugged in and has room, then run `npm run backup`.';
    w.push(`No copy outside Docker Desktop for ${Number.isFinite(lastGood) ? `${Math.floor(lastGood)} hours` : 'more than 2 days (never yet)'} `
      + `(folder ${o.folder ?? '?'}): a cluster reset now would lose everything since. ${how}`);
  }
  if (o.last?.result === 'failed') w.push(`The last copy to ${o.folder ?? 'the off-disk folder'} failed: ${o.last.error ?? 'see the backup job\'s log'}.`);
  if (o.mode === 'client' && (o.last?.repaired ?? 0) > 0) {
    w.push(`Reading back the copy in ${o.folder ?? 'the folder'} found ${o.last!.repaired} damaged file(s); they were copied again from the cluster. `
      + 'If it repeats, that drive may be failing.');
  }
  if (o.scrub?.offsiteCopy === 'damaged') {
    w.push(`Reading back the copy in ${o.folder ?? 'the off-disk folder'} found damaged files; while the repository inside Docker Desktop `
      + `${o.scrub.repository === 'damaged' ? 'is damaged too, they cannot all be replaced: run `npm run backup` and watch the next scrub' : 'is sound, each night copies them again from it'}. `
      + 'If it repeats, that drive may be failing: copy the folder to another drive.');
  }
  if (o.scrub?.result === 'damaged' && (o.scrub.offsiteCopy !== 'damaged' || o.scrub.damagedSnapshots || o.scrub.repository === 'damaged')) {
    w.push(`The last scrub found damage${o.scrub.damagedSnapshots ? ` (snapshots ${o.scrub.damagedSnapshots}, marked DAMAGED and never restored)` : ''}: `
      + 'newer backups are complete; if it repeats, Docker Desktop\'s disk or the folder\'s drive may be failing.'
      + (o.mode === 'client' ? ' Run `npm run offsite`: it puts back damaged files of the repository inside Docker Desktop from this PC\'s copy.' : ''));
  }
  return w;
}

/** Windows: a folder of the project holding secrets that other accounts of the PC can read. */
function exposedWarning(e: { folder: string; readers: string[] }): string {
  return `Other accounts of this PC (${e.readers.join(', ')}) can read ${e.folder}, which holds the home cloud's passwords and keys. `
    + 'Run `npm run deploy` to make it private to you again; keep the project in your own user folder (C:\\Users\\<you>\\).';
}

export function buildReport(state: ClusterState, host: HostInfo): Report {
  const service = state.services.find((s) => s.metadata.name === 'nextcloud');
  const portNamed = (name: string) => service?.spec?.ports?.find((p: Obj) => p.name === name)?.port;
  const httpPort = portNamed('http') ?? service?.spec?.ports?.[0]?.port ?? 80;
  // Installs from before HTTPS publish only the HTTP port: their addresses stay http.
  const httpsPort = portNamed('https');
  const scheme = httpsPort ? 'https' : 'http';
  const port = httpsPort ?? httpPort;
  const suffix = port === (httpsPort ? 443 : 80) ? '' : `:${port}`;
  const lanHost = host.lanAddresses[0] ?? 'this-pc-address';
  const base = `${scheme}://${lanHost}${suffix}`;
  const installed = !!state.namespaceObject;
  const components: ComponentReport[] = COMPONENTS.map(([name, deployment, component]) => {
    const d = state.deployments.find((x) => x.metadata.name === deployment);
    if (!d) return { name, deployment, state: 'missing', words: 'is not installed. Run `npm run deploy`.' };
    if ((d.status?.availableReplicas ?? 0) >= 1 && (d.spec?.replicas ?? 1) >= 1) return { name, deployment, state: 'ready', words: 'is ready.' };
    if ((d.spec?.replicas ?? 1) === 0) return { name, deployment, state: 'problem', words: 'is stopped (scaled to zero: a restore or a database move does that while it runs; one cut short is named below). Otherwise `npm run deploy` starts it.' };
    const pods = podsOf(state, component).sort((a, b) => Date.parse(b.metadata.creationTimestamp) - Date.parse(a.metadata.creationTimestamp));
    return { name, deployment, ...explainPod(state, name, pods[0]) };
  });

  const volumes = state.pvcs.map((p) => ({
    name: p.metadata.name,
    size: p.status?.capacity?.storage ?? p.spec?.resources?.requests?.storage ?? '?',
    state: p.status?.phase === 'Bound' ? 'ready' : 'waiting for storage (check Docker Desktop\'s disk space)',
  }));

  const backup = backupReport(state);
  const warnings: string[] = [];
  if (state.context !== 'docker-desktop') {
    warnings.push(`Kubernetes context is "${state.context}", not Docker Desktop's ("docker-desktop").`);
  }
  warnings.push(...(host.secretsExposed ?? []).map(exposedWarning));
  const ageHours = minutesSince(state, state.namespaceObject?.metadata?.creationTimestamp) / 60;
  const sinceSuccess = backup.lastSuccess ? minutesSince(state, backup.lastSuccess) / 60 : Infinity;
  const backupOverdue = installed && ageHours > BACKUP_OVERDUE_HOURS && sinceSuccess > BACKUP_OVERDUE_HOURS;
  if (backupOverdue) {
    warnings.push(backup.lastSuccess
      ? `No successful backup for ${Math.floor(sinceSuccess)} hours (last: ${backup.lastSuccess}). Run \`npm run backup\` and check its output.`
      : `No successful backup yet. Run \`npm run backup\` and check its output.`);
  }
  if (backup.last?.result === 'failed') warnings.push(`The last backup failed: ${backup.last.error ?? 'see kubectl logs'}.`);
  const diskProblem = installed ? diskWarning(backup) : undefined;
  if (diskProblem) warnings.push(diskProblem);
  if (service && service.spec?.type === 'LoadBalancer' && !(service.status?.loadBalancer?.ingress ?? []).length) {
    warnings.push('Docker Desktop has not published the web port yet, so other devices cannot reach it.');
  }
  if (host.lanAddresses.length === 0) warnings.push('No LAN address found on this PC: phones can reach it only once the PC is on the home network.');
  const certificateProblems = installed && httpsPort ? certificateWarnings(host.certificate, state.now, components.find((c) => c.deployment === 'nextcloud')?.state === 'ready') : [];
  warnings.push(...certificateProblems);
  if (installed && service && !httpsPort) warnings.push('This install serves plain HTTP only: run `npm run deploy` to switch it to HTTPS (iPhones need it for calendars and contacts).');
  const offsite = offsiteReport(state, host);
  const offsiteProblems = installed ? offsiteWarnings(offsite, state, ageHours) : [];
  warnings.push(...offsiteProblems);
  const capacity = installed && state.room ? capacityVerdict(demandOf(state), state.room) : undefined;
  warnings.push(...(capacity?.findings ?? []));
  const maintenance = maintenanceReport(state.lease, state.now); warnings.push(...(maintenance?.interrupted ? [maintenance.interrupted] : []));
  const updates = updatesReport(host, state.now);
  if (installed) warnings.push(...updateWarnings(updates, state.now));

  const healthy = installed && components.every((c) => c.state === 'ready') && !backupOverdue && !maintenance?.halfDone && offsiteProblems.length === 0 && certificateProblems.length === 0
    && !diskProblem;
  return {
    context: state.context,
    namespace: state.namespace,
    installed, healthy, components, volumes,
    addresses: { thisPc: `${scheme}://localhost${suffix}/`, lan: [...trustedNames(state), ...host.lanAddresses].map((a) => `${scheme}://${a}${suffix}/`) },
    clients: { caldav: `${base}/remote.php/dav`, carddav: `${base}/remote.php/dav`, webdav: `${base}/remote.php/dav/files/USERNAME/` },
    welcome: httpsPort ? `http://${lanHost}${httpPort === 80 ? '' : `:${httpPort}`}/welcome/` : undefined,
    https: httpsPort ? host.certificate : undefined,
    backup,
    offsite,
    capacity,
    previews: previewsReport(state), push: httpsPort ? host.push : undefined,
    egress: host.egress,
    maintenance,
    updates,
    warnings,
  };
}

/**
 * The disk under the backups, as the last good backup measured it. On Docker Desktop that is
 * its virtual disk, which holds the family's files too and does not stop at the claims' sizes:
 * warn while there is still room for a week of nights like the last, or a tenth of the disk.
 */
function diskWarning(b: BackupReport): string | undefined {
  const last = b.last?.result === 'success' ? b.last : undefined;
  if (!last?.diskKiB || last.diskFreeKiB === undefined) return undefined;
  const needed = Math.max(last.diskKiB / 10, 7 * (last.newKiB ?? 0));
  if (last.diskFreeKiB >= needed) return undefined;
  return `The disk the home cloud and its backups are on is almost full: ${humanBytes(last.diskFreeKiB * 1024)} free of ${humanBytes(last.diskKiB * 1024)}. `
    + 'When it is full, uploads and backups fail. Give Docker Desktop a bigger disk (Settings → Resources → Disk image size), '
    + 'or keep fewer backups (backup.retention in main.ts, then npm run deploy).';
}

/** What a family member should know about the HTTPS certificate, as warnings. */
function certificateWarnings(c: CertificateCheck | undefined, now: Date, webReady: boolean): string[] {
  if (!c) return [];
  // While Nextcloud starts (or is down) nothing answers: the component line already says so.
  if (!c.notAfter) return webReady && c.problem ? [`HTTPS does not answer on this PC: ${c.problem}.`] : [];
  const out: string[] = [];
  const days = Math.floor((Date.parse(c.notAfter) - now.getTime()) / 86400_000);
  if (days < 0) out.push(`The HTTPS certificate expired on ${c.notAfter.slice(0, 10)}: phones refuse to connect. It renews itself; restart it with \`npm run deploy\`, and see \`kubectl logs -n homecloud deploy/nextcloud -c certificates\`.`);
  else if (days < CERTIFICATE_WARN_DAYS) out.push(`The HTTPS certificate expires in ${days} days (${c.notAfter.slice(0, 10)}) and has not renewed itself (it should, 45 days ahead): see \`kubectl logs -n homecloud deploy/nextcloud -c certificates\`.`);
  if (c.trusted === false) out.push(`The home cloud's HTTPS certificate is ${c.problem ?? 'not trusted'}: the home CA in .homecloud/ and the one deployed differ. Run \`npm run deploy\`.`);
  return out;
}
