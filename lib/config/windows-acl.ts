import { spawnSync } from 'child_process';

/**
 * Windows: the folders that hold the home cloud's secrets (.homecloud\ with the credentials and
 * the CA's key; dist\ with the Secrets in the clear) readable only by the user who installed it.
 * Node's file modes mean nothing there, and a folder inherits its parent's access list: made at
 * the root of C:, it lets every account of the PC read and change it ("Authenticated Users:
 * Modify"). Windows' own icacls sets the list; every account is named by its SID, because the
 * names are translated (NT-AUTORITÄT\SYSTEM, VORDEFINIERT\Administratoren) and output is too.
 */

/** Well-known SIDs: the same on every Windows, in every language. */
export const SYSTEM_SID = 'S-1-5-18';
export const ADMINISTRATORS_SID = 'S-1-5-32-544';
const WELL_KNOWN: Record<string, string> = {
  'S-1-1-0': 'Everyone', 'S-1-5-11': 'Authenticated Users', 'S-1-5-32-545': 'Users', 'S-1-5-4': 'Interactive users',
  'S-1-3-0': 'Creator Owner', 'S-1-5-32-546': 'Guests',
};

/** Runs a program and waits: exit code and everything it printed. */
export type SyncRunner = (command: string, args: string[]) => { code: number; output: string };

export const runSync: SyncRunner = (command, args) => {
  const r = spawnSync(command, args, { encoding: 'utf8', windowsHide: true });
  return { code: r.status ?? 127, output: r.error ? r.error.message : `${r.stdout ?? ''}${r.stderr ?? ''}` };
};

/** The SID in `whoami /user /fo csv /nh`'s line ("pc\\user","S-1-5-21-…"). Pure. */
export function userSidOf(whoamiCsv: string): string | undefined {
  return /"(S-1-[0-9-]+)"\s*$/m.exec(whoamiCsv.trim())?.[1];
}

/** icacls arguments: inheritance removed, full control for the user, SYSTEM and Administrators, inherited by all inside. Pure. */
export function ownerOnlyAclArgs(folder: string, userSid: string): string[] {
  // (icacls's documented form: /grant:r Sid:perm [...]; a SID written as *S-1-….)
  return [folder, '/inheritance:r', '/grant:r', ...[userSid, SYSTEM_SID, ADMINISTRATORS_SID].map((sid) => `*${sid}:(OI)(CI)F`)];
}

/** A PowerShell command printing the SID of every account the folder's access list allows in, one a line. Pure. */
export function aclReadersScript(folder: string): string {
  return `(Get-Acl -LiteralPath '${folder.replace(/'/g, "''")}').GetAccessRules($true, $true, [System.Security.Principal.SecurityIdentifier])`
    + ' | Where-Object { $_.AccessControlType -eq \'Allow\' } | ForEach-Object { $_.IdentityReference.Value }';
}

/** The SIDs in that command's output. Pure. */
export function readersOf(output: string): string[] {
  return output.split(/\r?\n/).map((l) => l.trim()).filter((l) => /^S-1-[0-9-]+$/.test(l));
}

function readers(folder: string, run: SyncRunner): string[] | undefined {
  const r = run('powershell', ['-NoProfile', '-NonInteractive', '-Command', aclReadersScript(folder)]);
  return r.code === 0 ? readersOf(r.output) : undefined;
}

function currentUser(run: SyncRunner): string | undefined {
  const r = run('whoami', ['/user', '/fo', 'csv', '/nh']);
  return r.code === 0 ? userSidOf(r.output) : undefined;
}

/**
 * Leaves `folder` to the current user, SYSTEM and Administrators; an explicit grant to anyone
 * else (which removing inheritance keeps) is removed too. Returns what went wrong, in words
 * naming the folder and the fix, or undefined when done.
 */
export function makeOwnerOnly(folder: string, run: SyncRunner): string | undefined {
  const problem = (why: string) => `homecloud: could not make ${folder} private to you (${why}). Other accounts of this PC may read `
    + 'the passwords and keys in it: keep this project in your own user folder (C:\\Users\\<you>\\), and run npm run deploy again.';
  const user = currentUser(run);
  if (!user) return problem('whoami did not say who you are');
  const set = run('icacls', ownerOnlyAclArgs(folder, user));
  if (set.code !== 0) return problem(set.output.trim().split(/\r?\n/).pop()?.replace(/^.*?: /, '') || `icacls exit ${set.code}`);
  const allowed = new Set([user, SYSTEM_SID, ADMINISTRATORS_SID]);
  for (const sid of readers(folder, run)?.filter((s) => !allowed.has(s)) ?? []) {
    const removed = run('icacls', [folder, '/remove:g', `*${sid}`]);
    if (removed.code !== 0) return problem(`${WELL_KNOWN[sid] ?? sid} keeps access: ${removed.output.trim()}`);
  }
  return undefined;
}

/** The folders other accounts can read, with who (status's warning). A folder that is not there is skipped. */
export function exposedFolders(folders: string[], run: SyncRunner): { folder: string; readers: string[] }[] {
  const user = currentUser(run);
  if (!user) return [];
  const allowed = new Set([user, SYSTEM_SID, ADMINISTRATORS_SID]);
  return folders.flatMap((folder) => {
    const others = readers(folder, run)?.filter((s) => !allowed.has(s));
    return others?.length ? [{ folder, readers: others.map((s) => WELL_KNOWN[s] ?? s) }] : [];
  });
}
