import { UserFacingError } from '../../lib/config/errors';
import { status } from '../cluster-state';
import { Command, Options } from '../command';
import { EXIT, Io, confirm } from '../io';
import { Kube } from '../kube';
import { elapsed } from '../progress';
import { namespaceOf } from '../project';
import { TASK_NAME, UPDATE_TASK, removeTask, runCommand } from '../schedule';
async function commandUninstall(kube: Kube, o: Options, io: Io): Promise<number> {
  const ns = namespaceOf(o);
  const report = await status(kube, ns, { lanAddresses: [] }, io);
  if (!report.installed) {
    io.out(`Nothing to remove: there is no namespace "${ns}" in ${kube.context}.\n`);
    return EXIT.OK;
  }
  io.err(`This deletes namespace "${ns}" in ${kube.context} and everything in it:\n`
    + '  - Nextcloud and every family member\'s files, the database, and the backups:\n'
    + report.volumes.map((v) => `      ${v.name} (${v.size})\n`).join('')
    + '  Docker Desktop deletes these volumes with them; they cannot be recovered.\n'
    + '  Kept: this project folder, .homecloud/credentials.json, and the copy outside Docker Desktop'
    + `${report.offsite.folder ? ` in ${report.offsite.folder}` : ''} (delete that folder yourself if you want it gone).\n`);
  const lastGood = report.backup.lastSuccess ? Date.parse(report.backup.lastSuccess) : 0;
  if (!o.yes && io.now().getTime() - lastGood > 24 * 3600_000) {
    throw new UserFacingError('Refusing: there is no successful backup from the last 24 hours. Run `npm run backup`, '
      + 'copy it off with `npm run export -- --to FOLDER`, then uninstall again (or add --yes to delete without one).');
  }
  await confirm(io, o, `Delete "${ns}" and all its data?`, ns);
  const r = await kube.request('DELETE', `/api/v1/namespaces/${ns}`);
  if (r.status >= 300 && r.status !== 404) throw new UserFacingError(`Kubernetes refused to delete namespace ${ns} (HTTP ${r.status}).`);
  const start = io.now().getTime();
  const limit = (o.timeoutSeconds ?? 600) * 1000;
  while (await kube.get(`/api/v1/namespaces/${ns}`)) {
    const spent = io.now().getTime() - start;
    if (spent > limit) throw new UserFacingError(`Namespace ${ns} is still being deleted after ${elapsed(spent)}; check with: kubectl get namespace ${ns}`);
    io.err(`deleting ${ns} — ${elapsed(spent)}\n`);
    await io.sleep(2000);
  }
  if (process.platform === 'win32' && await removeTask(runCommand)) io.err(`removed the scheduled task "${TASK_NAME}"\n`);
  if (process.platform === 'win32' && await removeTask(runCommand, UPDATE_TASK.name)) io.err(`removed the scheduled task "${UPDATE_TASK.name}"\n`);
  io.out(`Removed ${ns} from ${kube.context}.\n`);
  return EXIT.OK;
}

export const uninstallCommand: Command = {
  name: 'uninstall',
  description: 'delete the home cloud and all its data (asks first)',
  options: {},
  lock: () => 'uninstall',
  run: commandUninstall,
};
