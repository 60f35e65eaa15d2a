import { writeLock } from '../../lib/updates/image-lock';
import { backupNeeded } from '../auto-update';
import { Command } from '../command';
import { withLock } from '../maintenance-lock';
import { commandDeploy } from './deploy';
import { UpdateContext, changeImages, clusterArch } from '../image-change';
import { EXIT, Io } from '../io';
import { Kube } from '../kube';
import { finishCutShort, nightlyUpdate } from '../nightly-update';
import { currentSettings, stateFile, updateContext } from '../project';
import {
  CheckRecord, ImageAnswer, askRegistry, checksFor, formatPlan, lockWith, planUpdate, writeJson,
} from '../updates';
/** `update`: newer builds of the same tags (security fixes), pinned by digest, with a backup first. */
export async function commandUpdate(kube: Kube, ctx: UpdateContext, io: Io, o: { readonly yes: boolean } = { yes: false }, deploy?: () => Promise<number>): Promise<number> {
  const { images, outcomes, lock: pins } = ctx.imageState();
  const checks = checksFor(images, outcomes);
  io.err(`asking the image registries about ${checks.filter((c) => !c.fixed).length} images\n`);
  const plan = planUpdate(await askRegistry(ctx.registry, checks, () => clusterArch(kube)));
  if (plan.failed.length) {
    io.out(formatPlan(plan));
    const offline = plan.failed.every((f) => f.error!.problem === 'unreachable');
    io.out(offline ? 'The image registry could not be reached (is this PC offline?). Nothing was changed.\n'
      : 'Not every image could be checked (see above). Nothing was changed; try again later.\n');
    return EXIT.COULD_NOT_RUN;
  }
  // (Each new build's version came with the registry's proof of it: see askRegistry.)
  const changes: ImageAnswer[] = plan.changes;
  io.out(formatPlan({ ...plan, changes }));
  const record: CheckRecord = { checkedAt: io.now().toISOString(), waiting: changes.map((c) => ({ tag: c.tag, ...(c.version ? { version: c.version } : {}), digest: c.to })) };
  writeJson(ctx.checkFile, record);
  if (changes.length === 0) {
    // An update cut short after the lock file pinned the new images: they are deployed now.
    const finished = deploy && !ctx.dryRun ? await finishCutShort(kube, ctx, io, o, deploy) : undefined;
    if (finished !== undefined) return finished;
    io.out('Everything is up to date.\n');
    return EXIT.OK;
  }
  if (ctx.dryRun) {
    io.out(`${changes.length} update(s) waiting. \`npm run update\` installs them, with a backup first.\n`);
    return EXIT.OK;
  }
  const after = lockWith(pins, changes, io.now());
  if (!(await kube.get(`/api/v1/namespaces/${ctx.namespace}`))) {
    writeLock(ctx.lockFile, after);
    writeJson(ctx.checkFile, { ...record, waiting: [] });
    io.out(`Pinned in ${ctx.lockFile}. homecloud is not installed here yet: \`npm run deploy\` installs exactly these images.\n`);
    return EXIT.OK;
  }
  // The maintenance lock only now: a check that finds nothing new needs no cluster at all.
  const { ready, snapshot } = await withLock(kube, ctx.namespace, 'update', io, o, (lock) => changeImages(kube, ctx, io, {
    command: 'update', before: pins, after, description: `update of ${changes.map((c) => c.tag).join(', ')}`, lock, backup: backupNeeded(changes),
  }));
  writeJson(ctx.checkFile, { ...record, waiting: [] });
  if (!ready) {
    io.out(`The new images are deployed but the home cloud is not healthy yet. \`npm run status\` explains what each part is doing.\n`
      + `To go back to the images from before (and the data of backup ${snapshot ?? 'taken just before'}): npm run rollback\n`);
    return EXIT.UNHEALTHY;
  }
  io.out(`Updated ${changes.length} image(s); the home cloud is healthy. Going back is one command: npm run rollback\n`);
  return EXIT.OK;
}

export const updateCommand: Command = {
  name: 'update',
  description: 'security fixes now (a nightly task does it by itself): ask the registries for newer builds of the images in use, back up when Nextcloud changes, deploy them pinned by digest (images.lock.json); --dry-run only checks',
  options: {
    auto: { type: 'boolean', description: 'update: the nightly run (the PC\'s scheduled task): only after a good nightly backup, and back to the images from before by itself if the new ones do not become healthy' },
  },
  // (It takes the maintenance lock itself, once it has something to change.)
  run: (kube, o, io) => {
    const deploy = () => commandDeploy(kube, { ...o, output: 'text' }, io);
    if (!o.auto) return commandUpdate(kube, updateContext(o, io), io, o, deploy);
    const { updates, adminUser } = currentSettings();
    const health = o.timeoutSeconds ?? updates.healthTimeoutSeconds;
    // (A night finishing one cut short waits for health as long as a night does.)
    return nightlyUpdate(kube, { ...updateContext({ ...o, yes: true }, io), healthTimeoutSeconds: health },
      io, { ...updates, adminUser, recordFile: stateFile('auto-update.json') }, () => commandDeploy(kube, { ...o, output: 'text', timeoutSeconds: health }, io));
  },
};
