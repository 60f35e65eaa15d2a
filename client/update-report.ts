import { autoUpdateLine } from './auto-update';
import { HostInfo, Report } from './report';
import { KEEP_OLD_MAJOR_DAYS } from '../lib/database/postgres-config';
import { PostgresMove } from './updates';

/** Security fixes arrive as new builds of the same tags; nobody installs what nobody checks for. */
const UPDATE_CHECK_DAYS = 30;

/** The Updates part of status, from what the PC recorded (status never asks a registry). Pure. */
export function updatesReport(host: HostInfo, now: Date): Report['updates'] {
  const waiting = (host.imageCheck?.waiting ?? []).map((w) => `${w.tag}${w.version ? ` (${w.version})` : ''}`);
  const automatic = host.automaticUpdates ? autoUpdateLine(host.automaticUpdates.record, host.automaticUpdates.on) : undefined;
  return { checkedAt: host.imageCheck?.checkedAt, waiting, automatic, keptPostgres: keptPostgres(host.postgresMove, now) };
}

/**
 * After a PostgreSQL move the earlier major's folder stays on the database volume (rollback goes
 * back to it) until the family confirms or its days run out: space Docker Desktop's disk does
 * not have twice for long. Pure.
 */
export function keptPostgres(m: PostgresMove | undefined, now: Date): Report['updates']['keptPostgres'] {
  if (!m || m.confirmedAt) return undefined;
  const until = new Date(Date.parse(m.at) + KEEP_OLD_MAJOR_DAYS * 86400_000);
  if (!(until > now)) return undefined;
  return { from: m.from, to: m.to, until: until.toISOString() };
}

export function updateWarnings(u: Report['updates'], now: Date): string[] {
  const out: string[] = [];
  if (u.automatic?.warn) out.push(`The last automatic update: ${u.automatic.words}.`);
  if (u.waiting.length) {
    const nightly = u.automatic?.on === true;
    out.push(`${u.waiting.length} image update(s) waiting since the last check: ${nightly ? 'the next night installs them after its backup, or ' : ''}`
      + `npm run update installs them${nightly ? ' now' : ''} (with a backup first where data can change).`);
    return out;
  }
  const days = u.checkedAt ? (now.getTime() - Date.parse(u.checkedAt)) / 86400_000 : Infinity;
  if (days > UPDATE_CHECK_DAYS) {
    out.push(`${u.checkedAt ? `No check for image updates in ${Math.floor(days)} days` : 'The images were never checked for updates'}: npm run update -- --dry-run checks, npm run update installs.`);
  }
  return out;
}
