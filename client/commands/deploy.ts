import * as path from 'path';
import { UserFacingError } from '../../lib/config/errors';
import { Manifests, applyManifests, checkUpgrade, readLive, waitReady } from '../apply';
import { capacityVerdict, demandOf, nodeRoom, roomiest, workloadsIn } from '../capacity';
import { Command, Options } from '../command';
import { EXIT, Io, printJson } from '../io';
import { Kube } from '../kube';
import { refuseWhileBusy } from '../maintenance-lock';
import { ROOT, freshManifests, namespaceOf } from '../project';
import { Runner, TASK_NAME, UPDATE_TASK, copyTimeAfter, registerTask, removeTask, runCommand, taskExists } from '../schedule';
import { AUTOMATIC_UPDATES_ANNOTATION } from '../../lib/config/labels';
import { clusterTypeOf, offsiteSettings } from '../status';
import { commandStatus } from './status';
// Kubernetes objects are open-ended JSON, as in the rest of the client.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;
export async function commandDeploy(kube: Kube, o: Options, io: Io, within: { restore?: boolean } = {}): Promise<number> {
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
  // The nightly task names this cluster (an unattended change must not follow a context switched
  // later to another cluster). A night finishing an update cut short deploys from inside it: the
  // task is left as it is then.
  if (!o.auto) await scheduleUpdates(m, { ...o, context: o.context ?? kube.context }, io);
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

/**
 * The nightly security update is on unless main.ts turns it off (updates.automatic): each deploy
 * registers its task at updates.time (replacing one at another time) or removes it.
 */
export async function scheduleUpdates(m: Manifests, o: Options, io: Io, run: Runner = runCommand, platform: string = process.platform): Promise<void> {
  const cron = m.objects.find((x) => x.kind === 'CronJob' && x.metadata?.name === 'backup');
  const at = cron?.metadata?.annotations?.[AUTOMATIC_UPDATES_ANNOTATION] as string | undefined;
  if (at === undefined) return;
  if (platform !== 'win32') {
    if (at !== 'off') io.err(`homecloud: security updates by themselves need \`npm run update -- --auto\` daily at ${at} on this PC (e.g. with cron); on Windows, deploy schedules it.\n`);
    return;
  }
  if (at === 'off') {
    if (await removeTask(run, UPDATE_TASK.name)) io.err(`homecloud: automatic updates are off (main.ts): removed the task "${UPDATE_TASK.name}"\n`);
    return;
  }
  const known = await taskExists(run, UPDATE_TASK.name);
  const script = path.join(ROOT, 'bin', 'homecloud.js');
  const extraArgs = [...(o.context ? ['--context', o.context] : []), ...(o.namespace ? ['--namespace', o.namespace] : [])];
  await registerTask(run, { node: process.execPath, script, projectDir: ROOT, time: at, extraArgs, task: UPDATE_TASK });
  if (!known) io.err(`homecloud: security updates install themselves each night at ${at}, after the backup (task "${UPDATE_TASK.name}"); `
    + 'updates: { automatic: false } in main.ts turns them off.\n');
}

export const deployCommand: Command = {
  name: 'deploy',
  description: 'synth if needed, apply everything, remove what is no longer part of homecloud, wait until ready, then show the status',
  options: {
    'no-wait': { type: 'boolean', description: 'deploy: do not wait for readiness' },
    'schedule-copy': { type: 'boolean', description: 'deploy: register the nightly copy as a Windows scheduled task without asking (kind clusters)' },
  },
  run: async (kube, o, io) => {
    await refuseWhileBusy(kube, namespaceOf(o), io);
    return commandDeploy(kube, o, io);
  },
};
