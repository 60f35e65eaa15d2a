import * as path from 'path';
import { UserFacingError } from '../../lib/config/errors';
import { Command, Options } from '../command';
import { EXIT, Io, printJson } from '../io';
import { Kube } from '../kube';
import { copyRepositoryToPc } from '../offsite';
import { namespaceOf } from '../project';
import { offsiteSettings } from '../status';
// Kubernetes objects are open-ended JSON, as in the rest of the client.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;
async function commandOffsite(kube: Kube, o: Options, io: Io): Promise<number> {
  const ns = namespaceOf(o);
  const cron = await kube.get<Obj>(`/apis/batch/v1/namespaces/${ns}/cronjobs/backup`);
  const folder = o.to ? path.resolve(o.to) : offsiteSettings(cron ? [cron] : []).folder;
  if (!folder) throw new UserFacingError('No off-disk folder is configured: deploy first, or name one with --to FOLDER.');
  // A backup still running finishes first, so the copy holds tonight's snapshot.
  for (let i = 0; i < 360; i++) {
    const jobs = await kube.list<Obj>(`/apis/batch/v1/namespaces/${ns}/jobs`);
    const running = jobs.filter((j) => (j.metadata.ownerReferences ?? []).some((r: Obj) => r.name === 'backup') && (j.status?.active ?? 0) > 0);
    if (running.length === 0) break;
    if (i % 15 === 0) io.err('a backup is running: waiting for it to finish\n');
    await io.sleep(10_000);
  }
  const record = await copyRepositoryToPc(kube, ns, folder, io);
  if (o.output === 'json') printJson(io, record);
  else io.out(`The backups are copied to ${folder} (${((record.kib ?? 0) / 1024).toFixed(0)} MiB there).\n`);
  return EXIT.OK;
}

export const offsiteCommand: Command = {
  name: 'offsite',
  description: 'copy the backup repository to the off-disk folder now (kind clusters: the scheduled task runs this every night)',
  options: {},
  lock: () => 'offsite',
  waitsForNightly: true,
  run: commandOffsite,
};
