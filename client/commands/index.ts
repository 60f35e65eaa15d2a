/** Every command of `homecloud`, in the order --help lists them: one file each. */
import { Command } from '../command';
import { adminPasswordCommand } from './admin-password';
import { backupCommand } from './backup';
import { deployCommand } from './deploy';
import { exportCommand } from './export';
import { offsiteCommand } from './offsite';
import { restoreCommand } from './restore';
import { rollbackCommand } from './rollback';
import { statusCommand } from './status';
import { trustCommand } from './trust';
import { uninstallCommand } from './uninstall';
import { updateCommand } from './update';
import { upgradeCommand } from './upgrade';

export const COMMANDS: readonly Command[] = [
  deployCommand, statusCommand, backupCommand, restoreCommand, exportCommand, offsiteCommand, uninstallCommand,
  adminPasswordCommand, trustCommand, updateCommand, upgradeCommand, rollbackCommand,
];
