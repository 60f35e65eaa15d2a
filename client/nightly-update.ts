import { UserFacingError } from '../lib/config/errors';
import {
  AutoUpdateRecord, NightGate, backupNeeded, boundWords, nightGate, notRefused, notification, outcomeRecord,
} from './auto-update';
import { readState } from './cluster-state';
import { commandRollback } from './commands/rollback';
import { UpdateContext, changeImages, clusterArch, cutShort, occ } from './image-change';
import { EXIT, Io } from './io';
import { Kube } from './kube';
import { cap } from './maintenance';
import { HeldLock, withLock } from './maintenance-lock';
import { jobsOfCronJob } from './previews';
import { backupReport } from './status';
import { CheckRecord, ImageAnswer, RollbackPoint, askRegistry, checksFor, lockWith, planUpdate, readJson, writeJson } from './updates';
import { readLock } from '../lib/updates/image-lock';
import { notReady } from './apply';
import { collectionPath } from './kinds';

// Kubernetes objects are open-ended JSON, as in the rest of the client.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;
/** The backup's (or the thumbnail job's) own longest run by default: a night never waits longer. */
const WAIT_FOR_BACKUP_MS = 3 * 3600_000;

/** What the night needs besides the update context: main.ts's `updates` and where it keeps its record. */
export interface NightlySettings {
  readonly automatic: boolean;
  readonly healthTimeoutSeconds: number;
  readonly adminUser: string;
  /** .homecloud/auto-update.json (status reads it). */
  readonly recordFile: string;
}

/**
 * `update --auto`, the PC's scheduled task each night: new builds of the pinned tags (never a
 * new major), only after a good nightly backup and while nothing else holds the maintenance
 * lock; the images from before go back by themselves when the new ones do not become healthy
 * within updates.healthTimeout. Every night's outcome is recorded for status, and an install
 * or a rollback is told to Nextcloud's administrator.
 */
export async function nightlyUpdate(kube: Kube, ctx: UpdateContext, io: Io, s: NightlySettings, deploy: () => Promise<number>): Promise<number> {
  if (!s.automatic) {
    io.out('Automatic updates are off (main.ts: updates.automatic is false); nothing was checked. `npm run update` installs new builds by hand.\n');
    return EXIT.OK;
  }
  const before = readJson<AutoUpdateRecord>(s.recordFile);
  const note = (result: AutoUpdateRecord['result'], words: string, code: number = EXIT.OK) => {
    recordNight(s, io, { at: io.now().toISOString(), result, words, refused: before?.refused ?? [] });
    return code;
  };
  // A night cut short (the PC switched off) is finished first; new builds wait for the next night.
  if (!ctx.dryRun) {
    const finished = await finishCutShort(kube, ctx, io, { yes: true }, deploy, async (r) => {
      const all = { ...r, refused: [...(before?.refused ?? []), ...r.refused] };
      recordNight(s, io, all);
      await tellAdministrator(kube, ctx.namespace, io, s.adminUser, all);
    });
    if (finished !== undefined) return finished;
  }
  const { images, outcomes, lock: pins } = ctx.imageState();
  const plan = planUpdate(await askRegistry(ctx.registry, checksFor(images, outcomes), () => clusterArch(kube)));
  if (plan.failed.length) {
    return note('skipped', `not checked tonight: ${plan.failed.map((f) => `${f.tag}: ${f.error!.message}`).join('; ')}; nothing was changed, the next night tries again`, EXIT.COULD_NOT_RUN);
  }
  writeJson(ctx.checkFile, { checkedAt: io.now().toISOString(), waiting: plan.changes.map((c) => ({ tag: c.tag, ...(c.version ? { version: c.version } : {}), digest: c.to })) });
  const { install, refused } = notRefused(plan.changes, before);
  if (install.length === 0) {
    return note('up to date', refused.length
      ? `no new builds besides ${refused.map((c) => c.tag).join(', ')}, which a night took back before (npm run update installs them by hand)`
      : 'no new builds of the images in use');
  }
  if (ctx.dryRun) {
    io.out(`Tonight's run would install new builds of ${install.map((c) => c.tag).join(', ')} (after a good backup). Nothing was changed.\n`);
    return EXIT.OK;
  }
  if (!(await kube.get(`/api/v1/namespaces/${ctx.namespace}`))) return note('skipped', `homecloud is not installed in namespace "${ctx.namespace}"; nothing was changed`);
  let started = false;
  try {
    // With yes: a running nightly backup is waited for (the update comes after it); any other
    // holder (a restore, an upgrade, a command in another window) refuses, and the night waits.
    return await withLock(kube, ctx.namespace, 'update', io, { yes: true }, (lock) => {
      started = true;
      return installTonight(kube, ctx, io, s, { install, pins, before, lock });
    });
  } catch (e) {
    const why = (e instanceof Error ? e.message : String(e)).replace(/\.$/, '');
    if (!started && e instanceof UserFacingError) return note('skipped', `not tonight: ${why}. The next night tries again`);
    // Stopped midway (the backup before it failed, the cluster stopped answering): status tells.
    note('failed', `tonight's update stopped: ${why}`, EXIT.COULD_NOT_RUN);
    if (e instanceof UserFacingError) return EXIT.COULD_NOT_RUN;
    throw e;
  }
}

/** Under the lock: the backup gate, the change, the wait, and the way back when health does not come. */
async function installTonight(kube: Kube, ctx: UpdateContext, io: Io, s: NightlySettings, n: {
  install: ImageAnswer[]; pins: ReturnType<UpdateContext['imageState']>['lock']; before?: AutoUpdateRecord; lock: HeldLock;
}): Promise<number> {
  const gate = await afterTheBackup(kube, ctx.namespace, io, backupNeeded(n.install));
  if (!gate.go) {
    recordNight(s, io, { at: io.now().toISOString(), result: 'skipped', words: `not tonight: ${gate.why}`, refused: n.before?.refused ?? [] });
    return EXIT.OK;
  }
  const healthSeconds = ctx.healthTimeoutSeconds ?? s.healthTimeoutSeconds;
  const { ready } = await changeImages(kube, ctx, io, {
    command: 'update', before: n.pins, after: lockWith(n.pins, n.install, io.now()), lock: n.lock, backup: backupNeeded(n.install),
    description: `automatic update of ${n.install.map((c) => c.tag).join(', ')}`,
  });
  let rollbackOk = true;
  if (!ready) {
    io.err(`the new builds did not become healthy within ${boundWords(healthSeconds)}: going back to the images from before\n`);
    await n.lock.record('going back');
    rollbackOk = await rollBackNow(kube, ctx, io) === EXIT.OK;
  }
  const r = outcomeRecord(io.now(), n.install, ready, healthSeconds, n.before, rollbackOk);
  recordNight(s, io, r);
  // Installed builds no longer wait; taken-back ones still do (`npm run update` installs them by hand).
  const check = readJson<CheckRecord>(ctx.checkFile);
  if (check && ready) writeJson(ctx.checkFile, { ...check, waiting: check.waiting.filter((w) => !n.install.some((c) => c.tag === w.tag && c.to === w.digest)) });
  await tellAdministrator(kube, ctx.namespace, io, s.adminUser, r);
  return ready ? EXIT.OK : EXIT.UNHEALTHY;
}

/**
 * The backup gate, once the maintenance lock is held: a backup still running without the lock
 * (its pod could not reach the API server) is waited for, with progress, up to its own limit;
 * and when Nextcloud's image changes, a thumbnail run too (it runs Nextcloud's code against the
 * database a new Nextcloud migrates; its own time limit bounds the wait).
 */
async function afterTheBackup(kube: Kube, ns: string, io: Io, nextcloudChanges: boolean): Promise<NightGate> {
  const start = io.now().getTime();
  for (let said = 0; ; ) {
    const state = await readState(kube, ns, io);
    let gate = nightGate(backupReport(state), io.now());
    if (gate.go && nextcloudChanges && jobsOfCronJob(state.jobs, 'previews').some((j) => (j.status?.active ?? 0) > 0)) {
      gate = { go: false, wait: true, why: 'the thumbnail job is still running' };
    }
    const spent = io.now().getTime() - start;
    if (gate.go || !gate.wait || spent > WAIT_FOR_BACKUP_MS) return gate;
    if (spent >= said) {
      io.err(`waiting: ${gate.why} — ${Math.round(spent / 60000)} min\n`);
      said = spent + 60_000;
    }
    await io.sleep(15_000);
  }
}

/**
 * An update cut short after it pinned images (the PC switched off, the window closed) is
 * finished by the next update: by deploying what images.lock.json pins, or, when it was going
 * back from builds that never became healthy, by going back. With `takenBack` (the nightly
 * run) a deploy that does not become healthy goes back too, and what went back is recorded so
 * that no night tries it again. undefined: nothing was cut short.
 */
export async function finishCutShort(kube: Kube, ctx: UpdateContext, io: Io, o: { readonly yes: boolean }, deploy: () => Promise<number>,
  takenBack?: (r: AutoUpdateRecord) => Promise<void>): Promise<number | undefined> {
  const how = await cutShort(kube, ctx.namespace, io);
  if (!how) return undefined;
  return withLock(kube, ctx.namespace, 'update', io, o, async () => {
    if (how === 'deploy') {
      io.err('finishing it: deploying the images images.lock.json pins\n');
      const code = await deploy();
      if (code === EXIT.OK || !takenBack) return code;
    } else {
      // Became healthy after all (it only needed longer): going back now would take away what the
      // family added since, with the data of the backup before it. It stays.
      const deployments = await kube.list<Obj>(collectionPath('Deployment', ctx.namespace));
      if (deployments.length > 0 && notReady(deployments).length === 0) {
        io.err('finishing it: the new builds became healthy after all, so they stay\n');
        return EXIT.OK;
      }
    }
    return goBack(kube, ctx, io, takenBack ?? (async () => undefined));
  });
}

/** Back to the images (and data) from before a night's builds that did not become healthy, recorded as taken back. */
async function goBack(kube: Kube, ctx: UpdateContext, io: Io, takenBack: (r: AutoUpdateRecord) => Promise<void>): Promise<number> {
  io.err('finishing it: going back to the images from before\n');
  const pinned = readLock(ctx.lockFile)?.images ?? {};
  const back = readJson<RollbackPoint>(ctx.rollbackFile)?.lock?.images ?? {};
  const code = await rollBackNow(kube, ctx, io);
  const refused = Object.values(pinned).filter((p) => p && !Object.values(back).some((b) => b?.digest === p.digest)).map((p) => `${p!.tag}@${p!.digest}`);
  await takenBack({ at: io.now().toISOString(), result: code === EXIT.OK ? 'rolled back' : 'failed', refused,
    words: `an update cut short (the PC switched off?) left builds that did not become healthy (${refused.map((r) => r.split('@')[0]).join(', ') || 'none'}); `
      + (code === EXIT.OK ? 'the images from before run again' : 'going back did not finish: npm run status says what each part does; npm run rollback tries again') });
  return code;
}

/**
 * `npm run rollback` without its question. It waits as long as a rollback by hand (the old
 * images start as they always did), not the night's bound for the new ones.
 */
function rollBackNow(kube: Kube, ctx: UpdateContext, io: Io): Promise<number> {
  return commandRollback(kube, { ...ctx, healthTimeoutSeconds: undefined, timeoutSeconds: undefined, confirm: async () => undefined }, io);
}

/** A night's outcome: kept for status and the next night (.homecloud/auto-update.json), and said. */
function recordNight(s: NightlySettings, io: Io, r: AutoUpdateRecord): void {
  writeJson(s.recordFile, r);
  io.out(`${cap(r.words)}.\n`);
}

/** A notification in Nextcloud's bell for the administrator (the notifications app, shipped with Nextcloud). */
async function tellAdministrator(kube: Kube, ns: string, io: Io, user: string, r: AutoUpdateRecord): Promise<void> {
  const n = notification(r);
  if (!n) return;
  const out = await occ(kube, ns, ['notification:generate', user, n.subject, '-l', n.message]);
  if (out === undefined) io.err(`could not leave a notification for ${user} in Nextcloud (it did not answer); npm run status shows tonight's outcome\n`);
}
