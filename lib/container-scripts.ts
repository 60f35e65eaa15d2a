import * as fs from 'fs';
import * as path from 'path';

/** Folder of the shell scripts that run inside the containers (mounted from ConfigMaps). */
export const SCRIPTS_DIR = path.join(__dirname, 'scripts');

/** A container script's text, e.g. `readScript('backup/backup.sh')`. */
export function readScript(relativePath: string): string {
  // Normalise line endings: a Windows checkout without .gitattributes would break /bin/sh.
  return fs.readFileSync(path.join(SCRIPTS_DIR, relativePath), 'utf8').replace(/\r\n/g, '\n');
}
