/** Pure checks of setting values: names, addresses, cron schedules, image references. */
import { MAINTENANCE_WINDOW_HOURS } from './settings';

export function isDnsLabel(s: string): boolean {
  return /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(s);
}

export function isDnsSubdomain(s: string): boolean {
  return s.length <= 253 && s.split('.').every(isDnsLabel);
}

export function isTimeZone(zone: string): boolean {
  if (!zone) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export function isIPv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255);
}

function isIPv6(s: string): boolean {
  if (!/^[0-9a-fA-F:]+$/.test(s) || !s.includes(':')) return false;
  const halves = s.split('::');
  if (halves.length > 2) return false;
  const groups = halves.flatMap((h) => (h === '' ? [] : h.split(':')));
  return groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g)) && (halves.length === 2 ? groups.length < 8 : groups.length === 8);
}

function isHostName(s: string): boolean {
  return s.length <= 253 && s.split('.').every((l) => /^[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?$/.test(l))
    && !/^[0-9.]+$/.test(s);
}

/** A name Nextcloud can match a request's Host header against: host, IPv4 or [IPv6], optional :port. */
export function isTrustedDomain(entry: string): boolean {
  const bracketed = /^\[([^\]]+)\](?::([0-9]{1,5}))?$/.exec(entry);
  if (bracketed) return isIPv6(bracketed[1]) && portOk(bracketed[2]);
  if (isIPv6(entry)) return true;
  const [host, port, ...rest] = entry.split(':');
  return rest.length === 0 && portOk(port) && (isIPv4(host) || isHostName(host));
}

function portOk(port: string | undefined): boolean {
  return port === undefined || (/^[0-9]{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535);
}

const CRON_RANGES: Array<[string, number, number]> = [
  ['minute', 0, 59], ['hour', 0, 23], ['day of month', 1, 31], ['month', 1, 12], ['day of week', 0, 7],
];

/** The local start times (minutes after midnight) of a daily schedule, or [] when they are not plain numbers. */
export function dailyStartMinutes(schedule: string): number[] {
  const [minute, hour] = schedule.trim().split(/\s+/);
  const list = (field: string | undefined) => (field && /^[0-9]+(,[0-9]+)*$/.test(field) ? field.split(',').map(Number) : []);
  return list(hour).flatMap((h) => list(minute).map((m) => h * 60 + m));
}

/** Five hours before the (first) backup's hour, so the four-hour window ends an hour before it. */
export function defaultMaintenanceWindow(schedule: string): number {
  const [first] = dailyStartMinutes(schedule);
  return (Math.floor((first ?? 150) / 60) - MAINTENANCE_WINDOW_HOURS - 1 + 24) % 24;
}

/** The backup start ("HH:MM") that the maintenance window overlaps, or undefined. */
export function windowOverlapsBackup(startHour: number, schedule: string, backupSeconds: number): string | undefined {
  const day = 24 * 60;
  const window = [startHour * 60, startHour * 60 + MAINTENANCE_WINDOW_HOURS * 60];
  for (const b of dailyStartMinutes(schedule)) {
    const run = [b, b + Math.ceil(backupSeconds / 60)];
    // Compare on the 24-hour circle: shift the run by a day either way.
    if ([-day, 0, day].some((d) => run[0] + d < window[1] && window[0] < run[1] + d)) {
      return `${String(Math.floor(b / 60)).padStart(2, '0')}:${String(b % 60).padStart(2, '0')}`;
    }
  }
  return undefined;
}

/** Why a five-field cron expression is invalid, or undefined when it is valid. */
export function cronProblem(expr: string): string | undefined {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5) return `it has ${fields.length} fields, not 5`;
  for (let i = 0; i < 5; i++) {
    const [name, min, max] = CRON_RANGES[i];
    for (const item of fields[i].split(',')) {
      const m = /^(\*|([0-9]+)(?:-([0-9]+))?)(?:\/([0-9]+))?$/.exec(item);
      if (!m) return `the ${name} field "${fields[i]}" is not a number, range, list or step`;
      const nums = [m[2], m[3]].filter((x) => x !== undefined).map(Number);
      if (nums.some((n) => n < min || n > max)) return `the ${name} field "${fields[i]}" is outside ${min}-${max}`;
      if (nums.length === 2 && nums[0] > nums[1]) return `the ${name} range "${item}" runs backwards`;
      if (m[4] !== undefined && Number(m[4]) === 0) return `the ${name} step "${item}" is zero`;
    }
  }
  return undefined;
}

/** Why an image reference is not pinned to a version, or undefined when it is. */
export function imageProblem(ref: string): string | undefined {
  if (!/^[a-z0-9]+([._\/:@-][a-zA-Z0-9_.-]+)*$/.test(ref) && !/@sha256:[0-9a-f]{64}$/.test(ref)) {
    return 'it is not an image reference';
  }
  if (/@sha256:[0-9a-f]{64}$/.test(ref)) return undefined;
  const lastSlash = ref.lastIndexOf('/');
  const colon = ref.indexOf(':', lastSlash + 1);
  if (colon < 0) return 'it has no tag, so it follows "latest" and can jump a major version';
  const tag = ref.slice(colon + 1);
  if (!/^v?[0-9]/.test(tag)) return `its tag "${tag}" does not start with a version number`;
  return undefined;
}

/** The major version in an image tag ("34-fpm-alpine" → 34), or undefined for a digest-only reference. */
export function imageMajor(ref: string): number | undefined {
  const tag = /:v?([0-9]+)[^/@]*(@|$)/.exec(ref.slice(ref.lastIndexOf('/') + 1));
  return tag ? Number(tag[1]) : undefined;
}
