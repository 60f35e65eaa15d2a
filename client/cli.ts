import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as readline from 'readline';
import { UserFacingError } from '../lib/errors';
import { lanAddresses } from '../lib/host-facts';
import { MANIFEST_FILE } from '../lib/synth';
import {
  Io, Manifests, applyManifests, backupSummary, checkUpgrade, elapsed, exportSnapshot, isStale, readLive, readManifests, readNamespace, runJob, scaleNextcloud, status, waitReady,
} from './commands';
import { capacityVerdict, demandOf, nodeRoom, roomiest, workloadsIn } from './capacity';
import { Kube, connect } from './kube';
import { formatReport } from './status';

/** Exit codes: documented in --help and the README. */
export const EXIT = { OK: 0, UNHEALTHY: 1, COULD_NOT_RUN: 2 } as const;

// Kubernetes objects are open-ended JSON, as in the rest of the client.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;

const ROOT = path.join(__dirname, '..');

const HELP = `homecloud — install, check, back up and remove your home cloud

Usage: npm run <command> [-- options]     (or: npx homecloud <command> [options])

Commands:
  deploy           synth if needed, apply everything, remove what is no longer
                   part of homecloud, wait until ready, then show the status
  status           is the home cloud healthy? addresses, app URLs, backups
  backup           run a backup now and follow it to the end
  restore          put back a backup snapshot (the newest good one by default)
  export           copy a backup snapshot to a folder on this PC and verify it
  uninstall        delete the home cloud and all its data (asks first)
  admin-password   print the administrator's login

Options:
  --context NAME   act on this Kubernetes context instead of docker-desktop
  --namespace NS   the namespace (default: the one in dist/, else homecloud)
  --output json    machine-readable results (status, deploy, backup)
  --dry-run        deploy: show what would change, using the server
  --no-wait        deploy: do not wait for readiness
  --timeout SECS   how long to wait (deploy: 1800, uninstall: 600)
  --watch          status: refresh every 5 seconds
  --snapshot NAME  restore/export: which snapshot (default: the newest)
  --to FOLDER      export: where to copy it (e.g. D:\\homecloud-backups)
  --yes            do not ask for confirmation (restore, uninstall)
  --force          deploy: even when Kubernetes looks too small for it
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
  readonly yes: boolean;
  readonly force: boolean;
  readonly help: boolean;
}

const COMMANDS = ['deploy', 'status', 'backup', 'restore', 'export', 'uninstall', 'admin-password'];

/** Parses argv; throws a UserFacingError naming the bad argument. Pure. */
export function parseArgs(argv: string[]): Options {
  const o: { -readonly [K in keyof Options]: Options[K] } = { output: 'text', dryRun: false, wait: true, watch: false, yes: false, force: false, help: false };
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
      case '--snapshot': o.snapshot = value(i++, a); break;
      case '--to': o.to = value(i++, a); break;
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
  if (isStale(file, ['main.ts', 'lib'].map((p) => path.join(ROOT, p)))) {
    io.err('settings or constructs changed since the last synth: synthesizing\n');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const code = (require('../main.ts') as typeof import('../main')).main();
    if (code !== 0) throw new UserFacingError('synth failed (see the message above); nothing was deployed.');
  }
  return readManifests(file);
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
  const host = { lanAddresses: lanAddresses(os.networkInterfaces()) };
  for (;;) {
    const report = await status(kube, namespaceOf(o), host, io);
    if (o.output === 'json') printJson(io, { ...report, apiRequests: kube.requests });
    else io.out(`${o.watch ? '\x1b[2J\x1b[H' : ''}${formatReport(report)}`);
    if (!o.watch) return report.healthy ? EXIT.OK : EXIT.UNHEALTHY;
    await io.sleep(5000);
  }
}

async function commandDeploy(kube: Kube, o: Options, io: Io): Promise<number> {
  const m = freshManifests(io);
  const live = await readLive(kube, m.namespace);
  checkUpgrade(m, live);
  await checkCapacity(kube, m, o, io);
  const results = await applyManifests(kube, m, live, { dryRun: o.dryRun }, io);
  if (o.dryRun) {
    if (o.output === 'json') printJson(io, results);
    return EXIT.OK;
  }
  const changed = results.filter((r) => r.action !== 'unchanged').length;
  io.err(`${changed} change(s) applied to ${kube.context}\n`);
  if (!o.wait) return EXIT.OK;
  const ready = await waitReady(kube, m.namespace, (o.timeoutSeconds ?? 1800) * 1000, io);
  const code = await commandStatus(kube, { ...o, watch: false }, io);
  return ready ? code : EXIT.UNHEALTHY;
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

async function commandBackup(kube: Kube, o: Options, io: Io): Promise<number> {
  const ns = namespaceOf(o);
  const outcome = await runJob(kube, ns, 'backup', 'backup-manual', io, { timeoutMs: (o.timeoutSeconds ?? 4 * 3600) * 1000 });
  const summary = backupSummary(outcome.pods);
  if (o.output === 'json') printJson(io, { succeeded: outcome.succeeded, summary });
  else if (outcome.succeeded) {
    io.out(`Backup done: snapshot ${summary?.snapshot ?? '?'}, database ${summary?.database?.bytes ?? '?'} bytes, `
      + `files ${summary?.files?.kib ?? '?'} KiB (${summary?.files?.newKib ?? '?'} KiB new).\n`);
  } else {
    io.out(`Backup FAILED: ${summary?.error ?? 'see the logs'}.\nDetails: kubectl logs -n ${ns} -l job-name --all-containers --tail 30\n`);
  }
  return outcome.succeeded ? EXIT.OK : EXIT.UNHEALTHY;
}

async function commandRestore(kube: Kube, o: Options, io: Io): Promise<number> {
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
    + '  Kept: this project folder and .homecloud/credentials.json.\n');
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
  io.out(`Removed ${ns} from ${kube.context}.\n`);
  return EXIT.OK;
}

async function commandAdminPassword(kube: Kube, o: Options, io: Io): Promise<number> {
  const ns = namespaceOf(o);
  const secret = await kube.get<{ data?: Record<string, string> }>(`/api/v1/namespaces/${ns}/secrets/homecloud-credentials`);
  if (!secret?.data) throw new UserFacingError(`No credentials found in namespace ${ns}: is homecloud deployed? (npm run deploy)`);
  const decode = (k: string) => Buffer.from(secret.data?.[k] ?? '', 'base64').toString('utf8');
  if (o.output === 'json') printJson(io, { user: decode('admin-user'), password: decode('admin-password') });
  else io.out(`user:     ${decode('admin-user')}\npassword: ${decode('admin-password')}\n`);
  return EXIT.OK;
}

const HANDLERS: Record<string, (kube: Kube, o: Options, io: Io) => Promise<number>> = {
  status: commandStatus,
  deploy: commandDeploy,
  backup: commandBackup,
  restore: commandRestore,
  export: commandExport,
  uninstall: commandUninstall,
  'admin-password': commandAdminPassword,
};

/** Runs one command; returns the exit code. Never throws for a user's or the cluster's problem. */
export async function run(argv: string[], io: Io, connectTo: typeof connect = connect): Promise<number> {
  try {
    const o = parseArgs(argv);
    if (o.help || !o.command) {
      (o.help ? io.out : io.err)(HELP);
      return o.help ? EXIT.OK : EXIT.COULD_NOT_RUN;
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
