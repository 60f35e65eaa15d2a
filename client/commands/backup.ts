import { Command, Options } from '../command';
import { EXIT, Io, printJson } from '../io';
import { backupFailure, backupSummary, runJob } from '../jobs';
import { Kube } from '../kube';
import { namespaceOf } from '../project';
async function commandBackup(kube: Kube, o: Options, io: Io): Promise<number> {
  const ns = namespaceOf(o);
  // Without --timeout, as long as the backup itself may run (backup.timeout).
  const outcome = await runJob(kube, ns, 'backup', 'backup-manual', io, { timeoutMs: o.timeoutSeconds ? o.timeoutSeconds * 1000 : undefined });
  const summary = backupSummary(outcome.pods);
  if (o.output === 'json') printJson(io, { succeeded: outcome.succeeded, summary, ...(outcome.succeeded ? {} : { error: backupFailure(outcome) }) });
  else if (outcome.succeeded) {
    io.out(`Backup done: snapshot ${summary?.snapshot ?? '?'}, database ${summary?.database?.bytes ?? '?'} bytes, `
      + `files ${summary?.files?.kib ?? '?'} KiB (${summary?.files?.newKib ?? '?'} KiB new).\n`);
  } else {
    const why = backupFailure(outcome);
    io.out(outcome.stoppedAtLimitSeconds !== undefined ? `Backup STOPPED: ${why}.\n`
      : `Backup FAILED: ${why ?? 'see the logs'}.\nDetails: kubectl logs -n ${ns} -l job-name --all-containers --tail 30\n`);
  }
  return outcome.succeeded ? EXIT.OK : EXIT.UNHEALTHY;
}

export const backupCommand: Command = {
  name: 'backup',
  description: 'run a backup now and follow it to the end',
  options: {},
  lock: () => 'backup',
  run: commandBackup,
};
