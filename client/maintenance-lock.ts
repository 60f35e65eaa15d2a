/**
 * Taking, renewing and releasing the maintenance lock (the Lease that maintenance.ts describes),
 * and putting back what a holder that died left changed.
 */
import * as crypto from 'crypto';
import * as os from 'os';
import { UserFacingError } from '../lib/config/errors';
import { Io } from './io';
import { LOCK_HOLDER, scaleNextcloud } from './jobs';
import { ApiError, Kube } from './kube';
import {
  Holder, LEASE_NAME, Operation, Undo, cap, decide, holderOf, holderWords, interruptedWords, leaseBody, leaseSeconds,
} from './maintenance';
import { elapsed } from './progress';
// Kubernetes objects are open-ended JSON, as in the rest of the client.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;

/** The lock, held: renewed in the background until released. */
export interface HeldLock {
  readonly identity: string;
  /** The dead holder this run took over from, if any (its record says what to finish or undo). */
  readonly inherited?: Holder;
  /** Records where the operation is, and what undoing it would need, in the Lease. */
  record(step: string, detail?: Record<string, string>, undo?: Undo[]): Promise<void>;
  release(): Promise<void>;
}

const leasePath = (ns: string) => `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/${LEASE_NAME}`;

export async function readHolder(kube: Kube, ns: string, now: Date): Promise<Holder | undefined> {
  return holderOf(await kube.get<Obj>(leasePath(ns)), now);
}

/** Where this command runs, for the record: the PC's name and the account. */
export function thisPc(): string {
  let user = '?';
  try { user = os.userInfo().username; } catch { /* no account name (a container) */ }
  return `this PC (${os.hostname()}, ${user})`;
}

/**
 * Takes the lock for `op`, or throws a UserFacingError naming what holds it. When the nightly
 * job holds it: on a terminal, asks whether to wait; with --yes, waits; otherwise refuses,
 * saying how to wait. Waits show progress. A dead holder's record is said aloud and handed on.
 */
export async function takeLock(kube: Kube, ns: string, op: Operation, io: Io, o: { readonly yes: boolean }): Promise<HeldLock> {
  const identity = `${op}@${os.hostname()}:${process.pid}:${crypto.randomBytes(3).toString('hex')}`;
  const from = thisPc();
  let waitedSince: number | undefined;
  for (;;) {
    const current = await kube.get<Obj>(leasePath(ns));
    const now = io.now();
    const d = decide(op, holderOf(current, now));
    if (d.action === 'refuse') throw new UserFacingError(d.why);
    if (d.action === 'offer-wait') {
      if (waitedSince === undefined) {
        const said = `${cap(holderWords(d.holder))} is running.`;
        if (!o.yes && !io.ask) throw new UserFacingError(`${said} Run this again once it is done, or add --yes to wait for it.`);
        if (!o.yes && !/^y/i.test((await io.ask!(`${said} Wait for it to finish? [y/N] `)).trim())) throw new UserFacingError('Not waiting; nothing was changed.');
        waitedSince = now.getTime();
        io.err('waiting for the nightly backup to finish\n');
      } else if ((now.getTime() - waitedSince) % 15000 < 3000) io.err(`waiting for the nightly backup to finish — ${elapsed(now.getTime() - waitedSince)}\n`);
      await io.sleep(3000);
      continue;
    }
    const dead = d.action === 'take-over' ? holderOf(current, now) : undefined;
    const body = leaseBody(ns, identity, op, from, now, {}, current);
    const r = current
      ? await kube.request<Obj>('PUT', leasePath(ns), body)
      : await kube.request<Obj>('POST', `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`, body);
    if (r.status === 409) continue; // someone else was quicker: look again
    if (r.status === 404) throw new UserFacingError(`homecloud is not installed in namespace "${ns}" of ${kube.context}: there is nothing to ${op === 'nightly' ? 'back up' : op} there.`);
    if (r.status >= 300) throw new ApiError(r.status, `taking the maintenance lock (Lease/${LEASE_NAME})`, r.body);
    if (dead) io.err(`homecloud: ${interruptedWords(dead)}\n`);
    return held(kube, ns, identity, op, from, io, r.body, dead);
  }
}

function held(kube: Kube, ns: string, identity: string, op: Operation, from: string, io: Io, lease: Obj, inherited?: Holder): HeldLock {
  let current = lease;
  let record: { step?: string; detail?: Record<string, string>; undo?: Undo[] } = {};
  let lost: string | undefined;
  // One write at a time: a renewal and a step record must not race for the resourceVersion.
  let chain: Promise<void> = Promise.resolve();
  const write = () => {
    chain = chain.then(async () => {
      if (lost) return;
      const r = await kube.request<Obj>('PUT', leasePath(ns), leaseBody(ns, identity, op, from, io.now(), record, current, current.spec.acquireTime));
      if (r.status < 300) { current = r.body; return; }
      const now = await kube.get<Obj>(leasePath(ns));
      if (now?.spec?.holderIdentity === identity) { current = now; return; }
      lost = now?.spec?.holderIdentity ? holderWords(holderOf(now, io.now())!) : 'nobody (it was removed)';
    }).catch(() => { /* the cluster did not answer this once: the next renewal tries again */ });
    return chain;
  };
  const timer = setInterval(write, Math.max(1000, (leaseSeconds() * 1000) / 3));
  timer.unref();
  LOCK_HOLDER.identity = identity;
  return {
    identity, inherited,
    async record(step, detail, undo) {
      record = { step, detail: detail ?? record.detail, undo: undo ?? record.undo };
      await write();
      if (lost) throw new UserFacingError(`The maintenance lock was taken over while this command could not renew it (the PC slept?): now held by ${lost}. Stopped here; \`npm run status\` says what is running.`);
      await testPause(step);
    },
    async release() {
      clearInterval(timer);
      delete LOCK_HOLDER.identity;
      await chain;
      if (lost) return;
      const r = await kube.request('DELETE', leasePath(ns), { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { resourceVersion: current.metadata.resourceVersion } });
      if (r.status >= 300 && r.status !== 404 && r.status !== 409) io.err(`homecloud: warning: the maintenance lock could not be released (HTTP ${r.status}); it expires by itself within ${leaseSeconds()} s.\n`);
    },
  };
}

/**
 * The tests' pause point: with HOMECLOUD_TEST_PAUSE_AT=STEP the command says "paused at STEP" on
 * stderr once it has recorded that step, and waits there, so a kill lands exactly inside it.
 */
export async function testPause(step: string): Promise<void> {
  if (process.env.HOMECLOUD_TEST_PAUSE_AT !== step) return;
  process.stderr.write(`paused at ${step}\n`);
  await new Promise(() => setInterval(() => undefined, 60_000));
}

/** Backups paused (a restore) or resumed; the CronJob's own switch, which `status` reads too. */
export async function suspendBackups(kube: Kube, ns: string, suspend: boolean): Promise<void> {
  const r = await kube.request<Obj>('PATCH', `/apis/batch/v1/namespaces/${ns}/cronjobs/backup`, { spec: { suspend } }, 'application/merge-patch+json');
  if (r.status >= 300 && r.status !== 404) throw new ApiError(r.status, `${suspend ? 'pausing' : 'resuming'} the nightly backup (CronJob/backup)`, r.body);
}

/** Puts back what a dead holder's record says it changed (Nextcloud stopped, backups paused). */
export async function putBack(kube: Kube, ns: string, dead: Holder, io: Io): Promise<void> {
  if (dead.undo.includes('resume-backups')) {
    await suspendBackups(kube, ns, false);
    io.err('the nightly backup is scheduled again\n');
  }
  if (dead.undo.includes('start-nextcloud')) {
    await scaleNextcloud(kube, ns, 1, io);
    io.err('Nextcloud is starting again\n');
  }
}

/**
 * Runs `work` holding the lock for `op`; released on every way out (a kill leaves the record).
 * What a dead holder left is put back first, except by the restore that finishes its work.
 */
export async function withLock<T>(kube: Kube, ns: string, op: Operation, io: Io, o: { readonly yes: boolean }, work: (lock: HeldLock) => Promise<T>): Promise<T> {
  const lock = await takeLock(kube, ns, op, io, o);
  try {
    if (lock.inherited && op !== 'restore') await putBack(kube, ns, lock.inherited, io);
    await lock.record('started');
    return await work(lock);
  } finally {
    await lock.release();
  }
}

/**
 * For `deploy`, which takes no lock of its own (it only makes the cluster match the project):
 * refuses while another command runs (it would undo what that command changes: the paused
 * backups of a restore, the images of an update) and while a restore cut short left the data
 * half-restored (Nextcloud would start on it). The nightly job does not mind a deploy.
 */
export async function refuseWhileBusy(kube: Kube, ns: string, io: Io): Promise<void> {
  const h = holderOf(await kube.get<Obj>(leasePath(ns)), io.now());
  if (!h || h.operation === 'nightly') return;
  const d = decide('update', h);
  if (d.action === 'refuse') throw new UserFacingError(d.why);
}
