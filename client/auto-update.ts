import { ImageKey } from '../lib/updates/image-lock';
import { BackupReport } from './report';
import { ImageAnswer } from './updates';

/**
 * The nightly security update's decisions and words (`update --auto`, run by the PC's scheduled
 * task). Pure: nightly-update.ts does the asking and the changing.
 *
 * Why on the PC and not in the cluster: the pins live in images.lock.json, which every `deploy`
 * synthesizes from, so an update made anywhere else would be undone by the next deploy; and the
 * registry's answers are proven here (client/registry.ts) before anything is pinned. Docker
 * Desktop's cluster runs only while this PC is on, so the PC's task misses no night the cluster
 * would have had (Task Scheduler starts a missed run when the PC is next on).
 */

/** .homecloud/auto-update.json: the last night's outcome, for status and the next night. */
export interface AutoUpdateRecord {
  readonly at: string;
  readonly result: 'up to date' | 'updated' | 'rolled back' | 'skipped' | 'failed';
  /** One sentence a family reads (status shows it). */
  readonly words: string;
  readonly changes?: { readonly tag: string; readonly version?: string; readonly digest?: string }[];
  /**
   * Builds ("tag@digest") a night installed and took back because they never became healthy:
   * never tried again by a night (a newer build is; `npm run update` installs one by hand).
   */
  readonly refused: string[];
}

/** A nightly backup older than this is not "tonight's": the update waits for a good one. */
export const GOOD_BACKUP_HOURS = 26;

export type NightGate = { readonly go: true } | { readonly go: false; readonly wait?: boolean; readonly why: string };

/** Whether tonight's backup lets an update go on: only after a good one, recent enough. Pure. */
export function nightGate(backup: BackupReport, now: Date): NightGate {
  const last = backup.last;
  // (Any run of the backup's CronJob counts: the nightly one, `npm run backup`'s, an update's.)
  if (!last) return { go: false, why: 'no backup has run yet; the first update waits for a good one' };
  if (last.result === 'running') return { go: false, wait: true, why: 'the backup is still running' };
  if (last.result === 'failed') return { go: false, why: `the last backup failed${last.error ? ` (${last.error})` : ''}; nothing is updated without a good backup` };
  if (last.result === 'skipped') return { go: false, why: `the last backup was skipped${last.error ? ` (${last.error})` : ''}; nothing is updated without a good backup` };
  const age = last.time ? (now.getTime() - Date.parse(last.time)) / 3600_000 : Infinity;
  if (!(age <= GOOD_BACKUP_HOURS)) {
    return { go: false, why: `the last good backup is from ${last.time ?? 'an unknown time'}, not from tonight; nothing is updated without a recent backup` };
  }
  return { go: true };
}

/** The builds a night may install: not one it already took back. Pure. */
export function notRefused(changes: ImageAnswer[], record: AutoUpdateRecord | undefined): { install: ImageAnswer[]; refused: ImageAnswer[] } {
  const refused = new Set(record?.refused ?? []);
  const isRefused = (c: ImageAnswer) => refused.has(`${c.tag}@${c.to}`);
  return { install: changes.filter((c) => !isRefused(c)), refused: changes.filter(isRefused) };
}

/**
 * Images whose new build can change the family's data: Nextcloud's start migrates its database
 * and files (a patch release too), so going back needs the data from before. PostgreSQL's minor
 * releases keep the data format ("minor releases never change the internal storage format"),
 * and nginx, Valkey (a cache), restic and Squid hold no data: going back is their previous
 * image, and no backup is taken for them.
 */
export const CHANGES_DATA: ReadonlySet<ImageKey> = new Set<ImageKey>(['nextcloud']);

/** Whether the backup before an update is needed: only when an image that changes data changes. Pure. */
export function backupNeeded(changes: readonly { key: ImageKey }[]): boolean {
  return changes.some((c) => CHANGES_DATA.has(c.key));
}

const list = (changes: ImageAnswer[]) => changes.map((c) => `${c.tag}${c.version ? ` (${c.version})` : ''}`).join(', ');

/** "15 minutes", or "20 seconds" for a bound that is not whole minutes. Pure. */
export function boundWords(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60} minute${seconds === 60 ? '' : 's'}` : `${seconds} seconds`;
}

/** The record of a night that installed `changes`, healthy or taken back. Pure. */
export function outcomeRecord(now: Date, changes: ImageAnswer[], healthy: boolean, healthSeconds: number, before: AutoUpdateRecord | undefined, rollbackOk = true): AutoUpdateRecord {
  const refused = before?.refused ?? [];
  const entries = changes.map((c) => ({ tag: c.tag, ...(c.version ? { version: c.version } : {}), ...(c.to ? { digest: c.to } : {}) }));
  if (healthy) return { at: now.toISOString(), result: 'updated', words: `installed new builds of ${list(changes)}; the home cloud is healthy`, changes: entries, refused };
  if (!rollbackOk) {
    return { at: now.toISOString(), result: 'failed', changes: entries, refused: [...refused, ...changes.map((c) => `${c.tag}@${c.to}`)],
      words: `new builds of ${list(changes)} did not become healthy within ${boundWords(healthSeconds)}, and going back did not finish either: npm run status says what each part does; npm run rollback tries again` };
  }
  return {
    at: now.toISOString(), result: 'rolled back', changes: entries, refused: [...refused, ...changes.map((c) => `${c.tag}@${c.to}`)],
    words: `new builds of ${list(changes)} did not become healthy within ${boundWords(healthSeconds)}, so the images from before run again; `
      + 'these builds are not tried again (a newer one is; npm run update installs them by hand)',
  };
}

/** How the nightly update reads in status: when, what, and whether it deserves a warning. Pure. */
export function autoUpdateLine(r: AutoUpdateRecord | undefined, automatic: boolean): { when?: string; words: string; warn: boolean; on: boolean } {
  if (!automatic) return { words: 'off (main.ts: updates.automatic); npm run update installs new builds', warn: false, on: false };
  if (!r) return { words: 'on, after the nightly backup; no night has run yet', warn: false, on: true };
  return { when: r.at, words: r.words, warn: r.result === 'rolled back' || r.result === 'failed', on: true };
}

/** What Nextcloud shows the administrator (its limits: 255 characters, 4000 for the long text). Pure. */
export function notification(r: AutoUpdateRecord): { subject: string; message: string } | undefined {
  if (r.result === 'updated') return { subject: 'homecloud installed security updates', message: `Tonight homecloud ${r.words}.`.slice(0, 4000) };
  if (r.result === 'rolled back' || r.result === 'failed') {
    return { subject: 'homecloud took back tonight\'s security updates', message: `Tonight ${r.words}. Your files, calendars and contacts are as they were before. On the PC, npm run status tells more.`.slice(0, 4000) };
  }
  return undefined;
}
