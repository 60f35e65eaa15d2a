import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { UserFacingError } from './errors';

/** The generated passwords. Kept only in the local file and the cluster's Secret. */
export interface Credentials {
  readonly postgresPassword: string;
  readonly adminPassword: string;
  readonly cachePassword: string;
  /**
   * The backup repository's key (restic encrypts everything it stores). Whoever restores on a
   * new PC needs it: shown by `npm run admin-password`.
   */
  readonly backupKey: string;
}

const KEYS: Array<keyof Credentials> = ['postgresPassword', 'adminPassword', 'cachePassword', 'backupKey'];

/** 192 random bits, URL-safe: usable unquoted in DSNs, redis URLs and config files. */
export function generatePassword(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * Loads the credentials file, creating it (owner-only) on the first synth and adding any
 * missing key later. Existing passwords are never replaced: PostgreSQL keeps the password
 * it was initialised with, so a new one would lock Nextcloud out of its own database.
 */
export function loadOrCreateCredentials(file: string): Credentials {
  let stored: Partial<Record<keyof Credentials, string>> = {};
  if (fs.existsSync(file)) {
    try {
      stored = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      throw new UserFacingError(`The credentials file ${file} is not valid JSON (${(e as Error).message}). `
        + 'It holds the passwords your running home cloud uses, so homecloud will not replace it: '
        + 'restore it from a copy, or move it away only if you are reinstalling from scratch.');
    }
  }
  const missing = KEYS.filter((k) => typeof stored[k] !== 'string' || stored[k] === '');
  if (missing.length > 0) {
    for (const k of missing) stored[k] = generatePassword();
    writeOwnerOnly(file, JSON.stringify(stored, null, 2) + '\n');
  }
  return stored as Credentials;
}

/** Writes via a temp file and rename, readable by the owner only (on Windows: by the user's ACL). */
export function writeOwnerOnly(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o600, flag: 'wx' });
  fs.renameSync(tmp, file);
  fs.chmodSync(file, 0o600);
}

/**
 * Runs write (which makes files under dir with the default mode, like cdk8s's synth) so that
 * dir and everything in it end readable by the owner only: the files are made under umask 077,
 * and those an earlier run left readable are narrowed after. (Windows ignores these modes: there
 * the user's profile folder is what keeps others out; see the README.)
 */
export function ownerOnlyWhileWriting<T>(dir: string, write: () => T): T {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const before = process.umask(0o077);
  try {
    return write();
  } finally {
    process.umask(before);
    fs.chmodSync(dir, 0o700);
    for (const rel of fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
      const f = path.join(dir, rel);
      fs.chmodSync(f, fs.statSync(f).isDirectory() ? 0o700 : 0o600);
    }
  }
}
