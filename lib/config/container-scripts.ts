import * as fs from 'fs';
import * as path from 'path';

/** lib/, whose concern folders each keep the scripts their containers run in `scripts/`. */
const LIB_DIR = path.join(__dirname, '..');

/**
 * Where a container script lives, named by concern: `scriptPath('backup/backup.sh')` is
 * lib/backup/scripts/backup.sh (mounted from a ConfigMap, tested on the host).
 */
export function scriptPath(script: string): string {
  const [concern, ...rest] = script.split('/');
  return path.join(LIB_DIR, concern, 'scripts', ...rest);
}

/** A container script's text, e.g. `readScript('backup/backup.sh')`. */
export function readScript(script: string): string {
  // Normalise line endings: a Windows checkout without .gitattributes would break /bin/sh.
  return fs.readFileSync(scriptPath(script), 'utf8').replace(/\r\n/g, '\n');
}
