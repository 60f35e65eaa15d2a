import { spawn } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { UserFacingError } from '../lib/config/errors';
import { Io } from './io';
import { helperPod } from './jobs';
import { Kube } from './kube';
import { CopyRecord } from './status';

/**
 * The copy outside Docker Desktop, made by this PC (kind clusters, where the cluster cannot see
 * the PC's folders), and the way back in for `restore --from`. The same rules as mirror.sh: every
 * file of a restic repository but `config` is immutable and named by the SHA-256 of its content,
 * so a copy is "fetch what is missing, check the name, rename into place", packs before the
 * indexes that point at them before the snapshots, config last; removals the other way round.
 */
export const REPOSITORY = 'repository';
/** What the PC's copy leaves in the folder for `status`. */
export const COPY_RECORD = 'homecloud-copy.json';
const PARTIAL = '.partial';
const ORDER = ['keys', 'data', 'index', 'snapshots', 'config'];
/** How often the PC reads its whole copy back (the cluster's scrub does the same in-cluster). */
export const VERIFY_EVERY_DAYS = 7;

export interface MirrorPlan {
  /** Relative paths to fetch, in a safe order. */
  readonly copy: string[];
  /** Relative paths to remove afterwards, in a safe order. */
  readonly remove: string[];
}

const partOf = (rel: string) => rel.split('/')[0];
const rank = (rel: string, order: string[]) => {
  const i = order.indexOf(partOf(rel));
  return i < 0 ? order.length : i;
};

/** What to fetch and what to remove, from the sizes on both sides. Pure. */
export function planMirror(source: Map<string, number>, target: Map<string, number>): MirrorPlan {
  const known = (rel: string) => ORDER.includes(partOf(rel));
  const copy = [...source].filter(([rel, size]) => known(rel) && target.get(rel) !== size).map(([rel]) => rel)
    .sort((a, b) => rank(a, ORDER) - rank(b, ORDER) || a.localeCompare(b));
  const removeOrder = ['snapshots', 'index', 'data', 'keys'];
  const remove = [...target.keys()].filter((rel) => known(rel) && rel !== 'config' && !source.has(rel))
    .sort((a, b) => rank(a, removeOrder) - rank(b, removeOrder) || a.localeCompare(b));
  return { copy, remove };
}

/** Whether a fetched file is what its name says (config: its size, as nothing names it). */
export function intact(rel: string, content: Buffer | string, expectedSize: number): boolean {
  const bytes = typeof content === 'string' ? fs.readFileSync(content) : content;
  if (rel === 'config') return bytes.length === expectedSize;
  return crypto.createHash('sha256').update(bytes).digest('hex') === path.posix.basename(rel);
}

/** Files of a local repository copy with their sizes, "/"-separated. */
export function localFiles(repo: string): Map<string, number> {
  const out = new Map<string, number>();
  if (!fs.existsSync(repo)) return out;
  const walk = (dir: string, rel: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(dir, e.name), r);
      else if (e.isFile()) out.set(r, fs.statSync(path.join(dir, e.name)).size);
    }
  };
  walk(repo, '');
  return out;
}

/** Parses `stat -c '%s %n'` lines (paths relative to the repository, "./" first). Pure. */
export function parseListing(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\d+) \.\/(.+)$/.exec(line);
    if (m && !m[2].startsWith('locks/')) out.set(m[2], Number(m[1]));
  }
  return out;
}

// ---------------------------------------------------------------- I/O

/**
 * A file of a pod, byte for byte: through a file of this PC's own (owner-only temporary folder,
 * removed after), never through a message that could be printed or turned into text.
 */
export async function podFile(kube: Kube, namespace: string, pod: string, podPath: string): Promise<Buffer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'homecloud-pod-file-'));
  try {
    await kubectlExec(kube, namespace, pod, ['cat', podPath], { stdoutFile: path.join(dir, 'file') });
    return fs.readFileSync(path.join(dir, 'file'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Runs a command in a pod with kubectl; stdout to a file when given, else returned. `stdin`: text
 * the command reads (a secret goes this way, never on the command line, which the API server logs).
 */
export function kubectlExec(kube: Kube, namespace: string, pod: string, argv: string[],
  opts: { stdoutFile?: string; container?: string; stdin?: string; onLine?: (line: string) => void } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('kubectl', ['--context', kube.context, 'exec', ...(opts.stdin !== undefined ? ['-i'] : []), '-n', namespace, pod,
      ...(opts.container ? ['-c', opts.container] : []), '--', ...argv],
    { stdio: [opts.stdin !== undefined ? 'pipe' : 'ignore', opts.stdoutFile ? fs.openSync(opts.stdoutFile, 'w') : 'pipe', 'pipe'] });
    if (opts.stdin !== undefined) child.stdin?.end(opts.stdin);
    let out = '';
    let err = '';
    let shown = 0;
    child.stdout?.on('data', (d) => {
      out += d;
      // Each whole line as it comes, for a long script's own account of where it is.
      if (!opts.onLine) return;
      const end = out.lastIndexOf('\n');
      if (end < shown) return;
      for (const line of out.slice(shown, end).split('\n')) opts.onLine(line);
      shown = end + 1;
    });
    child.stderr?.on('data', (d) => { err += d; });
    child.on('error', (e) => reject(new UserFacingError(`kubectl could not run (${e.message}); it comes with Docker Desktop: is it on PATH?`)));
    // The scripts say what went wrong on stdout ("…: FAILED: why"); kubectl only that it failed.
    const why = () => {
      const said = out.trim().split('\n').filter(Boolean).pop();
      return said ? said.replace(/^.*FAILED: /, '') : err.trim().split('\n').pop();
    };
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new UserFacingError(`in the helper pod, ${argv.join(' ')} failed: ${why()}`))));
  });
}

function checkFolder(folder: string): void {
  if (!fs.existsSync(folder)) {
    const parent = path.dirname(folder);
    if (!fs.existsSync(parent)) {
      throw new UserFacingError(`The folder for the copy, ${folder}, cannot be made: ${parent} is not there (USB disk unplugged? drive letter changed?). Plug it in, or set backup.offsite.folder.`);
    }
    fs.mkdirSync(folder);
  }
  const probe = path.join(folder, `.homecloud-write-test.${process.pid}`);
  try {
    fs.writeFileSync(probe, '');
    fs.rmSync(probe);
  } catch (e) {
    throw new UserFacingError(`Cannot write to ${folder} (${(e as NodeJS.ErrnoException).code ?? 'error'}): read-only, full, or no permission.`);
  }
}

function writeRecord(folder: string, record: CopyRecord): void {
  const tmp = path.join(folder, `${COPY_RECORD}.tmp`);
  try {
    fs.writeFileSync(tmp, `${JSON.stringify(record)}\n`);
    fs.renameSync(tmp, path.join(folder, COPY_RECORD));
  } catch (e) {
    fs.rmSync(tmp, { force: true }); // a full folder: leave nothing half-written
    throw e;
  }
}

/** The record the last copy by this PC left in the folder, if any. */
export function readRecord(folder: string | undefined): CopyRecord | undefined {
  if (!folder) return undefined;
  try {
    return JSON.parse(fs.readFileSync(path.join(folder, COPY_RECORD), 'utf8'));
  } catch {
    return undefined;
  }
}

const MB = 1e6;

/** Free space on the folder's drive, when the platform can tell. */
function freeBytes(folder: string): number | undefined {
  try {
    const s = fs.statfsSync(folder);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

/**
 * Copies the in-cluster backup repository into FOLDER/repository (kind clusters; also works on
 * kubeadm). Progress on stderr; a record in the folder for `status`; failures name the fix.
 */
export async function copyRepositoryToPc(kube: Kube, namespace: string, folder: string, io: Io): Promise<CopyRecord> {
  const started = io.now();
  checkFolder(folder);
  const repo = path.join(folder, REPOSITORY);
  const partial = path.join(folder, PARTIAL);
  fs.rmSync(partial, { recursive: true, force: true });
  const helper = await helperPod(kube, namespace, 'backup-export', 'offsite', io);
  try {
    const listing = await kubectlExec(kube, namespace, helper.pod,
      ['sh', '-c', `cd /backup/${REPOSITORY} 2>/dev/null || exit 3; find . -type f -exec stat -c '%s %n' {} +`]).catch((e) => {
      throw new UserFacingError(`There is no backup repository in the cluster yet (${(e as Error).message}): it is made by the first nightly backup, or run \`npm run backup\`.`);
    });
    const source = parseListing(listing);
    // Before anything in the folder is touched (the scrub below removes files): is it this repository?
    await checkSameRepository(kube, namespace, helper.pod, repo, source, io);
    // The PC's own scrub: every VERIFY_EVERY_DAYS, read every file of the copy back; a damaged
    // one is removed here, so the plan below fetches it again from the cluster.
    const previous = readRecord(folder);
    const due = !previous?.verified || io.now().getTime() - Date.parse(previous.verified) > VERIFY_EVERY_DAYS * 86400_000;
    const repaired = due && fs.existsSync(repo) ? scrubCopy(folder, repo, io) : 0;
    // Rot the night's scrub found in the repository inside Docker Desktop, which the night cannot
    // mend where it does not see this folder (kind): files named by their content come back from here.
    const damaged = (await kubectlExec(kube, namespace, helper.pod, ['sh', '-c', `cat /backup/${DAMAGED_LIST} 2>/dev/null || true`]))
      .split('\n').map((l) => l.trim()).filter((rel) => /^(keys|data|index|snapshots)\/[0-9a-f/]+$/.test(rel));
    if (damaged.length) await healInCluster(kube, namespace, repo, damaged, io);
    const target = localFiles(repo);
    const plan = planMirror(source, target);
    const total = plan.copy.reduce((n, rel) => n + (source.get(rel) ?? 0), 0);
    const free = freeBytes(folder);
    if (free !== undefined && free < total) {
      throw new UserFacingError(`The folder's drive is full: the copy needs ${(total / MB).toFixed(0)} MB more, ${folder} has ${(free / MB).toFixed(0)} MB free. `
        + 'Free some space, or choose a larger drive with backup.offsite.folder. Nothing was changed.');
    }
    io.err(`copying ${plan.copy.length} file(s), ${(total / MB).toFixed(1)} MB, to ${folder}\n`);
    fs.mkdirSync(partial, { recursive: true });
    let done = 0;
    let lastShown = 0;
    for (const rel of plan.copy) {
      if (!await fetchFile(kube, namespace, helper.pod, { rel, size: source.get(rel), partial, repo, folder }, io)) continue;
      done += source.get(rel) ?? 0;
      if (done - lastShown > 50 * MB) {
        io.err(`copied ${(done / MB).toFixed(0)} of ${(total / MB).toFixed(0)} MB\n`);
        lastShown = done;
      }
    }
    for (const rel of plan.remove) fs.rmSync(path.join(repo, ...rel.split('/')), { force: true });
    fs.rmSync(partial, { recursive: true, force: true });
    const kib = Math.round([...localFiles(repo).values()].reduce((n, s) => n + s, 0) / 1024);
    const record: CopyRecord = { time: io.now().toISOString(), result: 'success', folder, kib,
      verified: due ? started.toISOString() : previous?.verified, repaired };
    writeRecord(folder, record);
    io.err(`copied ${plan.copy.length} file(s) (${(done / MB).toFixed(1)} MB), removed ${plan.remove.length}, in ${Math.round((io.now().getTime() - started.getTime()) / 1000)} s\n`);
    return record;
  } catch (e) {
    fs.rmSync(partial, { recursive: true, force: true });
    const previous = readRecord(folder);
    const lastSuccess = previous?.result === 'success' ? previous.time : previous?.lastSuccess;
    try { writeRecord(folder, { time: io.now().toISOString(), result: 'failed', folder, error: (e as Error).message, verified: previous?.verified, lastSuccess }); } catch { /* the folder itself failed */ }
    throw e;
  } finally {
    await helper.remove();
  }
}

/**
 * Brings one repository file from the helper pod into the copy: into the folder's .partial
 * first, checked (size, and its name is its content's SHA-256), then renamed into place. False
 * for a file a stopped restic left half-written (no part of the repository: not copied).
 */
async function fetchFile(kube: Kube, namespace: string, pod: string,
  f: { rel: string; size: number | undefined; partial: string; repo: string; folder: string }, io: Io): Promise<boolean> {
  const { rel, size, partial, repo, folder } = f;
  const tmp = path.join(partial, path.posix.basename(rel));
  await kubectlExec(kube, namespace, pod, ['cat', `/backup/${REPOSITORY}/${rel}`], { stdoutFile: tmp });
  if (fs.statSync(tmp).size < (size ?? 0)) {
    // kubectl does not always report a failed write: a short file on a full drive.
    throw new UserFacingError(`The folder's drive filled up while copying (${((freeBytes(folder) ?? 0) / MB).toFixed(0)} MB free); `
      + 'free some space or choose a larger drive with backup.offsite.folder. The copy there is still usable; the next run completes it.');
  }
  if (!intact(rel, tmp, size ?? -1)) {
    // A file a killed restic left half-written is no part of the repository: not copied.
    const there = (await kubectlExec(kube, namespace, pod, ['sha256sum', `/backup/${REPOSITORY}/${rel}`])).slice(0, 64);
    if (rel !== 'config' && there !== path.posix.basename(rel)) {
      io.err(`skipping ${rel}: half-written by a run that was stopped, not part of any snapshot\n`);
      fs.rmSync(tmp, { force: true });
      return false;
    }
    throw new UserFacingError(`${rel} did not arrive intact (read back differs); the folder's disk may be failing. Nothing already copied was changed.`);
  }
  const dest = path.join(repo, ...rel.split('/'));
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.renameSync(tmp, dest);
  return true;
}

/** The PC's own scrub: reads every file of the copy back and removes the damaged ones (fetched again after). */
function scrubCopy(folder: string, repo: string, io: Io): number {
  io.err(`reading back every file of the copy in ${folder} (every ${VERIFY_EVERY_DAYS} days)\n`);
  let repaired = 0;
  for (const [rel, size] of localFiles(repo)) {
    if (!ORDER.includes(partOf(rel)) || rel === 'config') continue;
    const file = path.join(repo, ...rel.split('/'));
    if (!intact(rel, file, size)) {
      fs.rmSync(file);
      repaired++;
    }
  }
  io.err(`the copy's files: ${repaired} damaged${repaired ? ', fetched again below' : ''}\n`);
  return repaired;
}

/**
 * Refuses, before anything in it changes, a folder whose repository is not the cluster's: a new
 * install's repository copied over the family's would erase its history. The same repository has
 * the same config, byte for byte (it never changes); where the configs differ but a key file is
 * the same (key files hold a random salt: two repositories never share one), the folder's config
 * is the one that rotted, and it is fetched again.
 */
async function checkSameRepository(kube: Kube, namespace: string, pod: string, repo: string, source: Map<string, number>, io: Io): Promise<void> {
  const local = path.join(repo, 'config');
  if (!fs.existsSync(local) || !source.has('config')) return;
  if ((await podFile(kube, namespace, pod, `/backup/${REPOSITORY}/config`)).equals(fs.readFileSync(local))) return;
  const sharesAKey = [...localFiles(repo).keys()].some((rel) => rel.startsWith('keys/') && source.has(rel));
  if (!sharesAKey) {
    throw new UserFacingError(`${repo} holds a different backup repository (another install's?). Nothing was changed. If it is the family's earlier `
      + `backups, npm run restore -- --from "${path.dirname(repo)}" brings them back; otherwise move it away or choose another folder (backup.offsite.folder).`);
  }
  io.err(`the copy's config file does not match the repository's (damaged): fetching it again\n`);
  fs.rmSync(local);
}

/** The night's list of repository files that do not match their names (offsite.sh's scrub). */
const DAMAGED_LIST = 'repository-damaged';

/**
 * Puts back, into the repository inside Docker Desktop, each listed file this copy holds intact:
 * beside it first, checked there, then renamed over it, so a stop midway leaves the damaged file,
 * never none. The next night's scrub reads the whole repository again and reports the result.
 */
async function healInCluster(kube: Kube, namespace: string, repo: string, damaged: string[], io: Io): Promise<void> {
  const good = damaged.filter((rel) => {
    const file = path.join(repo, ...rel.split('/'));
    return fs.existsSync(file) && intact(rel, file, -1);
  });
  io.err(`the backup repository inside Docker Desktop has ${damaged.length} damaged file(s); ${good.length} of them intact in this copy: putting those back\n`);
  if (!good.length) return;
  // The export helper mounts the backups read-only; the import helper may write.
  const writer = await helperPod(kube, namespace, 'backup-import', 'repair', io);
  try {
    for (const rel of good) {
      const target = `/backup/${REPOSITORY}/${rel}`;
      await copyIntoPod(kube, namespace, writer.pod, path.join(repo, ...rel.split('/')), `${target}.healing`);
      await kubectlExec(kube, namespace, writer.pod,
        ['sh', '-c', 'test "$(sha256sum < "$1.healing" | cut -c1-64)" = "${1##*/}" && mv -f "$1.healing" "$1"', 'heal', target]);
    }
  } finally {
    await writer.remove();
  }
  io.err(`put back ${good.length} file(s); the next night's scrub checks the whole repository again (npm run status)\n`);
}

/**
 * Copies a local file or folder into the helper pod (kubectl cp, run in the item's own folder with
 * a relative name: "C:\\…" would read as a pod name).
 */
export function copyIntoPod(kube: Kube, namespace: string, pod: string, local: string, podPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('kubectl', ['--context', kube.context, 'cp', '-n', namespace, path.basename(local), `${pod}:${podPath}`],
      { cwd: path.dirname(local), stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr?.on('data', (d) => { err += d; });
    child.on('error', (e) => reject(new UserFacingError(`kubectl could not run (${e.message})`)));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new UserFacingError(`Copying into the cluster failed: ${err.trim()} (is Docker Desktop's disk full?)`))));
  });
}

/** FOLDER, or its parent when the user pointed at the repository itself; undefined when neither holds a copy. */
export function copyFolderOf(given: string): string | undefined {
  if (fs.existsSync(path.join(given, REPOSITORY, 'config'))) return given;
  if (path.basename(given) === REPOSITORY && fs.existsSync(path.join(given, 'config'))) return path.dirname(given);
  return undefined;
}
