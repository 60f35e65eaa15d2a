import * as fs from 'fs';
import { UserFacingError } from '../lib/config/errors';
import { ImageSettings } from '../lib/config/settings';
import { ImageLock, PinOutcome, writeLock } from '../lib/updates/image-lock';
import { Manifests, applyManifests, checkUpgrade, containerImage, readLive, waitReady } from './apply';
import { Io } from './io';
import { dockerArch } from './registry';
import { backupFailure, backupSummary, podsOf, runJob } from './jobs';
import { Kube } from './kube';
import { HeldLock, readHolder } from './maintenance-lock';
import { kubectlExec } from './offsite';
import { Registry } from './registry';
import {
  NextcloudStatus, RollbackPoint, parseOccStatus,
  writeJson,
} from './updates';
/** What the update commands need from the entry point (cli.ts): its files and helpers. */
export interface UpdateContext {
  readonly namespace: string;
  readonly lockFile: string;
  /** .homecloud/image-check.json: the last registry check, for status. */
  readonly checkFile: string;
  /** .homecloud/rollback.json: what `rollback` puts back. */
  readonly rollbackFile: string;
  readonly registry: Registry;
  /** Base URL of the Nextcloud app store. @default https://apps.nextcloud.com */
  readonly appStore: string;
  readonly dryRun: boolean;
  readonly yes: boolean;
  /** upgrade: go on although apps the family uses do not support the new major. */
  readonly force: boolean;
  readonly timeoutSeconds?: number;
  /** How long a change waits for health, when not timeoutSeconds (the nightly update's bound). */
  readonly healthTimeoutSeconds?: number;
  /** The image settings from main.ts, resolved, and the lock's verdict on each. */
  imageState(): { images: Required<ImageSettings>; outcomes: Record<keyof ImageSettings, PinOutcome>; lock?: ImageLock };
  /** Synthesizes now (the lock changed) and reads the manifests. */
  synth(): Manifests;
  confirm(question: string, expected: string): Promise<void>;
}

/** occ's output in the newest running Nextcloud pod (the cron container runs as www-data, as occ must); undefined when it cannot answer. */
export async function occ(kube: Kube, namespace: string, args: string[]): Promise<string | undefined> {
  const pod = (await podsOf(kube, namespace, 'web', true))[0];
  if (!pod) return undefined;
  return kubectlExec(kube, namespace, pod.metadata.name, ['php', '/var/www/html/occ', ...args], { container: 'cron' }).catch(() => undefined);
}

/** Nextcloud's own word on its version, from the running pod. */
export async function nextcloudStatus(kube: Kube, namespace: string): Promise<NextcloudStatus | undefined> {
  const out = await occ(kube, namespace, ['status', '--output=json']);
  return out === undefined ? undefined : parseOccStatus(out);
}

export function restoreLock(file: string, lock: ImageLock | undefined): void {
  if (lock) writeLock(file, lock);
  else fs.rmSync(file, { force: true });
}

/**
 * Writes `next` as the lock and synthesizes with it (then `check`s the manifests); on any
 * failure the `previous` lock is back before the error goes on, so nothing has changed.
 */
export function synthWithLock(ctx: UpdateContext, next: ImageLock | undefined, previous: ImageLock | undefined, check: (m: Manifests) => void = () => undefined): Manifests {
  restoreLock(ctx.lockFile, next);
  try {
    const m = ctx.synth();
    check(m);
    return m;
  } catch (e) {
    restoreLock(ctx.lockFile, previous);
    throw e;
  }
}

/**
 * The safe way to change images on a running install: a verified backup first (its snapshot
 * recorded for `rollback`), then the new lock, synth, apply and wait. A refusal before anything
 * is applied puts the old lock back, so nothing has changed.
 */
export async function changeImages(kube: Kube, ctx: UpdateContext, io: Io, change: {
  command: RollbackPoint['command']; before?: ImageLock; after: ImageLock; description: string;
  /** Wait until every part is ready (an upgrade waits on Nextcloud's own word instead). @default true */
  wait?: boolean;
  /** The maintenance lock the command holds: each step is recorded in it (a run cut short says where). */
  lock?: HeldLock;
  /**
   * Take the backup first. false only when no image that changes data changes (auto-update.ts's
   * CHANGES_DATA): going back is then the previous images alone. @default true
   */
  backup?: boolean;
}): Promise<{ ready: boolean; snapshot?: string }> {
  const ns = ctx.namespace;
  const live = await readLive(kube, ns);
  const nextcloudImage = containerImage(live.owned, 'nextcloud', 'nextcloud');
  const snapshot = change.backup === false ? undefined : await backupBefore(kube, ctx, io, change);
  if (change.backup === false) io.err('no backup needed: only images that hold none of the family\'s data change (going back is their previous images)\n');
  const point: RollbackPoint = {
    createdAt: io.now().toISOString(), command: change.command, lock: change.before ?? null, snapshot, nextcloudImage, description: change.description,
  };
  // From here the lock file pins the new images: a run cut short is finished by deploying them.
  await change.lock?.record('deploying the new images');
  const m = synthWithLock(ctx, change.after, change.before, (x) => checkUpgrade(x, live));
  writeJson(ctx.rollbackFile, point);
  const results = await applyManifests(kube, m, live, { dryRun: false }, io);
  io.err(`${results.filter((r) => r.action !== 'unchanged').length} change(s) applied\n`);
  await change.lock?.record('waiting for health');
  const ready = change.wait === false ? true : await waitReady(kube, ns, (ctx.healthTimeoutSeconds ?? ctx.timeoutSeconds ?? 1800) * 1000, io);
  return { ready, snapshot };
}

/** The verified backup a change starts with; its snapshot is what `rollback` restores. */
async function backupBefore(kube: Kube, ctx: UpdateContext, io: Io, change: { command: string; lock?: HeldLock }): Promise<string | undefined> {
  await change.lock?.record('backing up');
  io.err('taking a backup before anything changes (it is what `npm run rollback` goes back to)\n');
  const outcome = await runJob(kube, ctx.namespace, 'backup', `backup-before-${change.command}`, io, { timeoutMs: ctx.timeoutSeconds ? ctx.timeoutSeconds * 1000 : undefined });
  if (!outcome.succeeded) {
    const why = backupFailure(outcome);
    throw new UserFacingError(`The backup before the ${change.command} failed${why ? ` (${why})` : ''}, so nothing was changed. `
      + '`npm run status` explains the backup; try again once it works.');
  }
  return backupSummary(outcome.pods)?.snapshot;
}

/**
 * The architecture the images must have: the cluster's node's (Docker Desktop's VM), which is
 * what pulls them; this PC's own only when no cluster answers (pinning before the install).
 */
export async function clusterArch(kube: Kube): Promise<string> {
  try {
    const nodes = await kube.get('/api/v1/nodes') as { items?: { status?: { nodeInfo?: { architecture?: string } } }[] } | undefined;
    const arch = nodes?.items?.[0]?.status?.nodeInfo?.architecture;
    if (arch) return arch;
  } catch {
    // no cluster reachable: this PC's
  }
  return dockerArch(process.arch);
}

/**
 * Where an update (or rollback) died after it changed images.lock.json, from its lock's record:
 * 'deploy' (finish by deploying what the lock pins), 'go back' (a night's way back was cut
 * short: finish going back), or undefined (nothing to finish).
 */
export async function cutShort(kube: Kube, ns: string, io: Io): Promise<'deploy' | 'go back' | undefined> {
  let h;
  try {
    h = await readHolder(kube, ns, io.now());
  } catch {
    return undefined; // no cluster answers: nothing to finish there
  }
  if (!h || h.alive || !['update', 'rollback'].includes(h.operation)) return undefined;
  if (h.step === 'going back') return 'go back';
  return ['deploying the new images', 'waiting for health'].includes(h.step ?? '') ? 'deploy' : undefined;
}
