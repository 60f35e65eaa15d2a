import * as fs from 'fs';
import { ImageKey, ImageLock, LockedImage, PinOutcome, tagOf } from '../lib/updates/image-lock';
import { writeOwnerOnly } from '../lib/config/secrets-store';
import { ImageSettings } from '../lib/config/settings';
import { Registry, RegistryError, RegistryProblem } from './registry';

/** One image to ask the registry about. */
export interface ImageCheck {
  readonly key: ImageKey;
  /** The tag asked for: the lock's when it pins this image (upgrade may have moved the major). */
  readonly tag: string;
  /** What runs now, when pinned. */
  readonly digest?: string;
  /** Set in main.ts with a digest: the family chose it by hand; never changed here. */
  readonly fixed: boolean;
}

/** What to ask for, from the settings and the lock (see pinImages). Pure. */
export function checksFor(settingImages: Required<ImageSettings>, outcomes: Record<ImageKey, PinOutcome>): ImageCheck[] {
  return (Object.keys(settingImages) as ImageKey[]).map((key) => {
    const o = outcomes[key];
    if (o.kind === 'pinned') return { key, tag: o.locked.tag, digest: o.locked.digest, fixed: false };
    return { key, tag: tagOf(o.image), fixed: o.why === 'digest-in-settings' };
  });
}

export interface ImageAnswer {
  readonly key: ImageKey;
  readonly tag: string;
  readonly from?: string;
  readonly to?: string;
  readonly version?: string;
  readonly error?: { readonly problem: RegistryProblem; readonly message: string };
}

/**
 * Every tag's digest now, all at once (one slow registry does not add up); a new digest only
 * once the registry proved it is an image the cluster (`arch`, the node's architecture) can run,
 * with the version it declares.
 */
export async function askRegistry(registry: Registry, checks: ImageCheck[], arch: string | (() => Promise<string>)): Promise<ImageAnswer[]> {
  // Asked once, and only when a digest is new: with nothing new, nothing but the registry is asked.
  let known: Promise<string> | undefined;
  const archNow = () => (known ??= typeof arch === 'string' ? Promise.resolve(arch) : arch());
  return Promise.all(checks.filter((c) => !c.fixed).map(async (c): Promise<ImageAnswer> => {
    try {
      const remote = await registry.digestOf(c.tag);
      if (remote.digest === c.digest) return { key: c.key, tag: c.tag, from: c.digest, to: remote.digest };
      const { version } = await registry.inspect(c.tag, remote.digest, await archNow());
      return { key: c.key, tag: c.tag, from: c.digest, to: remote.digest, ...(version ? { version } : {}) };
    } catch (e) {
      if (e instanceof RegistryError) return { key: c.key, tag: c.tag, from: c.digest, error: { problem: e.problem, message: e.message } };
      throw e;
    }
  }));
}

export interface UpdatePlan {
  readonly changes: ImageAnswer[];
  readonly unchanged: ImageAnswer[];
  readonly failed: ImageAnswer[];
}

/** Sorts the answers. Pure. */
export function planUpdate(answers: ImageAnswer[]): UpdatePlan {
  return {
    failed: answers.filter((a) => a.error),
    changes: answers.filter((a) => !a.error && a.to !== a.from),
    unchanged: answers.filter((a) => !a.error && a.to === a.from),
  };
}

const short = (d?: string) => (d ? d.replace(/^sha256:/, '').slice(0, 12) : 'not pinned');

/** The plan as a family reads it. Pure. */
export function formatPlan(plan: UpdatePlan): string {
  const lines: string[] = [];
  for (const f of plan.failed) lines.push(`  ${f.tag}: could not check: ${f.error!.message}`);
  for (const c of plan.changes) {
    lines.push(`  ${c.tag}: ${short(c.from)} → ${short(c.to)}${c.version ? ` (version ${c.version})` : ''}${c.from ? '' : ' (pinned for the first time)'}`);
  }
  for (const u of plan.unchanged) lines.push(`  ${u.tag}: up to date (${short(u.to)})`);
  return `${lines.join('\n')}\n`;
}

/** The lock with these answers pinned. Pure. */
export function lockWith(lock: ImageLock | undefined, answers: ImageAnswer[], now: Date): ImageLock {
  const images: Partial<Record<ImageKey, LockedImage>> = { ...(lock?.images ?? {}) };
  for (const a of answers) {
    if (!a.to) continue;
    const old = images[a.key];
    images[a.key] = old && old.tag === a.tag && old.digest === a.to ? old
      : { tag: a.tag, digest: a.to, ...(a.version ? { version: a.version } : {}), pinnedAt: now.toISOString() };
  }
  return { lockfileVersion: 1, images };
}

// ------------------------------------------------------------ state beside the credentials

/** The last registry check, for `status` (which never contacts the registry by itself). */
export interface CheckRecord {
  readonly checkedAt: string;
  /** The new builds found; `digest` since 2026-12 (older records have none). */
  readonly waiting: { readonly tag: string; readonly version?: string; readonly digest?: string }[];
  readonly failed?: string[];
}

/**
 * The record without what the lock already pins: an update run since the check (or a lock
 * pinned before the install, then deployed) installed it, and status must not say it waits. Pure.
 */
export function stillWaiting(record: CheckRecord | undefined, lock: ImageLock | undefined): CheckRecord | undefined {
  if (!record) return undefined;
  const pinned = new Set(Object.values(lock?.images ?? {}).map((i) => `${i!.tag}@${i!.digest}`));
  return { ...record, waiting: record.waiting.filter((w) => !w.digest || !pinned.has(`${w.tag}@${w.digest}`)) };
}

/** What `npm run rollback` puts back: the lock before the change and the backup taken just before it. */
export interface RollbackPoint {
  readonly createdAt: string;
  readonly command: 'update' | 'upgrade' | 'upgrade-postgres';
  /** The lock before the change; null when there was none. */
  readonly lock: ImageLock | null;
  /** Snapshot taken just before: Nextcloud never runs older code on newer data, so going back restores it. */
  readonly snapshot?: string;
  /** The Nextcloud image before, to tell whether data must go back too. */
  readonly nextcloudImage?: string;
  readonly description: string;
  /** A PostgreSQL move: when `upgrade --confirm` deleted the earlier major's data (nothing to go back to). */
  readonly confirmedAt?: string;
}

/**
 * .homecloud/postgres-move.json: the last move to a new PostgreSQL major, for status (the
 * earlier major's folder stays beside the new one until confirmed or KEEP_OLD_MAJOR_DAYS passed).
 * Kept apart from rollback.json, which the next update replaces.
 */
export interface PostgresMove {
  readonly at: string;
  readonly from: number;
  readonly to: number;
  readonly confirmedAt?: string;
}

export function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export function writeJson(file: string, value: unknown): void {
  writeOwnerOnly(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** Nextcloud's `occ status --output=json`, the part used here. */
export interface NextcloudStatus {
  readonly installed: boolean;
  readonly version: string;
  readonly versionstring: string;
  readonly maintenance: boolean;
  readonly needsDbUpgrade: boolean;
}

/** Parses occ's answer (it may print warnings before the JSON). Pure. */
export function parseOccStatus(out: string): NextcloudStatus | undefined {
  const start = out.indexOf('{');
  if (start < 0) return undefined;
  try {
    const v = JSON.parse(out.slice(start));
    return typeof v.versionstring === 'string' ? v as NextcloudStatus : undefined;
  } catch {
    return undefined;
  }
}

/** "34.0.2" → 34. */
export function majorOfVersion(v: string): number | undefined {
  const m = /^(\d+)\./.exec(v);
  return m ? Number(m[1]) : undefined;
}
