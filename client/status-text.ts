/** The status report as text: the one screen a family member reads, and the words it uses. */
import { ClusterType, Report } from './report';
import { previewsWords } from './previews';
import { pushWords } from './push-check';
import { LEDGER_DAYS, ledgerLines } from './egress-ledger';

const MEANING: Record<ClusterType, string> = {
  kubeadm: 'kubeadm: the family\'s files, database and in-cluster backups live in Docker Desktop\'s disk, which "Reset Kubernetes cluster", switching the cluster type or uninstalling Docker Desktop erases; the copy in the folder survives all three.',
  kind: 'kind: the family\'s data lives inside Docker Desktop\'s kind node, which such clusters have lost on a plain restart (Docker Desktop 4.44); the copy this PC makes in the folder survives it.',
  other: 'not Docker Desktop: where this cluster keeps its volumes decides what survives; the copy in the folder is the one outside it.',
};

/** "3 hours", "90 minutes", "5 seconds". Pure. */
export function durationWords(seconds: number): string {
  if (seconds >= 3600 && seconds % 3600 === 0) return seconds === 3600 ? '1 hour' : `${seconds / 3600} hours`;
  if (seconds >= 120) return `${Math.round(seconds / 60)} minutes`;
  return `${seconds} seconds`;
}

export function humanBytes(bytes?: number): string {
  if (bytes === undefined) return '?';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) { v /= 1000; u++; }
  return `${v.toFixed(v < 10 && u > 0 ? 1 : 0)} ${units[u]}`;
}

function localTime(iso: string | undefined, timeZone: string | undefined): string {
  if (!iso) return 'never';
  return new Intl.DateTimeFormat('en-GB', { timeZone: timeZone ?? 'UTC', dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

/** The one screen a family member reads. */
export function formatReport(r: Report): string {
  if (!r.installed) {
    return `homecloud is not installed in Kubernetes context "${r.context}" (no namespace "${r.namespace}").\nInstall it with: npm run deploy\n`;
  }
  const mark = { ready: '✔', starting: '…', problem: '✖', missing: '✖' };
  const lines = [
    r.healthy ? 'Your home cloud is healthy.' : 'Your home cloud needs attention.',
    '',
    ...r.components.flatMap((c) => [
      `  ${mark[c.state]} ${c.name.padEnd(10)} ${c.words}`,
      ...(c.logLines ?? []).map((l) => `        | ${l}`),
    ]),
    '',
    'Open it:',
    `  on this PC        ${r.addresses.thisPc}`,
    ...(r.addresses.lan.length ? r.addresses.lan.map((a, i) => `  ${i === 0 ? 'from phones (LAN)' : '                 '} ${a}`) : []),
    '',
    'Apps and phones:',
    `  CalDAV / CardDAV  ${r.clients.caldav}`,
    `  WebDAV (files)    ${r.clients.webdav}`,
    ...(r.welcome ? [
      `  set up a phone    ${r.welcome}   (the home CA, then a page per phone: Android, iPhone; QR code below)`,
      ...(r.https?.notAfter ? [`  HTTPS certificate valid until ${r.https.notAfter.slice(0, 10)}, renewed automatically`] : []),
      ...(r.https?.caFingerprint ? [`  home CA SHA-256   ${r.https.caFingerprint}`] : []),
      `  instant sync      ${pushWords(r.push)}`,
    ] : []),
    '',
    'Storage:',
    ...r.volumes.map((v) => `  ${v.name.padEnd(16)} ${v.size.padEnd(7)} ${v.state}`),
    '',
    ...(r.maintenance?.running ? ['Running now:', `  ${r.maintenance.running}`, ''] : []),
    'Backups:',
    `  last              ${r.backup.last ? `${localTime(r.backup.last.time, r.backup.timeZone)}: ${r.backup.last.result}`
      + (r.backup.last.result === 'success' ? ` (database ${humanBytes(r.backup.last.databaseBytes)}, files ${humanBytes((r.backup.last.filesKiB ?? 0) * 1024)})` : '')
      + ((r.backup.last.result === 'failed' || r.backup.last.result === 'skipped') && r.backup.last.error ? ` — ${r.backup.last.error}` : '')
      + (r.backup.last.result === 'running' && r.backup.last.runningSeconds !== undefined ? ` for ${Math.round(r.backup.last.runningSeconds / 60)} min`
        + (r.backup.last.limitSeconds ? ` (it may run ${durationWords(r.backup.last.limitSeconds)}: backup.timeout)` : '') : '') : 'none yet'}`,
    `  next              ${r.backup.next ? localTime(r.backup.next, r.backup.timeZone) : 'not scheduled'}${r.backup.timeZone ? ` (${r.backup.timeZone})` : ''}`,
    ...(r.offsite.mode ? [
      '',
      'Copy outside Docker Desktop:',
      `  folder            ${r.offsite.folder ?? '?'}${r.offsite.last?.kib ? ` (${humanBytes(r.offsite.last.kib * 1024)})` : ''}`,
      `  last copy         ${r.offsite.last ? `${localTime(r.offsite.last.time, r.backup.timeZone)}: ${r.offsite.last.result}` : 'none yet'}`,
      `  made by           ${r.offsite.mode === 'cluster' ? 'the nightly backup job, through Docker Desktop\'s view of the PC\'s drives' : 'this PC\'s scheduled task (npm run offsite)'}`,
      ...(r.offsite.scrub ? [`  last scrub        ${localTime(r.offsite.scrub.time, r.backup.timeZone)}: ${r.offsite.scrub.result}`
        + `${r.offsite.scrub.repaired ? ' (damaged files inside Docker Desktop were replaced from the copy)' : ''}`] : []),
      ...(r.offsite.mode === 'client' && r.offsite.last?.verified
        ? [`  copy read back    ${localTime(r.offsite.last.verified, r.backup.timeZone)}${r.offsite.last.repaired ? `: ${r.offsite.last.repaired} damaged file(s) replaced` : ': every file intact'}`] : []),
      `  cluster type      ${MEANING[r.offsite.clusterType]}`,
    ] : []),
    '',
    'Photos:',
    `  thumbnails        ${previewsWords(r.previews)}`,
    '',
    `Outside the home (last ${r.egress?.days ?? LEDGER_DAYS} days, through the egress point):`,
    ...ledgerLines(r.egress, humanBytes),
    '',
    'Updates:',
    `  images checked    ${r.updates.checkedAt ? localTime(r.updates.checkedAt, r.backup.timeZone) : 'never (npm run update -- --dry-run)'}`,
    ...(r.updates.checkedAt ? [`  waiting           ${r.updates.waiting.length ? r.updates.waiting.join(', ') : 'none'}`] : []),
    ...(r.updates.automatic ? [`  automatic         ${r.updates.automatic.when ? `${localTime(r.updates.automatic.when, r.backup.timeZone)}: ` : ''}${r.updates.automatic.words}`] : []),
    ...(r.updates.keptPostgres ? [`  old PostgreSQL    PostgreSQL ${r.updates.keptPostgres.from}'s data stays on the volume until `
      + `${localTime(r.updates.keptPostgres.until, r.backup.timeZone)} (npm run rollback goes back to it; npm run upgrade -- --confirm frees the space now)`] : []),
    ...(r.warnings.length ? ['', 'Warnings:', ...r.warnings.map((w) => `  ! ${w}`)] : []),
    '',
  ];
  return lines.join('\n');
}
