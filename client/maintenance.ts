/**
 * The maintenance lock: one coordination.k8s.io Lease named "maintenance" in the home cloud's
 * namespace, taken by every operation that changes data or versions (the nightly job through
 * lib/backup/scripts/lease.sh, the PC's commands here).
 *
 * Why a Lease: it lives in the cluster beside what it protects, so the nightly job and every
 * PowerShell window on every account of the PC see the same one; the API server's
 * resourceVersion makes taking it atomic (two takers: one gets 409); and it carries the
 * holder's heartbeat (renewTime), so a holder that died (PC switched off, pod killed) is known
 * by its silence and never blocks for longer than leaseDurationSeconds.
 *
 * The holder also writes where it is (the `step` annotation) and what undoing needs: a holder
 * that dies leaves that record behind in the expired Lease, and the next command (or `status`)
 * reads it. The decisions and words, pure, are here; taking, renewing and releasing it are in
 * maintenance-lock.ts.
 */
// Kubernetes objects are open-ended JSON, as in the rest of the client.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;

export const LEASE_NAME = 'maintenance';
/** How long a silent holder keeps the lock: a PC's client renews every third of it. */
export const LEASE_SECONDS = 60;
const A = 'homecloud.io/';

/** What may hold the lock. `nightly` is the backup CronJob's run (lease.sh); the rest are commands. */
export type Operation = 'nightly' | 'backup' | 'restore' | 'export' | 'offsite' | 'update' | 'upgrade' | 'rollback' | 'uninstall' | 'admin-password';

const WORDS: Record<Operation, string> = {
  nightly: 'the nightly backup', backup: 'a backup', restore: 'a restore', export: 'an export', offsite: 'the copy to the off-disk folder',
  update: 'an update', upgrade: 'an upgrade', rollback: 'a rollback', uninstall: 'an uninstall', 'admin-password': 'a reset of the administrator\'s password',
};

/**
 * Steps after which the family's data is half-changed: a holder that dies there leaves data
 * nobody may back up or build on until the same command finishes it.
 */
export const HALF_DONE_STEPS = new Set(['restoring']);

/** Undo records a dead holder may leave, and what putting them back means. */
export type Undo = 'start-nextcloud' | 'resume-backups';

/** The lock as read from the cluster, in plain terms. */
export interface Holder {
  readonly identity: string;
  readonly operation: Operation | string;
  /** "this PC (NAME, user)" or "the nightly job (pod …)". */
  readonly from: string;
  readonly since?: string;
  readonly renewed?: string;
  readonly step?: string;
  /** What the step concerns (a snapshot, a Job): key=value pairs. */
  readonly detail: Record<string, string>;
  readonly undo: Undo[];
  /** Renewed within its lease: the holder is alive. */
  readonly alive: boolean;
}

/** The holder a Lease names, if any. Pure. */
export function holderOf(lease: Obj | undefined, now: Date): Holder | undefined {
  const identity = lease?.spec?.holderIdentity;
  if (!identity) return undefined;
  const a = lease.metadata?.annotations ?? {};
  const renewed = lease.spec.renewTime ?? lease.spec.acquireTime;
  const seconds = lease.spec.leaseDurationSeconds ?? LEASE_SECONDS;
  const alive = renewed !== undefined && now.getTime() - Date.parse(renewed) < seconds * 1000;
  const pairs = (s?: string) => Object.fromEntries((s ?? '').split(' ').filter((p) => p.includes('=')).map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
  return {
    identity, operation: a[`${A}operation`] ?? identity.split('@')[0], from: a[`${A}from`] ?? 'somewhere unknown',
    since: lease.spec.acquireTime, renewed, step: a[`${A}step`] || undefined, detail: pairs(a[`${A}detail`]),
    undo: (a[`${A}undo`] ?? '').split(' ').filter(Boolean) as Undo[], alive,
  };
}

export function operationWords(op: string): string {
  return WORDS[op as Operation] ?? `"${op}"`;
}

const clock = (iso?: string) => (iso ? new Date(iso).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' }) : '?');

/** One sentence: what holds the lock, since when, from where. Pure. */
export function holderWords(h: Holder): string {
  return `${operationWords(h.operation)} started at ${clock(h.since)} from ${h.from}${h.step ? ` (now: ${h.step})` : ''}`;
}

/** What a dead holder left: one sentence for the next command and for status. Pure. */
export function interruptedWords(h: Holder): string {
  const what = `${operationWords(h.operation)} started at ${clock(h.since)} from ${h.from} was cut short (the PC shut down, the window closed or the pod was stopped)`;
  if (h.step && HALF_DONE_STEPS.has(h.step)) {
    return `${what} while putting ${h.detail.snapshot ? `snapshot ${h.detail.snapshot}` : 'the newest good snapshot'} back: the files and the database are half-restored. `
      + `Run \`npm run restore${h.detail.snapshot ? ` -- --snapshot ${h.detail.snapshot}` : ''}\` to finish it; until then backups are not taken (they would save the half-restored state).`;
  }
  return `${what}${h.step ? ` at "${h.step}"` : ''}.`;
}

export type Decision =
  | { readonly action: 'take' }
  | { readonly action: 'take-over'; readonly dead: Holder }
  | { readonly action: 'offer-wait'; readonly holder: Holder }
  | { readonly action: 'refuse'; readonly why: string };

/**
 * What `op` does about the lock as it is. Pure.
 * - free: take it;
 * - held by the nightly job, alive: a command offers to wait for it (the job ends by itself);
 * - held by another command, alive: refuse, naming it;
 * - held by a dead holder: take it over, unless it left the data half-restored and `op` is not
 *   the restore that finishes it (or the uninstall that removes it all anyway).
 */
export function decide(op: Operation, h: Holder | undefined): Decision {
  if (!h) return { action: 'take' };
  if (h.alive) {
    if (h.operation === 'nightly' && op !== 'nightly') return { action: 'offer-wait', holder: h };
    return { action: 'refuse', why: `${cap(holderWords(h))} is still running; only one thing at a time. Let it finish, then run this again (\`npm run status\` shows it).` };
  }
  if (h.step && HALF_DONE_STEPS.has(h.step) && op !== 'restore' && op !== 'uninstall') return { action: 'refuse', why: interruptedWords(h) };
  return { action: 'take-over', dead: h };
}

export const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** MicroTime as the API server writes it (six decimals). */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** The Lease this client writes for `op` at `now` (taken fresh, or over `current`). Pure. */
export function leaseBody(namespace: string, identity: string, op: Operation, from: string, now: Date, record: { step?: string; detail?: Record<string, string>; undo?: Undo[] }, current?: Obj, since?: string): Obj {
  const t = microTime(now);
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: LEASE_NAME, namespace,
      labels: { 'app.kubernetes.io/part-of': 'homecloud' },
      annotations: {
        [`${A}operation`]: op, [`${A}from`]: from, [`${A}step`]: record.step ?? '',
        [`${A}detail`]: Object.entries(record.detail ?? {}).map(([k, v]) => `${k}=${v}`).join(' '),
        [`${A}undo`]: (record.undo ?? []).join(' '),
      },
      ...(current?.metadata?.resourceVersion ? { resourceVersion: current.metadata.resourceVersion } : {}),
    },
    spec: { holderIdentity: identity, leaseDurationSeconds: leaseSeconds(), acquireTime: since ?? t, renewTime: t },
  };
}

/** The lease length; HOMECLOUD_LEASE_SECONDS shortens it for the takeover tests. */
export function leaseSeconds(): number {
  const n = Number(process.env.HOMECLOUD_LEASE_SECONDS);
  return Number.isInteger(n) && n > 0 ? n : LEASE_SECONDS;
}

/** What `status` says of the lock. Pure. */
export function maintenanceReport(lease: Obj | undefined, now: Date): { running?: string; interrupted?: string; halfDone?: boolean } | undefined {
  const h = holderOf(lease, now);
  if (!h) return undefined;
  if (h.alive) return { running: `${cap(holderWords(h))}.` };
  return { interrupted: interruptedWords(h), ...(h.step && HALF_DONE_STEPS.has(h.step) ? { halfDone: true } : {}) };
}
