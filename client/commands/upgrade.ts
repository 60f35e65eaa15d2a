import { UserFacingError } from '../../lib/config/errors';
import { imageMajor } from '../../lib/config/checks';
import { ImageLock, LockedImage, tagOf, withMajor } from '../../lib/updates/image-lock';
import { applyManifests, containerImage, readLive, waitReady } from '../apply';
import { Command, Options } from '../command';
import { UpdateContext, changeImages, clusterArch, nextcloudStatus, occ, restoreLock, synthWithLock } from '../image-change';
import { EXIT, Io } from '../io';
import { backupFailure, backupSummary, followJob, jobFromCronJob, podsOf, runJob, scaleNextcloud, terminationMessage } from '../jobs';
import { Kube } from '../kube';
import { HeldLock } from '../maintenance-lock';
import { kubectlExec } from '../offsite';
import { elapsed } from '../progress';
import { stateFile, updateContext } from '../project';
import { KEEP_OLD_MAJOR_DAYS } from '../../lib/database/postgres-config';
import { Registry, RegistryError } from '../registry';
import {
  NextcloudStatus, PostgresMove, RollbackPoint, majorOfVersion, readJson, writeJson,
} from '../updates';
// Kubernetes objects are open-ended JSON, as in the rest of the client.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;
/** The newest major published after `from`: asks for each next tag until one is missing. */
async function newestMajor(registry: Registry, current: string, from: number): Promise<number> {
  let newest = from;
  for (let m = from + 1; m <= from + 5; m++) {
    try {
      await registry.digestOf(withMajor(current, m));
      newest = m;
    } catch (e) {
      if (e instanceof RegistryError && e.problem === 'not-found') break;
      throw e;
    }
  }
  return newest;
}

/** The apps the family added (not shipped with Nextcloud), as occ lists them; undefined when occ cannot tell. */
async function addedApps(kube: Kube, ns: string): Promise<string[] | undefined> {
  const out = await occ(kube, ns, ['app:list', '--shipped=false', '--output=json']);
  if (out === undefined) return undefined;
  try {
    return Object.keys(JSON.parse(out.slice(out.indexOf('{'))).enabled ?? {}).sort();
  } catch {
    return undefined;
  }
}

/**
 * Which of `apps` have no release for Nextcloud `major` in the app store; undefined when the
 * store cannot tell (offline, or the major is too new to have any app listed yet).
 */
export async function appsWithoutRelease(store: string, major: number, apps: string[], timeoutMs = 15_000): Promise<string[] | undefined> {
  try {
    const res = await fetch(`${store.replace(/\/+$/, '')}/api/v1/platform/${major}.0.0/apps.json`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return undefined;
    const listed = await res.json() as Array<{ id?: string }>;
    if (!Array.isArray(listed) || listed.length === 0) return undefined;
    const ids = new Set(listed.map((a) => a.id));
    return apps.filter((a) => !ids.has(a));
  } catch {
    return undefined;
  }
}

/**
 * Refuses (unless --force) when the app store says an app the family uses has no release for a
 * major on the way; warns when it cannot tell. Nextcloud itself would disable such an app
 * during the upgrade, and a calendar or contacts app vanishing is worse than waiting.
 */
async function checkApps(kube: Kube, ctx: UpdateContext, io: Io, from: number, target: number): Promise<void> {
  const apps = await addedApps(kube, ctx.namespace);
  if (apps === undefined) {
    io.err('homecloud: warning: Nextcloud did not list its apps, so their support for the new version is not checked.\n');
    return;
  }
  if (apps.length === 0) return;
  for (let m = from + 1; m <= target; m++) {
    const missing = await appsWithoutRelease(ctx.appStore, m, apps);
    if (missing === undefined) {
      io.err(`homecloud: warning: the Nextcloud app store did not say which apps support Nextcloud ${m}; if one of ${apps.join(', ')} does not, `
        + 'Nextcloud disables it during the upgrade until it has a release for the new version.\n');
    } else if (missing.length) {
      const why = `The app store has no release of ${missing.join(', ')} for Nextcloud ${m}: the upgrade would disable ${missing.length === 1 ? 'it' : 'them'}.`;
      if (!ctx.force) throw new UserFacingError(`Not upgrading: ${why} Wait until ${missing.length === 1 ? 'it supports' : 'they support'} ${m} (try again later), or add --force to upgrade anyway. Nothing was changed.`);
      io.err(`homecloud: warning: ${why}\n`);
    }
  }
}

/** `upgrade`: Nextcloud majors one at a time, each with a backup first, stopping at the first failure. */
export async function commandUpgrade(kube: Kube, ctx: UpdateContext, io: Io, to: number | undefined, held?: HeldLock): Promise<number> {
  const ns = ctx.namespace;
  if (!(await kube.get(`/api/v1/namespaces/${ns}`))) throw new UserFacingError(`homecloud is not installed in namespace ${ns}: nothing to upgrade (npm run deploy installs it).`);
  const { outcomes, lock } = ctx.imageState();
  const pin = outcomes.nextcloud;
  if (pin.kind === 'as-set' && pin.why === 'digest-in-settings') {
    throw new UserFacingError(`images.nextcloud in main.ts names a digest (${pin.image}): upgrades are yours to make by hand there. Remove the digest to let \`npm run upgrade\` choose.`);
  }
  const running = await nextcloudStatus(kube, ns);
  const from = running ? majorOfVersion(running.versionstring) : undefined;
  if (!running || from === undefined) {
    throw new UserFacingError('Nextcloud did not say which version it runs (it is not running or not ready): `npm run status` explains why. Nothing was changed.');
  }
  if (running.needsDbUpgrade || running.maintenance) {
    throw new UserFacingError(`Nextcloud ${running.versionstring} is ${running.maintenance ? 'in maintenance mode' : 'waiting for its own upgrade step'}: `
      + 'wait until `npm run status` says healthy, then upgrade. Nothing was changed.');
  }
  const current = tagOf(pin.image);
  let target: number;
  try {
    target = to ?? await newestMajor(ctx.registry, current, from);
  } catch (e) {
    if (e instanceof RegistryError) throw new UserFacingError(`Could not ask which Nextcloud versions exist: ${e.message}. Nothing was changed.`);
    throw e;
  }
  if (target < from) throw new UserFacingError(`Nextcloud ${running.versionstring} runs now; it cannot go back to ${target}. (To undo the last upgrade: npm run rollback.)`);
  if (target === from) {
    io.out(`Nextcloud ${running.versionstring} is the newest major there is${to ? '' : ' (npm run update installs its maintenance releases)'}.\n`);
    return EXIT.OK;
  }
  await checkApps(kube, ctx, io, from, target);
  io.out(`Upgrading Nextcloud ${running.versionstring} to ${target}: ${target - from} step(s), one major at a time, each with a backup first.\n`);
  await ctx.confirm('Nextcloud is unavailable for a few minutes during each step.', 'upgrade');
  let before = lock;
  for (let m = from + 1; m <= target; m++) {
    const tag = withMajor(current, m);
    let digest: string;
    let version: string | undefined;
    try {
      ({ digest, version } = await ctx.registry.resolve(tag, await clusterArch(kube)));
    } catch (e) {
      if (!(e instanceof RegistryError)) throw e;
      io.out(`Stopped before Nextcloud ${m}: ${e.message}. Nextcloud ${m - 1} runs as before.\n`);
      return m === from + 1 ? EXIT.COULD_NOT_RUN : EXIT.UNHEALTHY;
    }
    const entry: LockedImage = { tag, digest, ...(version ? { version } : {}), pinnedAt: io.now().toISOString() };
    const after: ImageLock = { lockfileVersion: 1, images: { ...(before?.images ?? {}), nextcloud: entry } };
    io.err(`step ${m - 1} → ${m}\n`);
    const step = await changeImages(kube, ctx, io, { command: 'upgrade', before, after, description: `upgrade of Nextcloud ${m - 1} to ${m}`, wait: false, lock: held });
    const timeoutMs = (ctx.timeoutSeconds ?? 1800) * 1000;
    const reached = await waitForMajor(kube, ns, m, io, timeoutMs);
    const ready = 'status' in reached && await waitReady(kube, ns, timeoutMs, io);
    if (!ready) {
      const why = 'crashed' in reached
        ? `Nextcloud ${m} keeps crashing while it starts${reached.crashed.length ? `; its last words:\n${reached.crashed.map((l) => `    | ${l}`).join('\n')}\n` : ' '}`
        : 'status' in reached ? 'the home cloud did not become healthy ' : `Nextcloud did not report version ${m} `;
      io.out(`The upgrade to Nextcloud ${m} failed: ${why}(\`npm run status\` and \`kubectl logs -n ${ns} deploy/nextcloud -c nextcloud\` show more).\n`
        + `Your files and database are safe in backup ${step.snapshot ?? 'taken just before this step'}. `
        + `To go back to Nextcloud ${m - 1} with that backup: npm run rollback\n`);
      return EXIT.UNHEALTHY;
    }
    io.err(`Nextcloud ${reached.status.versionstring} is running\n`);
    before = after;
  }
  io.out(`Nextcloud is upgraded to ${target}. To undo the last step: npm run rollback\n`);
  return EXIT.OK;
}

/** The last lines of a Nextcloud container that keeps crashing, or undefined while none does. */
async function crashLoop(kube: Kube, ns: string): Promise<string[] | undefined> {
  for (const p of await podsOf(kube, ns, 'web', false)) {
    const c = (p.status?.containerStatuses ?? []).find((x: Obj) => x.name === 'nextcloud' && x.state?.waiting?.reason === 'CrashLoopBackOff');
    if (!c) continue;
    const r = await kube.request<string>('GET', `/api/v1/namespaces/${ns}/pods/${p.metadata.name}/log?container=nextcloud&previous=true&tailLines=6`);
    return r.status === 200 && typeof r.body === 'string' ? r.body.trimEnd().split('\n').filter(Boolean) : [];
  }
  return undefined;
}

/**
 * Waits until occ reports the major (the image's entrypoint runs the upgrade on start), and
 * gives up at once when the new Nextcloud keeps crashing instead of at the timeout.
 */
async function waitForMajor(kube: Kube, ns: string, major: number, io: Io, timeoutMs: number): Promise<{ status: NextcloudStatus } | { crashed: string[] } | { timedOut: true }> {
  const start = io.now().getTime();
  for (;;) {
    const s = await nextcloudStatus(kube, ns);
    if (s && majorOfVersion(s.versionstring) === major && !s.needsDbUpgrade && !s.maintenance) return { status: s };
    const crashed = await crashLoop(kube, ns);
    if (crashed) return { crashed };
    const spent = io.now().getTime() - start;
    if (spent >= timeoutMs) return { timedOut: true };
    io.err(`waiting for Nextcloud to finish upgrading to ${major} (it reports ${s?.versionstring ?? 'nothing yet'}) — ${elapsed(spent)}\n`);
    await io.sleep(5000);
  }
}

/**
 * `upgrade --postgres N`: Nextcloud stopped, a verified backup, the new major's folder filled
 * beside the old one and compared row by row (the database-upgrade Job), then the switch. The
 * old major's folder stays KEEP_OLD_MAJOR_DAYS for `rollback`; a failure before the switch
 * leaves the old server as it was.
 */
/** Whether the database has a move to make from `from` to `target`; refuses the moves it cannot make. */
function moveNeeded(from: number | undefined, target: number, io: Io): from is number {
  if (from === undefined) throw new UserFacingError('The database is not deployed, so its PostgreSQL version is unknown: run `npm run deploy` first.');
  if (target < from) throw new UserFacingError(`PostgreSQL ${from} runs now; its data cannot go back to ${target}. (To undo the last move: npm run rollback.)`);
  if (target === from) {
    io.out(`The database already runs PostgreSQL ${from}.\n`);
    return false;
  }
  if (from < 18) {
    throw new UserFacingError(`PostgreSQL ${from} keeps its data where a second major cannot sit beside it. Move to 18 by hand first `
      + '(README, "PostgreSQL older than 18"); from 18 on, this command does it.');
  }
  return true;
}

export async function commandUpgradePostgres(kube: Kube, ctx: UpdateContext, io: Io, target: number, held?: HeldLock): Promise<number> {
  const ns = ctx.namespace;
  if (!(await kube.get(`/api/v1/namespaces/${ns}`))) throw new UserFacingError(`homecloud is not installed in namespace ${ns}: nothing to upgrade (npm run deploy installs it).`);
  const live = await readLive(kube, ns);
  const running = containerImage(live.owned, 'database', 'postgres');
  const from = running ? imageMajor(running) : undefined;
  if (!moveNeeded(from, target, io)) return EXIT.OK;
  const { outcomes, lock } = ctx.imageState();
  const pin = outcomes.postgres;
  if (pin.kind === 'as-set' && pin.why === 'digest-in-settings') {
    throw new UserFacingError(`images.postgres in main.ts names a digest (${pin.image}): remove the digest to let \`npm run upgrade\` choose the image.`);
  }
  const tag = withMajor(tagOf(pin.image), target);
  let digest: string;
  let version: string | undefined;
  try {
    ({ digest, version } = await ctx.registry.resolve(tag, await clusterArch(kube)));
  } catch (e) {
    if (e instanceof RegistryError) throw new UserFacingError(`${e.problem === 'not-found' ? `PostgreSQL ${target} is not published (as ${tag})` : e.message}. Nothing was changed.`);
    throw e;
  }
  await ctx.confirm(`This moves the database from PostgreSQL ${from} to ${target}. Nextcloud is stopped while it is copied (minutes for a family's `
    + `database); PostgreSQL ${from}'s data stays on the volume for ${14} days, so \`npm run rollback\` can go back.`, 'upgrade');
  const after: ImageLock = { lockfileVersion: 1, images: { ...(lock?.images ?? {}), postgres: { tag, digest, ...(version ? { version } : {}), pinnedAt: io.now().toISOString() } } };
  const nextcloudImage = containerImage(live.owned, 'nextcloud', 'nextcloud');
  const timeoutMs = (ctx.timeoutSeconds ?? 6 * 3600) * 1000;
  // Recorded in the maintenance lock before each step: a run cut short says where it stopped,
  // and whatever comes next starts Nextcloud again (or this command, run again, finishes it).
  await held?.record('stopping Nextcloud', { postgres: String(target) }, ['start-nextcloud']);
  await scaleNextcloud(kube, ns, 0, io);
  try {
    await held?.record('backing up', { postgres: String(target) }, ['start-nextcloud']);
    io.err('taking a backup before anything changes (it is what `npm run rollback` goes back to)\n');
    const backup = await runJob(kube, ns, 'backup', 'backup-before-postgres', io, { timeoutMs });
    const summary = backupSummary(backup.pods);
    if (!backup.succeeded) {
      const why = backupFailure(backup);
      throw new UserFacingError(`The backup before the move failed${why ? ` (${why})` : ''}, so nothing was changed. `
        + '`npm run status` explains the backup; try again once it works.');
    }
    const m = synthWithLock(ctx, after, lock);
    const template = m.objects.find((o) => o.kind === 'CronJob' && o.metadata.name === 'database-upgrade');
    const stamp = io.now().toISOString().replace(/[-:T]/g, '').slice(0, 14);
    const job = jobFromCronJob(template, `database-upgrade-${stamp}`);
    const created = await kube.request<Obj>('POST', `/apis/batch/v1/namespaces/${ns}/jobs`, job);
    if (created.status >= 300) {
      restoreLock(ctx.lockFile, lock);
      ctx.synth();
      throw new UserFacingError(`Kubernetes refused the database copy (HTTP ${created.status}); nothing was changed.`);
    }
    await held?.record('copying the database', { postgres: String(target), job: job.metadata.name }, ['start-nextcloud']);
    io.err(`copying the database into PostgreSQL ${target} (${job.metadata.name})\n`);
    const copy = await followJob(kube, ns, job.metadata.name, io, timeoutMs);
    const said = terminationMessage(copy.pods, 'upgrade');
    if (!copy.succeeded) {
      restoreLock(ctx.lockFile, lock);
      ctx.synth();
      io.out(`The copy into PostgreSQL ${target} failed${said ? `: ${said}` : ''}. Nothing was switched: PostgreSQL ${from} runs as before, `
        + `with all the data. Details: kubectl logs -n ${ns} job/${job.metadata.name}\n`);
      return EXIT.UNHEALTHY;
    }
    writeJson(ctx.rollbackFile, {
      createdAt: io.now().toISOString(), command: 'upgrade-postgres', lock: lock ?? null, snapshot: summary?.snapshot, nextcloudImage,
      description: `move of the database from PostgreSQL ${from} to ${target}`,
    } satisfies RollbackPoint);
    // The guard would refuse a major change; the copy just made is what makes this one safe.
    await held?.record('switching to the new PostgreSQL', { postgres: String(target) }, ['start-nextcloud']);
    await applyManifests(kube, m, live, { dryRun: false }, io);
    // For status: the earlier major's folder is kept beside the new one (tidy-old-majors.sh).
    writeJson(stateFile('postgres-move.json'), { at: io.now().toISOString(), from, to: target } satisfies PostgresMove);
  } finally {
    await scaleNextcloud(kube, ns, 1, io);
  }
  const ready = await waitReady(kube, ns, (ctx.timeoutSeconds ?? 1800) * 1000, io);
  io.out(`The database runs PostgreSQL ${target}${version ? ` (${version})` : ''}. PostgreSQL ${from}'s data stays on the volume for ${KEEP_OLD_MAJOR_DAYS} days `
    + '(npm run rollback goes back to it; `npm run upgrade -- --confirm` frees the space now). '
    + (ready ? 'The home cloud is healthy.\n' : 'It is not healthy yet: `npm run status` explains.\n'));
  return ready ? EXIT.OK : EXIT.UNHEALTHY;
}

/** `upgrade --confirm`: the move went well; remove the older majors' data folders now. */
export async function commandConfirmPostgres(kube: Kube, ctx: UpdateContext, io: Io): Promise<number> {
  const ns = ctx.namespace;
  const live = await readLive(kube, ns);
  const running = containerImage(live.owned, 'database', 'postgres');
  const major = running ? imageMajor(running) : undefined;
  if (major === undefined) throw new UserFacingError('The database is not deployed: nothing to confirm.');
  const pods = await podsOf(kube, ns, 'database', true);
  if (!pods[0]) throw new UserFacingError('The database is not running: start it (npm run deploy) and confirm again.');
  await ctx.confirm(`This deletes the data of every PostgreSQL major but ${major} from the database volume; after it, \`npm run rollback\` `
    + 'can no longer go back to before the move.', 'confirm');
  const out = await kubectlExec(kube, ns, pods[0].metadata.name,
    ['env', 'DATA_ROOT=/var/lib/postgresql', `PG_MAJOR_IN_USE=${major}`, 'REMOVE_NOW=1', 'sh', '/homecloud/tidy-old-majors.sh'], { container: 'postgres' });
  const removed = out.split('\n').filter((l) => /removed/.test(l)).length;
  io.out(removed ? `Removed the data of ${removed} older PostgreSQL major(s); PostgreSQL ${major} keeps running.\n` : 'There was no older PostgreSQL data to remove.\n');
  // Status stops telling of the kept folder, and rollback no longer offers to go back to it.
  const confirmedAt = io.now().toISOString();
  const move = readJson<PostgresMove>(stateFile('postgres-move.json'));
  if (move) writeJson(stateFile('postgres-move.json'), { ...move, confirmedAt } satisfies PostgresMove);
  const point = readJson<RollbackPoint>(ctx.rollbackFile);
  if (point?.command === 'upgrade-postgres') writeJson(ctx.rollbackFile, { ...point, confirmedAt } satisfies RollbackPoint);
  return EXIT.OK;
}

/** upgrade takes one of --major N, --postgres N or --confirm at a time. */
function commandUpgradeAny(kube: Kube, o: Options, io: Io, held?: HeldLock): Promise<number> {
  if ([o.major !== undefined, o.postgres !== undefined, o.confirm].filter(Boolean).length > 1) {
    throw new UserFacingError('upgrade takes one of --major N, --postgres N or --confirm at a time');
  }
  if (o.confirm) return commandConfirmPostgres(kube, updateContext(o, io), io);
  if (o.postgres !== undefined) return commandUpgradePostgres(kube, updateContext(o, io), io, o.postgres, held);
  return commandUpgrade(kube, updateContext(o, io), io, o.major, held);
}

export const upgradeCommand: Command = {
  name: 'upgrade',
  description: 'Nextcloud to the newest major (or --major N), one major at a time, each step with a backup first; --postgres N moves the database to PostgreSQL N; --confirm then frees the old one\'s space',
  options: {
    major: { type: 'string', value: 'N', description: 'upgrade: stop at this Nextcloud major (default: the newest)' },
    postgres: { type: 'string', value: 'N', description: 'upgrade: move the database to this PostgreSQL major' },
    confirm: { type: 'boolean', description: 'upgrade: the PostgreSQL move went well; delete the old data now' },
  },
  lock: () => 'upgrade',
  run: commandUpgradeAny,
};
