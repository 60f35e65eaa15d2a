import { Duration } from 'cdk8s';
import { defaultOffsiteFolder, hostPathOf, offsiteFolderProblem } from '../backup/offsite-folder';
import { hostNamesOf, publicName } from '../https/home-ca';
import { destinationsOf, isAllowHost } from '../privacy/privacy-settings';
import { MIN_PHP_WORKERS, minimumContainerMiB, phpFpmSizing } from '../nextcloud/php-sizing';
import {
  cronProblem, defaultMaintenanceWindow, imageMajor, imageProblem, isDnsLabel, isDnsSubdomain, isTimeZone, isTrustedDomain, windowOverlapsBackup,
} from './checks';
import { CpuInput, SizeInput, cpuToMillis, mebibytes, sizeToBytes } from './quantity';
import {
  ContainerName, DEFAULT_APPS, DEFAULT_IMAGES, DEFAULT_RESOURCES, HomecloudSettings, HostFacts, ImageSettings, MAINTENANCE_WINDOW_HOURS, PREVIEW_PHP_MEMORY_MIB,
  ResolvedResources, ResolvedSettings, SettingsError,
} from './settings';

/** A 24-hour local time, "HH:MM" (backup.time, updates.time, previews.time). */
const CLOCK_TIME = /^([01][0-9]|2[0-3]):([0-5][0-9])$/;

/**
 * Applies the defaults and validates everything; throws one SettingsError listing every problem.
 * Pure: the PC's facts come in as `host`.
 */
export function resolveSettings(input: HomecloudSettings, host: HostFacts): ResolvedSettings {
  const problems: string[] = [];
  const v = new Validator(problems);
  // In the order the settings are documented, so the list of problems reads the same way.
  const basics = resolveBasics(input, host, v);
  const storage = resolveStorage(input, v);
  const { maintenanceWindowStart, ...backup } = resolveBackup(input, v);
  const images = resolveImages(input, v);
  const updates = resolveUpdates(input, backup.schedule, v);
  const { resources, php } = resolveResources(input, v);
  const offsite = resolveOffsite(input, host, v);
  const previews = resolvePreviews(input, backup.schedule, v);
  const privacy = resolvePrivacy(input, v);
  if (problems.length > 0) throw new SettingsError(problems);
  return {
    ...basics, maintenanceWindowStart, storage,
    backup: { ...backup, maintenanceMode: input.backup?.maintenanceMode ?? true, offsite },
    images, updates, resources, php, previews, privacy,
  };
}

type Basics = Pick<ResolvedSettings, 'namespace' | 'timeZone' | 'trustedDomains' | 'httpPort' | 'httpsPort' | 'adminUser' | 'phoneRegion' | 'apps'>;

/** The namespace, the PC's zone and names, the ports, the administrator and the apps. */
function resolveBasics(input: HomecloudSettings, host: HostFacts, v: Validator): Basics {
  const namespace = input.namespace ?? 'homecloud';
  v.check(isDnsLabel(namespace), 'namespace', namespace,
    'use lowercase letters, digits and "-", at most 63 characters, starting and ending with a letter or digit');

  const timeZone = input.timeZone ?? host.timeZone;
  v.check(isTimeZone(timeZone), 'timeZone', timeZone, 'use an IANA zone name such as "Europe/Berlin" or "America/New_York"');

  // Defaults from the PC are kept only where valid (a Windows name may contain "_"); what the
  // user typed is always checked.
  const trustedDomains = unique(input.trustedDomains
    ?? ['localhost', '127.0.0.1', pcName(host.hostname), ...host.lanAddresses].filter(isTrustedDomain));
  v.check(trustedDomains.length > 0, 'trustedDomains', '[]', 'list at least one host name or IP address, e.g. ["localhost"]');
  trustedDomains.forEach((d, i) => v.check(isTrustedDomain(d), `trustedDomains[${i}]`, d,
    'use a host name like "homepc" or "homepc.local", or an IP address like 192.168.1.20 (optionally with ":port")'));
  trustedDomains.forEach((d, i) => {
    const name = isTrustedDomain(d) ? hostNamesOf([d])[0] : undefined;
    const suffix = name ? publicName(name) : undefined;
    v.check(!suffix, `trustedDomains[${i}]`, d, `this is also a public internet domain (.${suffix}), which the home CA must never vouch for `
      + `(it would vouch for every site under it); use "${name}.local", "${name}.lan" or the PC's address instead`);
  });

  const httpPort = input.httpPort ?? 80;
  v.check(Number.isInteger(httpPort) && httpPort >= 1 && httpPort <= 65535, 'httpPort', httpPort, 'use a whole number from 1 to 65535, usually 80');
  const httpsPort = input.httpsPort ?? 443;
  v.check(Number.isInteger(httpsPort) && httpsPort >= 1 && httpsPort <= 65535, 'httpsPort', httpsPort, 'use a whole number from 1 to 65535, usually 443');
  v.check(httpsPort !== httpPort, 'httpsPort', httpsPort, `use a port other than httpPort (${httpPort}), e.g. ${httpPort === 443 ? 8443 : 443}`);

  const adminUser = input.adminUser ?? 'admin';
  v.check(/^[A-Za-z0-9_.@-]{1,64}$/.test(adminUser), 'adminUser', adminUser, 'use letters, digits and "_.@-" only');

  const phoneRegion = input.phoneRegion ?? (host.region && /^[A-Z]{2}$/.test(host.region) ? host.region : undefined);
  if (phoneRegion !== undefined) {
    v.check(/^[A-Z]{2}$/.test(phoneRegion), 'phoneRegion', phoneRegion, 'use a two-letter country code in capitals, e.g. "DE" or "US"');
  }

  const apps = input.apps ?? DEFAULT_APPS;
  apps.forEach((a, i) => v.check(/^[a-z0-9_]+$/.test(a), `apps[${i}]`, a, 'use the app id from the App Store URL, e.g. "calendar"'));

  return { namespace, timeZone, trustedDomains, httpPort, httpsPort, adminUser, phoneRegion, apps };
}

function resolveStorage(input: HomecloudSettings, v: Validator): ResolvedSettings['storage'] {
  const storage = {
    nextcloudBytes: v.size('storage.nextcloud', input.storage?.nextcloud ?? '50Gi'),
    databaseBytes: v.size('storage.database', input.storage?.database ?? '5Gi'),
    backupsBytes: v.size('storage.backups', input.storage?.backups ?? '100Gi'),
    storageClassName: input.storage?.storageClassName,
  };
  if (storage.storageClassName !== undefined) {
    v.check(isDnsSubdomain(storage.storageClassName), 'storage.storageClassName', storage.storageClassName,
      'use the name shown by `kubectl get storageclass`, or remove the setting to use the default class');
  }

  return storage;
}

/** When the nightly backup runs, what it keeps, how long it may take, and Nextcloud's window beside it. */
function resolveBackup(input: HomecloudSettings, v: Validator) {
  const backupTime = input.backup?.time ?? '02:30';
  const timeMatch = CLOCK_TIME.exec(backupTime);
  v.check(timeMatch !== null, 'backup.time', backupTime, 'use a 24-hour time "HH:MM", e.g. "02:30"');
  const schedule = input.backup?.schedule
    ?? (timeMatch ? `${Number(timeMatch[2])} ${Number(timeMatch[1])} * * *` : '30 2 * * *');
  if (input.backup?.schedule !== undefined) {
    const why = cronProblem(schedule);
    v.check(why === undefined, 'backup.schedule', schedule, `${why}; use five fields "minute hour day month weekday", e.g. "30 2 * * *"`);
  }
  const retention = {
    daily: input.backup?.retention?.daily ?? 7,
    weekly: input.backup?.retention?.weekly ?? 4,
    monthly: input.backup?.retention?.monthly ?? 6,
  };
  for (const [k, n] of Object.entries(retention)) {
    v.check(Number.isInteger(n) && n >= 1, `backup.retention.${k}`, n, 'keep at least 1 (a whole number)');
  }
  const timeoutSeconds = (input.backup?.timeout ?? Duration.hours(3)).toSeconds();
  v.check(timeoutSeconds >= 300, 'backup.timeout', `${timeoutSeconds}s`, 'allow at least Duration.minutes(5)');
  const catchUpSeconds = (input.backup?.catchUpWindow ?? Duration.hours(20)).toSeconds();
  v.check(catchUpSeconds >= 60, 'backup.catchUpWindow', `${catchUpSeconds}s`, 'allow at least Duration.minutes(1); hours are better for a PC that sleeps');

  const maintenanceWindowStart = input.maintenanceWindowStart ?? defaultMaintenanceWindow(schedule);
  const hourOk = Number.isInteger(maintenanceWindowStart) && maintenanceWindowStart >= 0 && maintenanceWindowStart <= 23;
  v.check(hourOk, 'maintenanceWindowStart', maintenanceWindowStart, 'use a whole hour from 0 to 23 (local time), e.g. 21');
  const overlap = hourOk ? windowOverlapsBackup(maintenanceWindowStart, schedule, timeoutSeconds) : undefined;
  v.check(overlap === undefined, 'maintenanceWindowStart', maintenanceWindowStart,
    `its ${MAINTENANCE_WINDOW_HOURS}-hour window overlaps the nightly backup at ${overlap} (which may run for up to ${timeoutSeconds / 3600} h); `
    + `choose an hour whose window ends before the backup starts, e.g. ${defaultMaintenanceWindow(schedule)}`);

  return { schedule, retention, timeoutSeconds, catchUpSeconds, maintenanceWindowStart };
}

/**
 * The nightly security updates: on by default, half an hour after the backup starts (it waits
 * for the backup to end), so a new Nextcloud has usually started before the thumbnail job's
 * hour; a thumbnail run still going is waited for (client/nightly-update.ts).
 */
function resolveUpdates(input: HomecloudSettings, backupSchedule: string, v: Validator): ResolvedSettings['updates'] {
  const time = input.updates?.time ?? halfAnHourAfter(backupSchedule);
  v.check(CLOCK_TIME.test(time), 'updates.time', time, 'use a 24-hour time "HH:MM", e.g. "03:00"');
  const healthTimeoutSeconds = (input.updates?.healthTimeout ?? Duration.minutes(15)).toSeconds();
  // Nextcloud's start after a new build (its migrations included) takes minutes on a slow PC.
  v.check(healthTimeoutSeconds >= 120, 'updates.healthTimeout', `${healthTimeoutSeconds}s`, 'allow at least Duration.minutes(2); 15 minutes suits most PCs');
  return { automatic: input.updates?.automatic ?? true, time, healthTimeoutSeconds };
}

/** "30 2 * * *" → "03:00". A field with ranges or steps (or out of range: backup.schedule's own check refuses it) counts as 0, or 2 for the hour. */
export function halfAnHourAfter(schedule: string): string {
  const [minute, hour] = schedule.trim().split(/\s+/).map(Number);
  const h = Number.isInteger(hour) && hour >= 0 && hour <= 23 ? hour : 2;
  const m = Number.isInteger(minute) && minute >= 0 && minute <= 59 ? minute : 0;
  const t = (h * 60 + m + 30) % (24 * 60);
  return `${String(Math.floor(t / 60)).padStart(2, '0')}:${String(t % 60).padStart(2, '0')}`;
}

function resolveImages(input: HomecloudSettings, v: Validator): ResolvedSettings['images'] {
  const images = { ...DEFAULT_IMAGES, ...input.images };
  for (const [k, ref] of Object.entries(images)) {
    const why = imageProblem(ref);
    v.check(why === undefined, `images.${k}`, ref, `${why}; pin a version, e.g. "${DEFAULT_IMAGES[k as keyof ImageSettings]}"`);
  }
  // The data folder's layout and the upgrade guard both depend on the PostgreSQL major.
  v.check(imageProblem(images.postgres) !== undefined || imageMajor(images.postgres) !== undefined, 'images.postgres', images.postgres,
    'keep the version tag even when pinning a digest, e.g. "postgres:18-alpine@sha256:…"');

  return images;
}

/** Each container's CPU and memory, and PHP's limits, checked against each other. */
function resolveResources(input: HomecloudSettings, v: Validator): Pick<ResolvedSettings, 'resources' | 'php'> {
  const resources = {} as Record<ContainerName, ResolvedResources>;
  for (const name of Object.keys(DEFAULT_RESOURCES) as ContainerName[]) {
    const r = { ...DEFAULT_RESOURCES[name], ...input.resources?.[name] };
    const key = `resources.${name}`;
    const res = {
      cpuRequestMillis: v.cpu(`${key}.cpuRequest`, r.cpuRequest),
      cpuLimitMillis: v.cpu(`${key}.cpuLimit`, r.cpuLimit),
      memoryRequestBytes: v.size(`${key}.memoryRequest`, r.memoryRequest),
      memoryLimitBytes: v.size(`${key}.memoryLimit`, r.memoryLimit),
    };
    v.check(res.cpuLimitMillis >= res.cpuRequestMillis, `${key}.cpuLimit`, r.cpuLimit,
      `the limit is below the request (${quantity(r.cpuRequest)}); raise the limit or lower the request`);
    v.check(res.memoryLimitBytes >= res.memoryRequestBytes, `${key}.memoryLimit`, r.memoryLimit,
      `the limit is below the request (${quantity(r.memoryRequest)}); raise the limit or lower the request`);
    resources[name] = res;
  }

  const php = {
    memoryLimitBytes: v.size('php.memoryLimit', input.php?.memoryLimit ?? '512Mi'),
    uploadLimitBytes: v.size('php.uploadLimit', input.php?.uploadLimit ?? '2Gi'),
  };

  // cron.php and occ in the backup jobs run one PHP process at memory_limit, plus PHP itself.
  for (const name of ['cron', 'backup', 'previews'] as const) {
    const needed = (name === 'previews' ? PREVIEW_PHP_MEMORY_MIB * 2 ** 20 : php.memoryLimitBytes) + 64 * 2 ** 20;
    v.check(resources[name].memoryLimitBytes >= needed, `resources.${name}.memoryLimit`, `${mebibytes(resources[name].memoryLimitBytes)}Mi`,
      `it must hold one PHP run at ${name === 'previews' ? `${PREVIEW_PHP_MEMORY_MIB}Mi` : 'php.memoryLimit'} plus 64Mi; raise it to at least ${mebibytes(needed)}Mi or lower php.memoryLimit`);
  }

  const fpm = phpFpmSizing(resources.nextcloud.memoryLimitBytes, php.memoryLimitBytes);
  v.check(fpm.maxChildren >= MIN_PHP_WORKERS, 'resources.nextcloud.memoryLimit', `${mebibytes(resources.nextcloud.memoryLimitBytes)}Mi`,
    `it fits only ${fpm.maxChildren} PHP worker(s) of php.memoryLimit ${fpm.memoryLimitMiB}Mi (see lib/nextcloud/php-sizing.ts); `
    + `raise it to at least ${minimumContainerMiB(php.memoryLimitBytes)}Mi or lower php.memoryLimit`);

  return { resources, php };
}

/**
 * Photo previews: their size and quality, and the nightly job that makes them ahead of time. It
 * starts an hour after the backup by default, waits for the backup to end, and must stop before
 * the next night's backup starts.
 */
function resolvePreviews(input: HomecloudSettings, backupSchedule: string, v: Validator): ResolvedSettings['previews'] {
  const p = input.previews;
  const maxSize = p?.maxSize ?? 2048;
  v.check(Number.isInteger(maxSize) && maxSize >= 512 && maxSize <= 8192, 'previews.maxSize', maxSize,
    'use a whole number of pixels from 512 to 8192, e.g. 2048');
  const quality = p?.quality ?? 70;
  v.check(Number.isInteger(quality) && quality >= 1 && quality <= 100, 'previews.quality', quality, 'use a whole number from 1 to 100, e.g. 70');
  const [backupMinute, backupHour] = backupSchedule.split(/\s+/).map(Number);
  const backupAt = Number.isInteger(backupMinute) && Number.isInteger(backupHour) ? backupHour * 60 + backupMinute : undefined;
  const time = p?.time ?? (backupAt === undefined ? '04:30' : clock((backupAt + 60) % (24 * 60)));
  const m = CLOCK_TIME.exec(time);
  v.check(m !== null, 'previews.time', time, 'use a 24-hour time "HH:MM", e.g. "03:30"');
  const startAt = m ? Number(m[1]) * 60 + Number(m[2]) : 0;
  const timeLimitSeconds = (p?.timeLimit ?? Duration.hours(2)).toSeconds();
  v.check(timeLimitSeconds >= 600 && timeLimitSeconds <= 20 * 3600, 'previews.timeLimit', `${timeLimitSeconds}s`,
    'use from Duration.minutes(10) to Duration.hours(20)');
  if (m && backupAt !== undefined && timeLimitSeconds <= 20 * 3600) {
    const untilBackup = ((backupAt - startAt + 24 * 60) % (24 * 60)) * 60;
    v.check(untilBackup === 0 || timeLimitSeconds < untilBackup, 'previews.timeLimit', `${timeLimitSeconds / 3600} h`,
      `starting at ${time}, the thumbnail job would still run when the backup starts at ${clock(backupAt)}; `
      + `shorten it to under ${(untilBackup / 3600).toFixed(1)} h or start it earlier (previews.time)`);
  }
  return { maxSize, quality, makeAhead: p?.makeAhead ?? true, schedule: m ? `${Number(m[2])} ${Number(m[1])} * * *` : '30 4 * * *', timeLimitSeconds };
}

function clock(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/** The copy outside Docker Desktop: its folder, how it gets there, what it keeps. */
function resolveOffsite(input: HomecloudSettings, host: HostFacts, v: Validator): ResolvedSettings['backup']['offsite'] {
  const o = input.backup?.offsite;
  const folder = o?.folder ?? defaultOffsiteFolder(host.homeDir ?? '/root');
  const folderProblem = offsiteFolderProblem(folder);
  v.check(folderProblem === undefined, 'backup.offsite.folder', folder, folderProblem ?? '');
  const clusterType = o?.clusterType ?? 'kubeadm';
  v.check(clusterType === 'kubeadm' || clusterType === 'kind', 'backup.offsite.clusterType', clusterType,
    'use "kubeadm" or "kind", as shown in Docker Desktop\'s Settings → Kubernetes');
  const offsiteRetention = { daily: o?.retention?.daily ?? 7, weekly: o?.retention?.weekly ?? 4, monthly: o?.retention?.monthly ?? 12 };
  for (const [k, n] of Object.entries(offsiteRetention)) {
    v.check(Number.isInteger(n) && n >= 1, `backup.offsite.retention.${k}`, n, 'keep at least 1 (a whole number)');
  }
  const scrubEveryDays = o?.scrubEveryDays ?? 7;
  v.check(Number.isInteger(scrubEveryDays) && scrubEveryDays >= 1 && scrubEveryDays <= 90, 'backup.offsite.scrubEveryDays', scrubEveryDays,
    'use a whole number of days from 1 to 90');
  const offsite = { folder, hostPath: hostPathOf(folder), clusterType, retention: offsiteRetention, scrubEveryDays };

  return offsite;
}

/**
 * The name the family reaches this PC by: its own, or, when that is also a public internet domain
 * (a PC named "family" or "app"), its mDNS name (.local: Windows 10 and 11 answer it, and phones
 * ask for it), which the home CA may certify.
 */
export function pcName(hostname: string): string {
  return publicName(hostname) ? `${hostname}.local` : hostname;
}

/** What may leave the home: the family's choices and the hosts they add (lib/privacy/privacy-settings.ts). */
function resolvePrivacy(input: HomecloudSettings, v: Validator): ResolvedSettings['privacy'] {
  const p = input.privacy ?? {};
  const choices = {
    breachedPasswordCheck: p.breachedPasswordCheck ?? false,
    phoneNotifications: p.phoneNotifications ?? false,
    photoPlaces: p.photoPlaces ?? false,
  };
  const allowHosts = (p.allowHosts ?? []).map((h) => h.trim().toLowerCase());
  allowHosts.forEach((h, i) => v.check(isAllowHost(h), `privacy.allowHosts[${i}]`, h,
    'use a host name such as "api.example.org", or ".example.org" for every name under it (no "https://", path or port)'));
  return { ...choices, destinations: destinationsOf(choices, allowHosts.filter(isAllowHost)) };
}

class Validator {
  constructor(private readonly problems: string[]) {}

  check(ok: boolean, setting: string, value: unknown, fix: string): void {
    if (!ok) this.problems.push(`${setting} = ${JSON.stringify(value)} is not valid: ${fix}.`);
  }

  size(setting: string, value: SizeInput): number {
    const bytes = sizeToBytes(value);
    this.check(bytes !== undefined, setting, quantity(value),
      'use a positive size such as Size.gibibytes(10) or "10Gi" ("Mi", "Gi", "Ti" are binary units)');
    return bytes ?? 1;
  }

  cpu(setting: string, value: CpuInput): number {
    const millis = cpuToMillis(value);
    this.check(millis !== undefined, setting, quantity(value), 'use a positive CPU amount such as Cpu.millis(250), "250m" or "1"');
    return millis ?? 1;
  }
}

function quantity(value: SizeInput | CpuInput): string {
  if (typeof value === 'string') return value;
  return 'asString' in value ? value.asString() : String(value.amount);
}

function unique(items: string[]): string[] {
  return [...new Set(items)];
}

