import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { UserFacingError } from '../../lib/config/errors';
import { HomeCa } from '../../lib/https/home-ca';
import { applyManifests, checkUpgrade, readLive } from '../apply';
import { Command, Options } from '../command';
import { EXIT, Io, confirm } from '../io';
import { followJob, helperPod, jobName, scaleNextcloud, startJob } from '../jobs';
import { Undo } from '../maintenance';
import { HeldLock, suspendBackups, testPause, withLock } from '../maintenance-lock';
import { Kube } from '../kube';
import { REPOSITORY, copyFolderOf, copyIntoPod, kubectlExec, podFile } from '../offsite';
import { PROGRESS_EVERY_MS, elapsed, treeBytes, uploadProgress, withProgress } from '../progress';
import { credentialsFile, currentSettings, freshManifests, namespaceOf } from '../project';
import { caMessage, decideCa, readPcCa, writePcCa } from '../restored-ca';
import { offsiteSettings } from '../status';
import { commandDeploy } from './deploy';
// Kubernetes objects are open-ended JSON, as in the rest of the client.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;
async function commandRestore(kube: Kube, o: Options, io: Io): Promise<number> {
  if (o.from) return commandRestoreFrom(kube, o, io);
  const ns = namespaceOf(o);
  return withLock(kube, ns, 'restore', io, o, async (lock) => {
    // A restore cut short is finished: the same snapshot, unless another is named.
    const unfinished = lock.inherited?.operation === 'restore' ? lock.inherited : undefined;
    const snapshot = o.snapshot ?? unfinished?.detail.snapshot;
    await confirm(io, o, `This replaces ALL current files and the database of "${ns}" with snapshot ${snapshot ?? '(the newest good one)'}; `
      + 'anything added since is removed. Nextcloud is stopped meanwhile.', 'restore');
    const ok = await putSnapshotBack(kube, ns, lock, snapshot, o, io);
    io.out(ok ? 'Restore done; Nextcloud is starting again and will tell your devices to resync.\n'
      : `Restore FAILED or was refused; see: kubectl logs -n ${ns} -l job-name --all-containers --tail 30\n`);
    return ok ? EXIT.OK : EXIT.UNHEALTHY;
  });
}

/**
 * The restore itself, holding the lock: backups paused (a night that comes meanwhile runs when
 * they resume, within the CronJob's catch-up window), Nextcloud stopped, the restore Job run,
 * both put back on every way out. Each step is recorded in the lock before it is taken, so a
 * run cut short tells the next one where it stopped; a restore Job it left running (Jobs run on
 * without the PC's client) is followed to its end, never run twice at once.
 */
async function putSnapshotBack(kube: Kube, ns: string, lock: HeldLock, snapshot: string | undefined, o: Options, io: Io): Promise<boolean> {
  const detail: Record<string, string> = snapshot ? { snapshot } : {};
  const undo: Undo[] = ['resume-backups', 'start-nextcloud'];
  await lock.record('pausing backups', detail, ['resume-backups']);
  await suspendBackups(kube, ns, true);
  try {
    await lock.record('stopping Nextcloud', detail, undo);
    await scaleNextcloud(kube, ns, 0, io);
    const timeoutMs = (o.timeoutSeconds ?? 4 * 3600) * 1000;
    const left = await leftRunning(kube, ns, lock, snapshot);
    if (left) {
      io.err(`following ${left.name}, the restore the earlier run started\n`);
      const outcome = await followJob(kube, ns, left.name, io, timeoutMs);
      if (outcome.succeeded && left.same) return finishing(lock, { ...detail, job: left.name }, undo);
    }
    const name = jobName('restore', io.now());
    await lock.record('restoring', { ...detail, job: name }, undo);
    await startJob(kube, ns, 'restore', 'restore', io, { env: snapshot ? { RESTORE_SNAPSHOT: snapshot } : {}, onlyContainers: ['check'], name });
    await testPause('restore started');
    const outcome = await followJob(kube, ns, name, io, timeoutMs);
    return outcome.succeeded ? finishing(lock, { ...detail, job: name }, undo) : false;
  } finally {
    await scaleNextcloud(kube, ns, 1, io);
    await suspendBackups(kube, ns, false);
  }
}

async function finishing(lock: HeldLock, detail: Record<string, string>, undo: Undo[]): Promise<true> {
  await lock.record('starting Nextcloud', detail, undo);
  return true;
}

/** The restore Job a run cut short left behind (still running, or finished), and whether it restores `snapshot`. */
async function leftRunning(kube: Kube, ns: string, lock: HeldLock, snapshot: string | undefined): Promise<{ name: string; same: boolean } | undefined> {
  const before = lock.inherited?.operation === 'restore' ? lock.inherited.detail : undefined;
  if (!before?.job) return undefined;
  const job = await kube.get<Obj>(`/apis/batch/v1/namespaces/${ns}/jobs/${before.job}`);
  if (!job || ((job.status?.failed ?? 0) > 0 && !(job.status?.active > 0))) return undefined;
  return { name: before.job, same: (before.snapshot ?? '') === (snapshot ?? '') };
}

/**
 * restore --from FOLDER: after "Reset Kubernetes cluster", a switch of cluster type or on a new PC.
 * Deploys if needed, brings the chosen snapshot in from the copy (import.sh), then restores it
 * with the restore template, as a restore from an in-cluster snapshot does.
 */
async function commandRestoreFrom(kube: Kube, o: Options, io: Io): Promise<number> {
  if (o.keyFile && !fs.existsSync(o.keyFile)) {
    throw new UserFacingError(`The key file ${path.resolve(o.keyFile)} is not there: give the file that holds the backup recovery key (one line).`);
  }
  const given = path.resolve(o.from!);
  // Whether this PC had its home CA and credentials before anything here ran (the deploy below makes them).
  const hadCa = readPcCa(credentialsFile()) !== undefined;
  const hadCredentials = fs.existsSync(credentialsFile());
  const folder = copyFolderOf(given);
  if (!folder) throw new UserFacingError(`There is no homecloud backup copy in ${given}: it is the folder that holds a folder named "repository".`);
  const ns = namespaceOf(o);
  if (!(await kube.get(`/api/v1/namespaces/${ns}`))) {
    io.err(`homecloud is not installed in ${kube.context}: deploying it first (a fresh install, then your data goes in)\n`);
    const code = await commandDeploy(kube, { ...o, output: 'text' }, io, { restore: true });
    if (code !== EXIT.OK) throw new UserFacingError('The fresh install is not healthy yet (see above); nothing was restored. Run the restore again once `npm run status` is healthy.');
  }
  return withLock(kube, ns, 'restore', io, o, async (lock) => {
    await confirm(io, o, `This replaces ALL current files and the database of "${ns}" with ${o.snapshot ?? 'the newest good snapshot'} from ${folder}. `
      + 'Nextcloud is stopped meanwhile.', 'restore');
    await lock.record('bringing the copy in', { folder: folder.replace(/\s/g, '_') });
    const { snapshot, restoredCa, lost } = await bringIn(kube, ns, folder, o, io);
    await adoptRestoredCa(kube, hadCa, restoredCa, io);
    const ok = await putSnapshotBack(kube, ns, lock, snapshot, o, io);
    io.out(ok
      ? `Restored ${snapshot} from ${folder}. Nextcloud is starting again; everyone signs in as before.\n` + lostWords(lost)
        + (hadCredentials ? '' : 'The administrator\'s password is the one from before too, not the one this new install made; '
          + 'if you no longer have it, `npm run admin-password -- --reset` makes the one `npm run admin-password` shows the administrator\'s.\n')
      : `Restore FAILED or was refused; see: kubectl logs -n ${ns} -l job-name --all-containers --tail 30\n`);
    return ok ? EXIT.OK : EXIT.UNHEALTHY;
  });
}

/** The copy into the cluster (uploaded, or found mounted on kubeadm) and the chosen snapshot out of it, by import.sh. */
async function bringIn(kube: Kube, ns: string, folder: string, o: Options, io: Io): Promise<{ snapshot: string; restoredCa?: HomeCa; lost: string[] }> {
  const cron = await kube.get<Obj>(`/apis/batch/v1/namespaces/${ns}/cronjobs/backup`);
  const { mode, folder: configured } = offsiteSettings(cron ? [cron] : []);
  const mounted = mode === 'cluster' && configured !== undefined && path.resolve(configured).toLowerCase() === folder.toLowerCase();
  const helper = await helperPod(kube, ns, 'backup-import', 'import', io);
  try {
    const repo = mounted ? `/offsite/${REPOSITORY}` : await uploadCopy(kube, ns, helper.pod, folder, io);
    const out = await runImport(kube, ns, helper.pod, repo, o, io);
    const m = /snapshot=(\S+)/.exec(out);
    if (!m) throw new UserFacingError(`The copy could not be brought in: ${out.trim().split('\n').pop()}`);
    const restoredCa = /^ca=yes$/m.test(out) ? await readImportedCa(kube, ns, helper.pod) : undefined;
    io.err(`snapshot ${m[1]} is in; restoring it\n`);
    return { snapshot: m[1], restoredCa, lost: [...out.matchAll(/^lost=(.*)$/gm)].map((x) => x[1]) };
  } finally {
    await kubectlExec(kube, ns, helper.pod, ['rm', '-rf', '/tmp/recovery-key', '/backup/.incoming', '/backup/.imported-ca']).catch(() => undefined);
    await helper.remove();
  }
}

/** The files a rotten copy could not give back (import.sh's LOST), for the family to find elsewhere. */
export function lostWords(lost: string[]): string {
  if (lost.length === 0) return '';
  const shown = lost.slice(0, 20).map((k) => `  ${k.replace(/^data\//, '')}\n`).join('');
  return `${lost.length} file(s) could not be read from the copy (damaged there) and are not back:\n${shown}`
    + (lost.length > 20 ? `  … and ${lost.length - 20} more (listed in the snapshot's LOST file)\n` : '')
    + 'Look for them on the phones or PCs they came from.\n';
}

/** Uploads FOLDER/repository into the helper pod, with progress; returns where it is there. */
async function uploadCopy(kube: Kube, ns: string, pod: string, folder: string, io: Io): Promise<string> {
  const local = path.join(folder, REPOSITORY);
  const total = treeBytes(local);
  io.err(`uploading the copy from ${folder} into the cluster (${(total / 1e6).toFixed(0)} MB)\n`);
  const repo = '/backup/.incoming';
  await kubectlExec(kube, ns, pod, ['rm', '-rf', repo]);
  await withProgress(copyIntoPod(kube, ns, pod, local, repo), io, PROGRESS_EVERY_MS, async (spent) => {
    const kib = Number((await kubectlExec(kube, ns, pod, ['du', '-sk', repo])).split(/\s/)[0]);
    return Number.isFinite(kib) ? uploadProgress(kib, total, spent) : undefined;
  });
  return repo;
}

/**
 * Runs import.sh on the copy with this install's key, or the recovery key from --key-file; asked
 * for on a terminal when this install's key does not open it. Returns import.sh's output.
 */
async function runImport(kube: Kube, ns: string, pod: string, repo: string, o: Options, io: Io): Promise<string> {
  const importWith = async (key?: string) => {
    if (key !== undefined) {
      // A file, never a command line: the key must not show in any process list or log.
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'homecloud-key-'));
      try {
        fs.writeFileSync(path.join(dir, 'recovery-key'), key, { mode: 0o600 });
        await copyIntoPod(kube, ns, pod, path.join(dir, 'recovery-key'), '/tmp/recovery-key');
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
    // import.sh says what it does ("restoring snapshot … from the copy"); restic's restore of a
    // whole library is silent for long, so the time it has taken is said meanwhile.
    const run = kubectlExec(kube, ns, pod, ['env', ...(key !== undefined ? ['RECOVERY_KEY_FILE=/tmp/recovery-key'] : []),
      'sh', '/homecloud/import.sh', repo, ...(o.snapshot ? [o.snapshot] : [])], {
      onLine: (line) => { const said = / import: (.*)$/.exec(line); if (said && !/FAILED: /.test(said[1])) io.err(`${said[1]}\n`); },
    });
    return withProgress(run, io, PROGRESS_EVERY_MS, async (spent) => `still bringing the snapshot in from the copy, ${elapsed(spent)}`);
  };
  let out: string;
  try {
    out = await importWith(o.keyFile ? fs.readFileSync(o.keyFile, 'utf8').trim() : undefined);
  } catch (e) {
    if (!/does not open with this key/.test((e as Error).message) || o.keyFile || !io.ask) {
      throw new UserFacingError(/does not open with this key/.test((e as Error).message)
        ? 'The copy is locked with another key than this install\'s (a new PC, or the credentials file was lost): '
          + 'give the backup recovery key shown at install (npm run admin-password on the old PC) with --key-file FILE.'
        : (e as Error).message);
    }
    const key = (await io.ask('The copy is locked with another key than this install\'s. Backup recovery key: ')).trim();
    out = await importWith(key);
  }
  return out;
}

/** The restored home CA where decideCa says so: this PC's copy, its Secret and the welcome page follow. */
async function adoptRestoredCa(kube: Kube, hadCa: boolean, restoredCa: HomeCa | undefined, io: Io): Promise<void> {
  const decision = decideCa(hadCa, readPcCa(credentialsFile()), restoredCa, io.now(), restoredCa ? currentSettings().trustedDomains : []);
  const said = caMessage(decision);
  if (said) io.err(said);
  if (decision.action === 'adopt') {
    writePcCa(credentialsFile(), restoredCa!);
    // The CA's Secret and the welcome page change, and nginx's certificate is issued again from it.
    const m = freshManifests(io);
    const live = await readLive(kube, m.namespace);
    checkUpgrade(m, live);
    await applyManifests(kube, m, live, { dryRun: false }, io);
  }
}

/** The home CA import.sh put aside, read through files (never through a message that could be printed). */
async function readImportedCa(kube: Kube, ns: string, pod: string): Promise<HomeCa> {
  const read = async (name: string) => (await podFile(kube, ns, pod, `/backup/.imported-ca/${name}`)).toString('utf8');
  return { certPem: await read('ca.crt'), keyPem: await read('ca.key') };
}

export const restoreCommand: Command = {
  name: 'restore',
  description: 'put back a backup snapshot (the newest good one by default)',
  options: {
    from: { type: 'string', value: 'FOLDER', description: 'restore: from the copy outside Docker Desktop, e.g. after "Reset Kubernetes cluster" or on a new PC (deploys first if needed)' },
    'key-file': { type: 'string', value: 'FILE', description: 'restore --from: a file holding the backup recovery key (asked for on a terminal when this install\'s key does not open the copy)' },
  },
  run: commandRestore,
};
