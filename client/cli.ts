import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as readline from 'readline';
import { UserFacingError } from '../lib/config/errors';
import { caFiles } from '../lib/https/ca-store';
import { lanAddresses } from '../lib/config/host-facts';
import * as QRCode from 'qrcode';
import { MANIFEST_FILE } from '../lib/stack/synth';
import {
  EXIT, Io, Manifests, applyManifests, backupFailure, backupSummary, checkUpgrade, elapsed, exportSnapshot, helperPod, isStale, podsOf, readLive, readManifests, readNamespace, readState, runJob, scaleNextcloud, status, waitReady,
} from './commands';
import { capacityVerdict, demandOf, nodeRoom, roomiest, workloadsIn } from './capacity';
import { Kube, connect } from './kube';
import { REPOSITORY, copyFolderOf, copyIntoPod, copyRepositoryToPc, kubectlExec, readRecord, treeBytes, uploadProgress, withProgress } from './offsite';
import { Runner, TASK_NAME, copyTimeAfter, registerTask, removeTask, runCommand, taskExists } from './schedule';
import { ClusterState, buildReport, clusterTypeOf, formatReport, offsiteSettings } from './status';
import { CertificateCheck, checkCertificate, trustThisPc } from './trust';
import { UpdateContext, commandConfirmPostgres, commandRollback, commandUpdate, commandUpgrade, commandUpgradePostgres } from './update-commands';
import { Registry } from './registry';
import { caMessage, decideCa, readPcCa, writePcCa } from './restored-ca';
import { HomeCa } from '../lib/https/home-ca';
import { CheckRecord, readJson } from './updates';
import { LOCK_FILE, pinImages, readLock } from '../lib/updates/image-lock';
import { ResolvedSettings, SettingsError, resolveSettings } from '../lib/config/settings';
import { detectHostFacts } from '../lib/config/host-facts';

export { EXIT };

// Kubernetes objects are open-ended JSON, as in the rest of the client.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;

const ROOT = path.join(__dirname, '..');
/** How often a long upload or restore says how far it is. */
const PROGRESS_EVERY_MS = 30_000;

const HELP = `homecloud — install, check, back up and remove your home cloud

Usage: npm run <command> [-- options]     (or: npx homecloud <command> [options])

Commands:
  deploy           synth if needed, apply everything, remove what is no longer
                   part of homecloud, wait until ready, then show the status
  status           is the home cloud healthy? addresses, app URLs, backups
  backup           run a backup now and follow it to the end
  restore          put back a backup snapshot (the newest good one by default)
  export           copy a backup snapshot to a folder on this PC and verify it
  offsite          copy the backup repository to the off-disk folder now (kind
                   clusters: the scheduled task runs this every night)
  uninstall        delete the home cloud and all its data (asks first)
  admin-password   print the administrator's login and the backup recovery key;
                   --reset sets the administrator's password to the one shown
  trust            make this PC trust the home CA (HTTPS without warnings);
                   --remove takes it away again
  update           security fixes: ask the registries for newer builds of the
                   images in use, back up, deploy them pinned by digest
                   (images.lock.json); --dry-run only checks
  upgrade          Nextcloud to the newest major (or --major N), one major at a
                   time, each step with a backup first; --postgres N moves the
                   database to PostgreSQL N; --confirm then frees the old one's space
  rollback         undo the last update or upgrade step: the images from before,
                   and the data of the backup taken just before when needed

Options:
  --context NAME   act on this Kubernetes context instead of docker-desktop
  --namespace NS   the namespace (default: the one in dist/, else homecloud)
  --output json    machine-readable results (status, deploy, backup)
  --dry-run        deploy: show what would change, using the server
  --no-wait        deploy: do not wait for readiness
  --timeout SECS   how long to wait (deploy: 1800, uninstall: 600; backup: as
                   long as backup.timeout lets it run)
  --watch          status: refresh every 5 seconds
  --snapshot NAME  restore/export: which snapshot (default: the newest)
  --to FOLDER      export, offsite: where to copy it (e.g. D:\\homecloud-backups)
  --from FOLDER    restore: from the copy outside Docker Desktop, e.g. after
                   "Reset Kubernetes cluster" or on a new PC (deploys first if needed)
  --key-file FILE  restore --from: a file holding the backup recovery key (asked
                   for on a terminal when this install's key does not open the copy)
  --schedule-copy  deploy: register the nightly copy as a Windows scheduled task
                   without asking (kind clusters)
  --yes            do not ask for confirmation (restore, uninstall)
  --force          deploy: even when Kubernetes looks too small for it;
                   upgrade: even when an app has no release for the new major
  --remove         trust: remove the home CA from this PC's trusted roots
  --reset          admin-password: make the shown password the administrator's
                   (after a restore on a new PC, or when it was changed and lost)
  --major N        upgrade: stop at this Nextcloud major (default: the newest)
  --postgres N     upgrade: move the database to this PostgreSQL major
  --confirm        upgrade: the PostgreSQL move went well; delete the old data now
  --help           this text

Exit codes: 0 healthy / done, 1 not healthy, 2 could not run.
Results go to standard output, progress and messages to standard error.
`;

export interface Options {
  readonly command?: string;
  readonly context?: string;
  readonly namespace?: string;
  readonly output: 'text' | 'json';
  readonly dryRun: boolean;
  readonly wait: boolean;
  readonly timeoutSeconds?: number;
  readonly watch: boolean;
  readonly snapshot?: string;
  readonly to?: string;
  readonly from?: string;
  readonly keyFile?: string;
  readonly scheduleCopy: boolean;
  readonly yes: boolean;
  readonly force: boolean;
  readonly remove: boolean;
  readonly reset: boolean;
  readonly major?: number;
  readonly postgres?: number;
  readonly confirm: boolean;
  readonly help: boolean;
}

const COMMANDS = ['deploy', 'status', 'backup', 'restore', 'export', 'offsite', 'uninstall', 'admin-password', 'trust', 'update', 'upgrade', 'rollback'];

/** Parses argv; throws a UserFacingError naming the bad argument. Pure. */
export function parseArgs(argv: string[]): Options {
  const o: { -readonly [K in keyof Options]: Options[K] } = {
    output: 'text', dryRun: false, wait: true, watch: false, yes: false, force: false, help: false, scheduleCopy: false, remove: false, reset: false, confirm: false,
  };
  const value = (i: number, flag: string) => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new UserFacingError(`${flag} needs a value (see --help)`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '--help': case '-h': o.help = true; break;
      case '--context': o.context = value(i++, a); break;
      case '--namespace': o.namespace = value(i++, a); break;
      case '--output': case '-o': {
        const v = value(i++, a);
        if (v !== 'json' && v !== 'text') throw new UserFacingError(`--output takes "json" or "text", not "${v}"`);
        o.output = v;
        break;
      }
      case '--dry-run': o.dryRun = true; break;
      case '--no-wait': o.wait = false; break;
      case '--watch': o.watch = true; break;
      case '--yes': case '-y': o.yes = true; break;
      case '--force': o.force = true; break;
      case '--remove': o.remove = true; break;
      case '--reset': o.reset = true; break;
      case '--snapshot': o.snapshot = value(i++, a); break;
      case '--to': o.to = value(i++, a); break;
      case '--from': o.from = value(i++, a); break;
      case '--key-file': o.keyFile = value(i++, a); break;
      case '--schedule-copy': o.scheduleCopy = true; break;
      case '--major': case '--postgres': {
        const v = Number(value(i++, a));
        if (!Number.isInteger(v) || v < 1) {
          throw new UserFacingError(`${a} takes a major version such as ${a === '--major' ? '35 (Nextcloud)' : '19 (PostgreSQL)'}, not "${argv[i]}"`);
        }
        if (a === '--major') o.major = v;
        else o.postgres = v;
        break;
      }
      case '--confirm': o.confirm = true; break;
      case '--timeout': {
        const v = Number(value(i++, a));
        if (!Number.isFinite(v) || v <= 0) throw new UserFacingError(`--timeout takes a number of seconds, not "${argv[i]}"`);
        o.timeoutSeconds = v;
        break;
      }
      default:
        if (a.startsWith('-')) throw new UserFacingError(`unknown option ${a} (see --help)`);
        if (o.command) throw new UserFacingError(`one command at a time: "${o.command}" and "${a}" (see --help)`);
        if (!COMMANDS.includes(a)) throw new UserFacingError(`unknown command "${a}"; commands: ${COMMANDS.join(', ')}`);
        o.command = a;
    }
  }
  if (o.snapshot && !/^\d{4}-\d\d-\d\dT\d{6}Z$/.test(o.snapshot)) {
    throw new UserFacingError(`--snapshot takes a snapshot name like 2026-11-26T013000Z, not "${o.snapshot}"`);
  }
  return o;
}

function manifestPath(): string {
  return process.env.HOMECLOUD_OUTDIR ? path.join(process.env.HOMECLOUD_OUTDIR, MANIFEST_FILE) : path.join(ROOT, 'dist', MANIFEST_FILE);
}

function namespaceOf(o: Options): string {
  if (o.namespace) return o.namespace;
  const file = manifestPath();
  return fs.existsSync(file) ? readNamespace(file) : 'homecloud';
}

/** Synthesizes first when dist/ is missing or older than the settings and constructs. */
function freshManifests(io: Io) {
  const file = manifestPath();
  const ca = caFiles(credentialsFile());
  if (isStale(file, [...['main.ts', 'lib'].map((p) => path.join(ROOT, p)), lockFile(), ca.cert, ca.key])) {
    io.err('settings or constructs changed since the last synth: synthesizing\n');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const code = (require('../main.ts') as typeof import('../main')).main();
    if (code !== 0) throw new UserFacingError('synth failed (see the message above); nothing was deployed.');
  }
  return readManifests(file);
}

/** Synthesizes now, whatever the file times say (the image lock just changed). */
function synthNow(io: Io): Manifests {
  io.err('synthesizing with the new images\n');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const code = (require('../main.ts') as typeof import('../main')).main();
  if (code !== 0) throw new UserFacingError('synth failed (see the message above); nothing was deployed.');
  return readManifests(manifestPath());
}

function lockFile(): string {
  return process.env.HOMECLOUD_IMAGE_LOCK ?? path.join(ROOT, LOCK_FILE);
}

/** Files beside the credentials (owner-only, per install, never committed). */
function stateFile(name: string): string {
  return path.join(path.dirname(credentialsFile()), name);
}

/**
 * Where each registry is asked: HOMECLOUD_REGISTRIES="docker.io=http://mirror:5000,…" for a
 * registry mirror (and the tests' own registry); otherwise the registries themselves.
 */
function registryEndpoints(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (process.env.HOMECLOUD_REGISTRIES ?? '').split(',').filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0 || !/^https?:\/\//.test(pair.slice(eq + 1))) {
      throw new UserFacingError(`HOMECLOUD_REGISTRIES: "${pair}" is not host=URL, e.g. docker.io=http://192.168.1.5:5000`);
    }
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

function updateContext(o: Options, io: Io): UpdateContext {
  return {
    namespace: namespaceOf(o),
    lockFile: lockFile(),
    checkFile: stateFile('image-check.json'),
    rollbackFile: stateFile('rollback.json'),
    registry: new Registry({ endpoints: registryEndpoints() }),
    appStore: process.env.HOMECLOUD_APPSTORE ?? 'https://apps.nextcloud.com',
    dryRun: o.dryRun,
    yes: o.yes,
    force: o.force,
    timeoutSeconds: o.timeoutSeconds,
    imageState: () => {
      const images = currentSettings().images;
      const lock = readLock(lockFile());
      return { images, outcomes: pinImages(images, lock).outcomes, lock };
    },
    synth: () => synthNow(io),
    confirm: (question, expected) => confirm(io, o, question, expected),
  };
}

/** main.ts's settings for this PC, as synth resolves them. */
function currentSettings(): ResolvedSettings {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { settings } = require('../main.ts') as typeof import('../main');
  try {
    return resolveSettings(settings, detectHostFacts());
  } catch (e) {
    if (e instanceof SettingsError) throw new UserFacingError(e.message);
    throw e;
  }
}

async function confirm(io: Io, o: Options, question: string, expected: string): Promise<void> {
  if (o.yes) return;
  if (!io.ask) throw new UserFacingError(`${question}\nThis needs a confirmation: run it in a terminal, or add --yes.`);
  const answer = (await io.ask(`${question}\nType "${expected}" to continue: `)).trim();
  if (answer !== expected) throw new UserFacingError('Not confirmed; nothing was changed.');
}

function printJson(io: Io, value: unknown) {
  io.out(`${JSON.stringify(value, null, 2)}\n`);
}

async function commandStatus(kube: Kube, o: Options, io: Io): Promise<number> {
  const ns = namespaceOf(o);
  for (;;) {
    const state = await readState(kube, ns, io);
    // The PC's own copy (kind clusters) leaves its record in the folder the settings name.
    const host = {
      lanAddresses: lanAddresses(os.networkInterfaces()),
      pcCopy: readRecord(offsiteSettings(state.cronJobs).folder),
      certificate: await certificateOf(state),
      // The last `npm run update` check: status itself never asks a registry.
      imageCheck: readJson<CheckRecord>(stateFile('image-check.json')),
    };
    const report = buildReport(state, host);
    if (o.output === 'json') printJson(io, { ...report, apiRequests: kube.requests });
    else {
      // The welcome page's address as a QR code: a phone's camera opens it without typing.
      const qr = report.welcome ? await QRCode.toString(report.welcome, { type: 'terminal', small: true, errorCorrectionLevel: 'L' }) : '';
      io.out(`${o.watch ? '\x1b[2J\x1b[H' : ''}${formatReport(report)}${qr ? `Scan to set up a phone (${report.welcome}):\n${qr}\n` : ''}`);
    }
    if (!o.watch) return report.healthy ? EXIT.OK : EXIT.UNHEALTHY;
    await io.sleep(5000);
  }
}

/** The owner-only folder of the credentials and the home CA (as main.ts finds it). */
function credentialsFile(): string {
  return process.env.HOMECLOUD_CREDENTIALS ?? path.join(ROOT, '.homecloud', 'credentials.json');
}

/**
 * One HTTPS handshake where Docker Desktop publishes the home cloud (the Service's load-balancer
 * address, on this PC), checked against this PC's copy of the home CA. No published address
 * (another cluster, or not yet): nothing to check.
 */
async function certificateOf(state: ClusterState): Promise<CertificateCheck | undefined> {
  const svc = state.services.find((s) => s.metadata.name === 'nextcloud');
  const port = svc?.spec?.ports?.find((p: Obj) => p.name === 'https')?.port;
  const ingress = svc?.status?.loadBalancer?.ingress?.[0];
  if (!port || !ingress) return undefined;
  const caFile = caFiles(credentialsFile()).cert;
  const caPem = fs.existsSync(caFile) ? fs.readFileSync(caFile, 'utf8') : undefined;
  return checkCertificate(ingress.hostname ?? ingress.ip ?? 'localhost', port, caPem);
}

async function commandDeploy(kube: Kube, o: Options, io: Io, within: { restore?: boolean } = {}): Promise<number> {
  const m = freshManifests(io);
  const fresh = !(await kube.get(`/api/v1/namespaces/${m.namespace}`));
  const live = await readLive(kube, m.namespace);
  checkUpgrade(m, live);
  await checkCapacity(kube, m, o, io);
  await checkClusterType(kube, m, o, io);
  const results = await applyManifests(kube, m, live, { dryRun: o.dryRun }, io);
  if (o.dryRun) {
    if (o.output === 'json') printJson(io, results);
    return EXIT.OK;
  }
  const changed = results.filter((r) => r.action !== 'unchanged').length;
  io.err(`${changed} change(s) applied to ${kube.context}\n`);
  await offerCopyTask(m, o, io);
  // Last, so it is not scrolled away. (A restore onto a new install goes on with the old key.)
  // --yes: a run that asks nothing (a script), so only where the key is.
  const offerKey = () => (fresh && !within.restore && o.output === 'text'
    ? offerRecoveryKey(kube, m.namespace, o.yes ? { ...io, ask: undefined } : io) : Promise.resolve());
  if (!o.wait) {
    await offerKey();
    return EXIT.OK;
  }
  const ready = await waitReady(kube, m.namespace, (o.timeoutSeconds ?? 1800) * 1000, io);
  const code = await commandStatus(kube, { ...o, watch: false }, io);
  await offerKey();
  return ready ? code : EXIT.UNHEALTHY;
}

/**
 * On a fresh install, the backup recovery key once, when the family asks to see it: without it
 * a lost PC means lost backups. Never shown unasked (output may end up in a log or a scheduled
 * task's record); without a terminal, only where to find it.
 */
export async function offerRecoveryKey(kube: Kube, ns: string, io: Io): Promise<void> {
  const why = 'Your backups are encrypted with a recovery key. Restoring them on a new PC needs it: write it down and keep it '
    + 'away from this PC (in the family\'s paper files).';
  if (!io.ask) {
    io.err(`homecloud: ${why} npm run admin-password shows it.\n`);
    return;
  }
  if (/^n(o)?$/i.test((await io.ask(`${why}\nShow it now? [Y/n] `)).trim())) {
    io.err('Later: npm run admin-password shows it.\n');
    return;
  }
  const secret = await kube.get<{ data?: Record<string, string> }>(`/api/v1/namespaces/${ns}/secrets/homecloud-credentials`);
  const key = Buffer.from(secret?.data?.['backup-key'] ?? '', 'base64').toString('utf8');
  if (!key) throw new UserFacingError(`The recovery key is not in namespace ${ns} yet; npm run admin-password shows it once the install is complete.`);
  io.out(`\nbackup recovery key: ${key}\n(npm run admin-password shows it again)\n`);
}

/** Refuses (unless --force) when the PC's Kubernetes cannot hold the home cloud; warns when it is tight. */
async function checkCapacity(kube: Kube, m: Manifests, o: Options, io: Io): Promise<void> {
  const [nodes, pods] = await Promise.all([kube.list<Obj>('/api/v1/nodes'), kube.list<Obj>('/api/v1/pods')]);
  const room = roomiest(nodes.map((n) => nodeRoom(n, pods, m.namespace)));
  if (!room) throw new UserFacingError('Kubernetes reports no node to run the home cloud on. Is Docker Desktop\'s Kubernetes started?');
  const verdict = capacityVerdict(demandOf(workloadsIn(m.objects)), room);
  for (const f of verdict.findings) io.err(`homecloud: ${f}\n`);
  if (verdict.level === 'too-small' && !o.force) {
    throw new UserFacingError('Not deploying: this PC\'s Kubernetes is too small for the home cloud (see above); nothing was changed. '
      + 'Add --force to deploy anyway.');
  }
}

/**
 * kind clusters show the PC's folders empty inside: a stack built for kubeadm would write its
 * nightly copy into nothing. Refuses (unless --force) with the setting to change.
 */
async function checkClusterType(kube: Kube, m: Manifests, o: Options, io: Io): Promise<void> {
  const nodes = await kube.list<Obj>('/api/v1/nodes');
  const type = clusterTypeOf(nodes.map((n) => n.metadata.name));
  const { mode } = offsiteSettings(m.objects.filter((x) => x.kind === 'CronJob'));
  if (type === 'kind' && mode === 'cluster') {
    const why = 'This is a kind cluster (Docker Desktop → Settings → Kubernetes): folders on the PC come up empty inside it, '
      + 'so the nightly copy outside Docker Desktop would not reach the PC. Set backup: { offsite: { clusterType: \'kind\' } } in main.ts, '
      + 'then deploy again: a scheduled task on this PC makes the copy instead.';
    if (!o.force) throw new UserFacingError(`Not deploying: ${why} Nothing was changed. (--force deploys anyway.)`);
    io.err(`homecloud: warning: ${why}\n`);
  }
}

/** On kind clusters, offers (or with --schedule-copy, makes) the Windows task that copies the backups each night. */
async function offerCopyTask(m: Manifests, o: Options, io: Io, run: Runner = runCommand): Promise<void> {
  const { mode, folder, schedule } = offsiteSettings(m.objects.filter((x) => x.kind === 'CronJob'));
  if (mode !== 'client') return;
  const time = copyTimeAfter(schedule ?? '30 2 * * *');
  if (process.platform !== 'win32') {
    io.err(`homecloud: the nightly copy to ${folder} is made by this PC: schedule \`npm run offsite\` daily at ${time} (e.g. with cron).\n`);
    return;
  }
  if (await taskExists(run)) return;
  let yes = o.scheduleCopy;
  if (!yes && io.ask) {
    yes = /^y(es)?$/i.test((await io.ask(`Register a Windows scheduled task that copies the backups to ${folder} every day at ${time} `
      + '(and when the PC is next on, if it was off)? [y/N] ')).trim());
  }
  if (!yes) {
    io.err(`homecloud: no scheduled copy: the backups stay only inside Docker Desktop until you run \`npm run offsite\`. `
      + 'To schedule it later: npm run deploy -- --schedule-copy\n');
    return;
  }
  const script = path.join(ROOT, 'bin', 'homecloud.js');
  const extraArgs = [...(o.context ? ['--context', o.context] : []), ...(o.namespace ? ['--namespace', o.namespace] : [])];
  await registerTask(run, { node: process.execPath, script, projectDir: ROOT, time, extraArgs });
  io.err(`homecloud: registered the task "${TASK_NAME}" (daily at ${time}); npm run uninstall removes it.\n`);
}

async function commandOffsite(kube: Kube, o: Options, io: Io): Promise<number> {
  const ns = namespaceOf(o);
  const cron = await kube.get<Obj>(`/apis/batch/v1/namespaces/${ns}/cronjobs/backup`);
  const folder = o.to ? path.resolve(o.to) : offsiteSettings(cron ? [cron] : []).folder;
  if (!folder) throw new UserFacingError('No off-disk folder is configured: deploy first, or name one with --to FOLDER.');
  // A backup still running finishes first, so the copy holds tonight's snapshot.
  for (let i = 0; i < 360; i++) {
    const jobs = await kube.list<Obj>(`/apis/batch/v1/namespaces/${ns}/jobs`);
    const running = jobs.filter((j) => (j.metadata.ownerReferences ?? []).some((r: Obj) => r.name === 'backup') && (j.status?.active ?? 0) > 0);
    if (running.length === 0) break;
    if (i % 15 === 0) io.err('a backup is running: waiting for it to finish\n');
    await io.sleep(10_000);
  }
  const record = await copyRepositoryToPc(kube, ns, folder, io);
  if (o.output === 'json') printJson(io, record);
  else io.out(`The backups are copied to ${folder} (${((record.kib ?? 0) / 1024).toFixed(0)} MiB there).\n`);
  return EXIT.OK;
}

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

async function commandRestore(kube: Kube, o: Options, io: Io): Promise<number> {
  if (o.from) return commandRestoreFrom(kube, o, io);
  const ns = namespaceOf(o);
  await confirm(io, o, `This replaces ALL current files and the database of "${ns}" with snapshot ${o.snapshot ?? '(the newest good one)'}; `
    + 'anything added since is removed. Nextcloud is stopped meanwhile.', 'restore');
  await scaleNextcloud(kube, ns, 0, io);
  try {
    const outcome = await runJob(kube, ns, 'restore', 'restore', io, {
      env: o.snapshot ? { RESTORE_SNAPSHOT: o.snapshot } : {}, onlyContainers: ['check'], timeoutMs: (o.timeoutSeconds ?? 4 * 3600) * 1000,
    });
    io.out(outcome.succeeded ? 'Restore done; Nextcloud is starting again and will tell your devices to resync.\n'
      : `Restore FAILED or was refused; see: kubectl logs -n ${ns} -l job-name --all-containers --tail 30\n`);
    return outcome.succeeded ? EXIT.OK : EXIT.UNHEALTHY;
  } finally {
    await scaleNextcloud(kube, ns, 1, io);
  }
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
  await confirm(io, o, `This replaces ALL current files and the database of "${ns}" with ${o.snapshot ?? 'the newest good snapshot'} from ${folder}. `
    + 'Nextcloud is stopped meanwhile.', 'restore');
  const cron = await kube.get<Obj>(`/apis/batch/v1/namespaces/${ns}/cronjobs/backup`);
  const { mode, folder: configured } = offsiteSettings(cron ? [cron] : []);
  const mounted = mode === 'cluster' && configured !== undefined && path.resolve(configured).toLowerCase() === folder.toLowerCase();
  const helper = await helperPod(kube, ns, 'backup-import', 'import', io);
  let snapshot: string;
  let restoredCa: HomeCa | undefined;
  try {
    let repo = `/offsite/${REPOSITORY}`;
    if (!mounted) {
      const local = path.join(folder, REPOSITORY);
      const total = treeBytes(local);
      io.err(`uploading the copy from ${folder} into the cluster (${(total / 1e6).toFixed(0)} MB)\n`);
      repo = '/backup/.incoming';
      await kubectlExec(kube, ns, helper.pod, ['rm', '-rf', repo]);
      await withProgress(copyIntoPod(kube, ns, helper.pod, local, repo), io, PROGRESS_EVERY_MS, async (spent) => {
        const kib = Number((await kubectlExec(kube, ns, helper.pod, ['du', '-sk', repo])).split(/\s/)[0]);
        return Number.isFinite(kib) ? uploadProgress(kib, total, spent) : undefined;
      });
    }
    const importWith = async (key?: string) => {
      if (key !== undefined) {
        // A file, never a command line: the key must not show in any process list or log.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'homecloud-key-'));
        try {
          fs.writeFileSync(path.join(dir, 'recovery-key'), key, { mode: 0o600 });
          await copyIntoPod(kube, ns, helper.pod, path.join(dir, 'recovery-key'), '/tmp/recovery-key');
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      }
      // import.sh says what it does ("restoring snapshot … from the copy"); restic's restore of a
      // whole library is silent for long, so the time it has taken is said meanwhile.
      const run = kubectlExec(kube, ns, helper.pod, ['env', ...(key !== undefined ? ['RECOVERY_KEY_FILE=/tmp/recovery-key'] : []),
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
    const m = /snapshot=(\S+)/.exec(out);
    if (!m) throw new UserFacingError(`The copy could not be brought in: ${out.trim().split('\n').pop()}`);
    snapshot = m[1];
    if (/^ca=yes$/m.test(out)) restoredCa = await readImportedCa(kube, ns, helper.pod);
    io.err(`snapshot ${snapshot} is in; restoring it\n`);
  } finally {
    await kubectlExec(kube, ns, helper.pod, ['rm', '-rf', '/tmp/recovery-key', '/backup/.incoming', '/backup/.imported-ca']).catch(() => undefined);
    await helper.remove();
  }
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
  await scaleNextcloud(kube, ns, 0, io);
  try {
    const outcome = await runJob(kube, ns, 'restore', 'restore', io, {
      env: { RESTORE_SNAPSHOT: snapshot }, onlyContainers: ['check'], timeoutMs: (o.timeoutSeconds ?? 4 * 3600) * 1000,
    });
    io.out(outcome.succeeded
      ? `Restored ${snapshot} from ${folder}. Nextcloud is starting again; everyone signs in as before.\n`
        + (hadCredentials ? '' : 'The administrator\'s password is the one from before too, not the one this new install made; '
          + 'if you no longer have it, `npm run admin-password -- --reset` makes the one `npm run admin-password` shows the administrator\'s.\n')
      : `Restore FAILED or was refused; see: kubectl logs -n ${ns} -l job-name --all-containers --tail 30\n`);
    return outcome.succeeded ? EXIT.OK : EXIT.UNHEALTHY;
  } finally {
    await scaleNextcloud(kube, ns, 1, io);
  }
}

/** The home CA import.sh put aside, read through files (never through a message that could be printed). */
async function readImportedCa(kube: Kube, ns: string, pod: string): Promise<HomeCa> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'homecloud-ca-'));
  try {
    const read = async (name: string) => {
      const file = path.join(dir, name);
      await kubectlExec(kube, ns, pod, ['cat', `/backup/.imported-ca/${name}`], { stdoutFile: file });
      return fs.readFileSync(file, 'utf8');
    };
    return { certPem: await read('ca.crt'), keyPem: await read('ca.key') };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function commandExport(kube: Kube, o: Options, io: Io): Promise<number> {
  const ns = namespaceOf(o);
  if (!o.to) throw new UserFacingError('export needs --to FOLDER, e.g. --to D:\\homecloud-backups');
  const report = await status(kube, ns, { lanAddresses: [] }, io);
  const snapshot = o.snapshot ?? report.backup.last?.snapshot;
  if (!snapshot) throw new UserFacingError('No snapshot known yet: run `npm run backup` first, or name one with --snapshot.');
  const expected = (report.backup.last?.databaseBytes ?? 0) + (report.backup.last?.filesKiB ?? 0) * 1024;
  const bad = await exportSnapshot(kube, ns, snapshot, expected, path.resolve(o.to), io);
  if (bad.length) {
    io.out(`Copied ${snapshot}, but ${bad.length} file(s) do not match their checksums, e.g. ${bad[0]}. Export again.\n`);
    return EXIT.UNHEALTHY;
  }
  io.out(`Copied and verified ${snapshot} into ${path.join(path.resolve(o.to), snapshot)}\n`);
  return EXIT.OK;
}

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
  io.out(`Removed ${ns} from ${kube.context}.\n`);
  return EXIT.OK;
}

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

const HANDLERS: Record<string, (kube: Kube, o: Options, io: Io) => Promise<number>> = {
  status: commandStatus,
  deploy: commandDeploy,
  backup: commandBackup,
  restore: commandRestore,
  export: commandExport,
  offsite: commandOffsite,
  uninstall: commandUninstall,
  'admin-password': commandAdminPassword,
  update: (kube, o, io) => commandUpdate(kube, updateContext(o, io), io),
  upgrade: (kube, o, io) => {
    if ([o.major !== undefined, o.postgres !== undefined, o.confirm].filter(Boolean).length > 1) {
      throw new UserFacingError('upgrade takes one of --major N, --postgres N or --confirm at a time');
    }
    if (o.confirm) return commandConfirmPostgres(kube, updateContext(o, io), io);
    if (o.postgres !== undefined) return commandUpgradePostgres(kube, updateContext(o, io), io, o.postgres);
    return commandUpgrade(kube, updateContext(o, io), io, o.major);
  },
  rollback: (kube, o, io) => commandRollback(kube, updateContext(o, io), io),
};

/** Runs one command; returns the exit code. Never throws for a user's or the cluster's problem. */
export async function run(argv: string[], io: Io, connectTo: typeof connect = connect): Promise<number> {
  try {
    const o = parseArgs(argv);
    if (o.help || !o.command) {
      (o.help ? io.out : io.err)(HELP);
      return o.help ? EXIT.OK : EXIT.COULD_NOT_RUN;
    }
    // The PC's own trust store: no cluster needed.
    if (o.command === 'trust') {
      io.out(await trustThisPc(caFiles(credentialsFile()).cert, process.platform, runCommand, o.remove));
      return EXIT.OK;
    }
    const kube = await connectTo({ context: o.context });
    return await HANDLERS[o.command](kube, o, io);
  } catch (e) {
    if (e instanceof UserFacingError) {
      io.err(`homecloud: ${e.message}\n`);
      return EXIT.COULD_NOT_RUN;
    }
    throw e;
  }
}

/** The real terminal. */
export function processIo(): Io {
  const interactive = process.stdin.isTTY && process.stderr.isTTY;
  return {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    ask: interactive ? (q) => new Promise((resolve) => {
      const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
      rl.question(q, (a) => { rl.close(); resolve(a); });
    }) : undefined,
    now: () => new Date(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  };
}
