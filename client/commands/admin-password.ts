import { UserFacingError } from '../../lib/config/errors';
import { Command, Options } from '../command';
import { EXIT, Io, confirm, printJson } from '../io';
import { podsOf } from '../jobs';
import { Kube } from '../kube';
import { kubectlExec } from '../offsite';
import { namespaceOf } from '../project';
async function commandAdminPassword(kube: Kube, o: Options, io: Io): Promise<number> {
  const ns = namespaceOf(o);
  const secret = await kube.get<{ data?: Record<string, string> }>(`/api/v1/namespaces/${ns}/secrets/homecloud-credentials`);
  if (!secret?.data) throw new UserFacingError(`No credentials found in namespace ${ns}: is homecloud deployed? (npm run deploy)`);
  const decode = (k: string) => Buffer.from(secret.data?.[k] ?? '', 'base64').toString('utf8');
  if (o.reset) return resetAdminPassword(kube, ns, decode('admin-user'), decode('admin-password'), o, io);
  if (o.output === 'json') printJson(io, { user: decode('admin-user'), password: decode('admin-password'), backupRecoveryKey: decode('backup-key') });
  else {
    io.out(`user:     ${decode('admin-user')}\npassword: ${decode('admin-password')}\n\n`
      + `backup recovery key: ${decode('backup-key')}\n`
      + '  Write it down and keep it away from this PC: restoring the copy outside Docker Desktop on a new PC needs it\n'
      + '  (npm run restore -- --from FOLDER). Without it, nobody can read the backups, not even you.\n');
  }
  return EXIT.OK;
}

/**
 * Makes this install's administrator password (the credentials' one) the administrator's in
 * Nextcloud: after a restore on a new PC the data brought the old one back. occ reads it from
 * standard input, so it never shows on a command line or in the API server's log.
 */
async function resetAdminPassword(kube: Kube, ns: string, user: string, password: string, o: Options, io: Io): Promise<number> {
  await confirm(io, o, `This sets the password of Nextcloud's administrator "${user}" to the one npm run admin-password shows; `
    + 'the one used until now stops working.', 'reset');
  const pod = (await podsOf(kube, ns, 'web', true))[0];
  if (!pod) throw new UserFacingError('Nextcloud is not running, so its administrator\'s password cannot be set now: see npm run status, then try again.');
  try {
    await kubectlExec(kube, ns, pod.metadata.name,
      ['sh', '-c', 'IFS= read -r OC_PASS && export OC_PASS && exec php /var/www/html/occ user:resetpassword --password-from-env "$1"', 'reset', user],
      { container: 'cron', stdin: `${password}\n` });
  } catch (e) {
    throw new UserFacingError(`Nextcloud did not take the new password: ${(e as Error).message.replace(/^in the helper pod, .* failed: /, '')}`);
  }
  io.out(`The administrator "${user}" now signs in with the password npm run admin-password shows.\n`);
  return EXIT.OK;
}

export const adminPasswordCommand: Command = {
  name: 'admin-password',
  description: 'print the administrator\'s login and the backup recovery key; --reset sets the administrator\'s password to the one shown',
  options: {
    reset: { type: 'boolean', description: 'admin-password: make the shown password the administrator\'s (after a restore on a new PC, or when it was changed and lost)' },
  },
  lock: (o) => (o.reset ? 'admin-password' : undefined),
  run: commandAdminPassword,
};
