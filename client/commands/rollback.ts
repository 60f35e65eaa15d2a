import * as fs from 'fs';
import { UserFacingError } from '../../lib/config/errors';
import { imageMajor } from '../../lib/config/checks';
import { readLock } from '../../lib/updates/image-lock';
import { applyManifests, containerImage, readLive, waitReady } from '../apply';
import { Command } from '../command';
import { UpdateContext, synthWithLock } from '../image-change';
import { EXIT, Io } from '../io';
import { runJob, scaleNextcloud } from '../jobs';
import { Kube } from '../kube';
import { stateFile, updateContext } from '../project';
import {
  RollbackPoint, readJson, } from '../updates';
/**
 * `rollback`: the images from before the last update or upgrade step and, when Nextcloud's
 * image changed (its start migrates the database, and it refuses older code on newer data),
 * the files and database of the backup taken just before.
 */
export async function commandRollback(kube: Kube, ctx: UpdateContext, io: Io): Promise<number> {
  const point = readJson<RollbackPoint>(ctx.rollbackFile);
  if (!point) {
    io.out('Nothing to roll back: no update or upgrade was made from this PC since the last rollback.\n');
    return EXIT.OK;
  }
  if (point.confirmedAt) {
    throw new UserFacingError(`The ${point.description} was confirmed on ${point.confirmedAt.slice(0, 10)} (npm run upgrade -- --confirm), which deleted the earlier `
      + 'PostgreSQL\'s data: there is nothing to go back to. Nothing was changed; `npm run restore` brings back a backup instead.');
  }
  const ns = ctx.namespace;
  const live = await readLive(kube, ns);
  const nowImage = containerImage(live.owned, 'nextcloud', 'nextcloud');
  // A PostgreSQL move goes back to the old major's folder as it was before the move: the files
  // must match it, so they come back from the same backup.
  const nextcloudChanged = point.nextcloudImage !== undefined && nowImage !== undefined && point.nextcloudImage !== nowImage;
  const dataBack = point.command === 'upgrade-postgres' || nextcloudChanged;
  if (dataBack && !point.snapshot) {
    throw new UserFacingError(`The backup taken before the ${point.command} left no snapshot name, so the data cannot be matched to the old Nextcloud automatically. `
      + 'List the snapshots (kubectl logs of the backup job) and use `npm run restore -- --snapshot NAME` after setting the image back by hand. Nothing was changed.');
  }
  const before = readLock(ctx.lockFile);
  await ctx.confirm(`This undoes the ${point.description} of ${point.createdAt}: the images go back to what ran before`
    + (dataBack ? `, and the files and database go back to backup ${point.snapshot} (anything added since then is removed; Nextcloud is stopped meanwhile)` : '')
    + '.', 'rollback');
  const m = synthWithLock(ctx, point.lock ?? undefined, before);
  // No upgrade guard here: going back is the point, and the data goes back with it below.
  await applyManifests(kube, m, live, { dryRun: false }, io);
  if (dataBack) {
    await scaleNextcloud(kube, ns, 0, io);
    try {
      const outcome = await runJob(kube, ns, 'restore', 'rollback-restore', io, {
        env: { RESTORE_SNAPSHOT: point.snapshot! }, onlyContainers: ['check'], timeoutMs: (ctx.timeoutSeconds ?? 4 * 3600) * 1000,
      });
      if (!outcome.succeeded) {
        io.out(`The images are back, but restoring backup ${point.snapshot} failed; see: kubectl logs -n ${ns} -l job-name --all-containers --tail 30\n`);
        return EXIT.UNHEALTHY;
      }
    } finally {
      await scaleNextcloud(kube, ns, 1, io);
    }
  }
  fs.renameSync(ctx.rollbackFile, `${ctx.rollbackFile.replace(/\.json$/, '')}.done.json`);
  // Back on the earlier major: no folder is kept aside any more for status to tell of.
  if (point.command === 'upgrade-postgres') fs.rmSync(stateFile('postgres-move.json'), { force: true });
  const ready = await waitReady(kube, ns, (ctx.timeoutSeconds ?? 1800) * 1000, io);
  const major = nextcloudChanged && point.nextcloudImage ? imageMajor(point.nextcloudImage) : undefined;
  io.out(`Rolled back the ${point.description}${major ? `: Nextcloud ${major} runs again` : ''}${dataBack ? ` with the data of backup ${point.snapshot}` : ''}. `
    + (ready ? 'The home cloud is healthy.\n' : 'It is not healthy yet: `npm run status` explains.\n'));
  return ready ? EXIT.OK : EXIT.UNHEALTHY;
}

export const rollbackCommand: Command = {
  name: 'rollback',
  description: 'undo the last update or upgrade step: the images from before, and the data of the backup taken just before when needed',
  options: {},
  lock: () => 'rollback',
  run: (kube, o, io) => commandRollback(kube, updateContext(o, io), io),
};
