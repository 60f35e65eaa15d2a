import { defaultOffsiteFolder, hostPathOf, offsiteFolderProblem } from '../backup/offsite-folder';
import { Duration } from 'cdk8s';
import { MIN_PHP_WORKERS, minimumContainerMiB, phpFpmSizing } from '../nextcloud/php-sizing';
import { CpuInput, SizeInput, cpuToMillis, mebibytes, sizeToBytes } from './quantity';

/**
 * The per-install settings: everything a family might change, in one typed place.
 * Every field is optional; the default is documented where it is declared and
 * applied in `resolveSettings`. Edit the values in `main.ts`.
 */
export interface HomecloudSettings {
  /**
   * Kubernetes namespace that holds the whole stack. `kubectl delete namespace <this>` uninstalls.
   * @default 'homecloud'
   */
  readonly namespace?: string;

  /**
   * IANA time zone for the backup schedule and Nextcloud's logs, e.g. "Europe/Berlin".
   * @default - the time zone of the PC that runs `npm run synth`
   */
  readonly timeZone?: string;

  /**
   * Host names and IP addresses (optionally with ":port") people type to reach Nextcloud.
   * Nextcloud refuses requests for any other name.
   * @default - localhost, 127.0.0.1, this PC's host name and its LAN IPv4 addresses
   */
  readonly trustedDomains?: string[];

  /**
   * Port the home cloud answers on, on this PC and on the LAN.
   * @default 80
   */
  readonly httpPort?: number;

  /**
   * HTTPS port: the home cloud itself, with the home CA's certificate. The HTTP port then only
   * serves the welcome page (where phones get the CA) and redirects everything else here.
   * Open it in the Windows firewall as well (see the README).
   * @default 443
   */
  readonly httpsPort?: number;

  /**
   * Login name of the administrator created on first start (the password is generated).
   * @default 'admin'
   */
  readonly adminUser?: string;

  /**
   * Country code (ISO 3166-1 alpha-2, e.g. "DE") used for phone numbers without a country prefix.
   * @default - the region of this PC's locale; none when the locale has no region
   */
  readonly phoneRegion?: string;

  /**
   * Nextcloud apps installed from the App Store after the first install.
   * @default ['contacts', 'calendar', 'tasks', 'notes']
   */
  readonly apps?: string[];

  /**
   * Local hour (0–23, in `timeZone`) when Nextcloud's four-hour maintenance window for heavy
   * background jobs (cleanup, previews, indexing) starts. It must not overlap the nightly
   * backup, which puts Nextcloud in maintenance mode.
   * @default - five hours before the backup's hour, so the window ends an hour before it
   *   (21 for the default 02:30 backup)
   */
  readonly maintenanceWindowStart?: number;

  readonly storage?: StorageSettings;
  readonly backup?: BackupSettings;
  readonly images?: ImageSettings;
  readonly resources?: ResourceSettings;
  readonly php?: PhpSettings;
}

export interface StorageSettings {
  /**
   * Nextcloud's volume: the application and every family member's files.
   * @default '50Gi'
   */
  readonly nextcloud?: SizeInput;
  /**
   * PostgreSQL's volume.
   * @default '5Gi'
   */
  readonly database?: SizeInput;
  /**
   * The backup volume (database dumps and file snapshots).
   * @default '100Gi'
   */
  readonly backups?: SizeInput;
  /**
   * StorageClass for every volume. Docker Desktop names its class differently in its two
   * modes, so leave this unset unless you know you need another class.
   * @default - the cluster's default StorageClass
   */
  readonly storageClassName?: string;
}

export interface RetentionSettings {
  /** @default 7 */
  readonly daily?: number;
  /** @default 4 */
  readonly weekly?: number;
  /** @default 6 */
  readonly monthly?: number;
}

export interface BackupSettings {
  /**
   * Local time of the nightly backup, "HH:MM" (24-hour clock), in `timeZone`.
   * @default '02:30'
   */
  readonly time?: string;
  /**
   * A full cron schedule ("minute hour day month weekday"); overrides `time`.
   * @default - every day at `time`
   */
  readonly schedule?: string;
  /** How many backups to keep. */
  readonly retention?: RetentionSettings;
  /**
   * Put Nextcloud in maintenance mode while the backup runs, so files and database match.
   * @default true
   */
  readonly maintenanceMode?: boolean;
  /**
   * A backup still running after this long is stopped (so it cannot block the next nights).
   * @default Duration.hours(3)
   */
  readonly timeout?: Duration;
  /**
   * A backup missed while the PC was off or asleep still runs when it wakes within this window.
   * @default Duration.hours(20)
   */
  readonly catchUpWindow?: Duration;
  /** The nightly copy outside Docker Desktop's disk. */
  readonly offsite?: OffsiteSettings;
}

/**
 * The nightly off-disk copy: the backup repository (restic) mirrored to a folder on the PC, so
 * that resetting the cluster, switching its type or uninstalling Docker Desktop loses nothing.
 */
export interface OffsiteSettings {
  /**
   * A folder on this PC, outside Docker Desktop. A USB disk works if its drive letter is fixed
   * (Disk Management) and it stays plugged in at backup time.
   * @default - homecloud-backups in your user profile, e.g. C:\Users\Anna\homecloud-backups
   */
  readonly folder?: string;
  /**
   * Docker Desktop's cluster type (Settings → Kubernetes). 'kubeadm': the cluster writes the copy
   * itself. 'kind': folders on the PC come up empty inside kind clusters, so a scheduled task on
   * the PC makes the copy (`npm run deploy` offers to register it). `deploy` checks this.
   * @default 'kubeadm'
   */
  readonly clusterType?: 'kubeadm' | 'kind';
  /** How many nightly versions the copy keeps. @default 7 daily, 4 weekly, 12 monthly */
  readonly retention?: RetentionSettings;
  /**
   * Every this many days the night also reads back everything kept (snapshots, repository, the
   * copy) to find damage long before a restore needs it.
   * @default 7
   */
  readonly scrubEveryDays?: number;
}

/**
 * Container images. Every image the stack runs is set here and nowhere else.
 * Stateful images are pinned to a major version: a major change needs a guarded upgrade.
 */
export interface ImageSettings {
  /** @default 'nextcloud:34-fpm-alpine' */
  readonly nextcloud?: string;
  /** Also runs the backups: pg_dump refuses servers newer than itself. @default 'postgres:18-alpine' */
  readonly postgres?: string;
  /** Redis-compatible cache for file locking (Valkey: BSD-licensed, unlike Redis ≥ 7.4). @default 'valkey/valkey:8-alpine' */
  readonly cache?: string;
  /** @default 'nginx:1.28-alpine' */
  readonly nginx?: string;
  /** The backup repository and its off-disk copy (restic: one static binary, BSD-2-Clause). @default 'restic/restic:0.18.1' */
  readonly backupStore?: string;
}

/** CPU and memory for one container. Requests are reserved; limits are hard caps. */
export interface ContainerResources {
  readonly cpuRequest?: CpuInput;
  readonly cpuLimit?: CpuInput;
  readonly memoryRequest?: SizeInput;
  readonly memoryLimit?: SizeInput;
}

/**
 * The resource budget, per container. The defaults request about 550 MiB and cap the whole stack
 * at about 3 GiB, so an 8 GB desktop stays usable. See DEFAULT_RESOURCES for each value.
 */
export interface ResourceSettings {
  /** php-fpm: its memory limit decides how many PHP workers run (see lib/nextcloud/php-sizing.ts). */
  readonly nextcloud?: ContainerResources;
  /** Nextcloud background jobs (cron.php every 5 minutes). */
  readonly cron?: ContainerResources;
  /** nginx in front of php-fpm. */
  readonly web?: ContainerResources;
  /** Renews the HTTPS certificate (beside nginx, in the Nextcloud pod). */
  readonly certificates?: ContainerResources;
  readonly database?: ContainerResources;
  readonly cache?: ContainerResources;
  /**
   * The backup and restore jobs' containers that run Nextcloud's PHP (file snapshots, occ):
   * they need room for PHP's memory_limit, as the cron container does.
   */
  readonly backup?: ContainerResources;
  /** The backup, restore and export jobs' PostgreSQL-side containers (pg_dump, pg_restore, kubectl cp). */
  readonly backupDatabase?: ContainerResources;
  /**
   * The nightly job's restic container: it starts work only once the other two have finished,
   * so its memory is not added to theirs.
   */
  readonly offsite?: ContainerResources;
}

export interface PhpSettings {
  /**
   * PHP's memory_limit per request. Nextcloud recommends at least 512 MiB.
   * @default '512Mi'
   */
  readonly memoryLimit?: SizeInput;
  /**
   * Largest single upload through the browser or WebDAV; nginx's client_max_body_size
   * and PHP's upload limits both follow it. (Sync apps upload in chunks and are not limited.)
   * @default '2Gi'
   */
  readonly uploadLimit?: SizeInput;
}

/** What synth learned about the PC it runs on; supplies defaults, never overrides settings. */
export interface HostFacts {
  readonly hostname: string;
  readonly lanAddresses: string[];
  readonly timeZone: string;
  readonly region?: string;
  /** The user's home folder (on Windows: C:\Users\<name>), for the off-disk copy's default folder. */
  readonly homeDir?: string;
}

export type ContainerName = keyof Required<ResourceSettings>;

export interface ResolvedResources {
  readonly cpuRequestMillis: number;
  readonly cpuLimitMillis: number;
  readonly memoryRequestBytes: number;
  readonly memoryLimitBytes: number;
}

/** Settings with every default applied and every value checked. */
export interface ResolvedSettings {
  readonly namespace: string;
  readonly timeZone: string;
  readonly trustedDomains: string[];
  readonly httpPort: number;
  readonly httpsPort: number;
  readonly adminUser: string;
  readonly phoneRegion?: string;
  readonly apps: string[];
  /** Local hour the maintenance window starts (the hook converts it to the UTC hour Nextcloud wants). */
  readonly maintenanceWindowStart: number;
  readonly storage: {
    readonly nextcloudBytes: number;
    readonly databaseBytes: number;
    readonly backupsBytes: number;
    readonly storageClassName?: string;
  };
  readonly backup: {
    readonly schedule: string;
    readonly retention: Required<RetentionSettings>;
    readonly maintenanceMode: boolean;
    readonly timeoutSeconds: number;
    readonly catchUpSeconds: number;
    readonly offsite: {
      /** As the user wrote it (shown in messages). */
      readonly folder: string;
      /** As the node sees it. */
      readonly hostPath: string;
      readonly clusterType: 'kubeadm' | 'kind';
      readonly retention: Required<RetentionSettings>;
      readonly scrubEveryDays: number;
    };
  };
  readonly images: Required<ImageSettings>;
  readonly resources: Record<ContainerName, ResolvedResources>;
  readonly php: { readonly memoryLimitBytes: number; readonly uploadLimitBytes: number };
}

export const DEFAULT_IMAGES: Required<ImageSettings> = {
  nextcloud: 'nextcloud:34-fpm-alpine',
  postgres: 'postgres:18-alpine',
  cache: 'valkey/valkey:8-alpine',
  nginx: 'nginx:1.28-alpine',
  backupStore: 'restic/restic:0.18.1',
};

/**
 * What runs at the same time (the three Deployments and the nightly backup's two containers)
 * requests 552 MiB and is limited to 3328 MiB in total (3¼ GiB).
 */
export const DEFAULT_RESOURCES: Record<ContainerName, Required<ContainerResources>> = {
  // 5 PHP workers (lib/nextcloud/php-sizing.ts); with nginx buffering responses, enough for a family.
  nextcloud: { cpuRequest: '100m', cpuLimit: '2', memoryRequest: '256Mi', memoryLimit: '1280Mi' },
  cron: { cpuRequest: '20m', cpuLimit: '500m', memoryRequest: '32Mi', memoryLimit: '576Mi' },
  web: { cpuRequest: '20m', cpuLimit: '500m', memoryRequest: '16Mi', memoryLimit: '64Mi' },
  // A shell that sleeps, and every 6 hours PHP checking (≈ 20 MiB while it signs) the certificate.
  certificates: { cpuRequest: '5m', cpuLimit: '200m', memoryRequest: '8Mi', memoryLimit: '32Mi' },
  database: { cpuRequest: '50m', cpuLimit: '1', memoryRequest: '128Mi', memoryLimit: '512Mi' },
  cache: { cpuRequest: '20m', cpuLimit: '250m', memoryRequest: '16Mi', memoryLimit: '96Mi' },
  // occ at Nextcloud's memory_limit of 512M, as in the cron container.
  // Two cores when idle: every night it reads the previous snapshot back against its checksums
  // before building on it (a whole library), and on the first night checksums every file; two at once.
  backup: { cpuRequest: '20m', cpuLimit: '2', memoryRequest: '32Mi', memoryLimit: '576Mi' },
  backupDatabase: { cpuRequest: '20m', cpuLimit: '500m', memoryRequest: '32Mi', memoryLimit: '192Mi' },
  // restic: its index of a family's repository, and a few packs in flight. Two cores when the PC
  // has them idle (at night): a first backup encrypts every photo and reads its copy back (about
  // 15 + 11 s of processor time a GiB, measured), and with the files container's 14 s at half a
  // core each, the first night outlasted backup.timeout's 3 hours from about 140 GiB on. When
  // Nextcloud wants the processor too, Kubernetes shares it by the requests: Nextcloud comes first.
  offsite: { cpuRequest: '20m', cpuLimit: '2', memoryRequest: '32Mi', memoryLimit: '384Mi' },
};

/** Nextcloud runs its heavy background jobs during this many hours from maintenance_window_start. */
export const MAINTENANCE_WINDOW_HOURS = 4;

export const DEFAULT_APPS = ['contacts', 'calendar', 'tasks', 'notes'];

/** A user's mistake in the settings: each problem names the setting, the value and the fix. */
export class SettingsError extends Error {
  constructor(public readonly problems: string[]) {
    super(`homecloud settings have ${problems.length} problem${problems.length === 1 ? '' : 's'} (edit them in main.ts):\n`
      + problems.map((p) => `  - ${p}`).join('\n'));
    this.name = 'SettingsError';
  }
}

/**
 * Applies the defaults and validates everything; throws one SettingsError listing every problem.
 * Pure: the PC's facts come in as `host`.
 */
export function resolveSettings(input: HomecloudSettings, host: HostFacts): ResolvedSettings {
  const problems: string[] = [];
  const v = new Validator(problems);

  const namespace = input.namespace ?? 'homecloud';
  v.check(isDnsLabel(namespace), 'namespace', namespace,
    'use lowercase letters, digits and "-", at most 63 characters, starting and ending with a letter or digit');

  const timeZone = input.timeZone ?? host.timeZone;
  v.check(isTimeZone(timeZone), 'timeZone', timeZone, 'use an IANA zone name such as "Europe/Berlin" or "America/New_York"');

  // Defaults from the PC are kept only where valid (a Windows name may contain "_"); what the
  // user typed is always checked.
  const trustedDomains = unique(input.trustedDomains
    ?? ['localhost', '127.0.0.1', host.hostname, ...host.lanAddresses].filter(isTrustedDomain));
  v.check(trustedDomains.length > 0, 'trustedDomains', '[]', 'list at least one host name or IP address, e.g. ["localhost"]');
  trustedDomains.forEach((d, i) => v.check(isTrustedDomain(d), `trustedDomains[${i}]`, d,
    'use a host name like "homepc" or "homepc.local", or an IP address like 192.168.1.20 (optionally with ":port")'));

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

  const backupTime = input.backup?.time ?? '02:30';
  const timeMatch = /^([01][0-9]|2[0-3]):([0-5][0-9])$/.exec(backupTime);
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

  const images = { ...DEFAULT_IMAGES, ...input.images };
  for (const [k, ref] of Object.entries(images)) {
    const why = imageProblem(ref);
    v.check(why === undefined, `images.${k}`, ref, `${why}; pin a version, e.g. "${DEFAULT_IMAGES[k as keyof ImageSettings]}"`);
  }
  // The data folder's layout and the upgrade guard both depend on the PostgreSQL major.
  v.check(imageProblem(images.postgres) !== undefined || imageMajor(images.postgres) !== undefined, 'images.postgres', images.postgres,
    'keep the version tag even when pinning a digest, e.g. "postgres:18-alpine@sha256:…"');

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
  for (const name of ['cron', 'backup'] as const) {
    const needed = php.memoryLimitBytes + 64 * 2 ** 20;
    v.check(resources[name].memoryLimitBytes >= needed, `resources.${name}.memoryLimit`, `${mebibytes(resources[name].memoryLimitBytes)}Mi`,
      `it must hold one PHP run at php.memoryLimit plus 64Mi; raise it to at least ${mebibytes(needed)}Mi or lower php.memoryLimit`);
  }

  const fpm = phpFpmSizing(resources.nextcloud.memoryLimitBytes, php.memoryLimitBytes);
  v.check(fpm.maxChildren >= MIN_PHP_WORKERS, 'resources.nextcloud.memoryLimit', `${mebibytes(resources.nextcloud.memoryLimitBytes)}Mi`,
    `it fits only ${fpm.maxChildren} PHP worker(s) of php.memoryLimit ${fpm.memoryLimitMiB}Mi (see lib/nextcloud/php-sizing.ts); `
    + `raise it to at least ${minimumContainerMiB(php.memoryLimitBytes)}Mi or lower php.memoryLimit`);

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

  if (problems.length > 0) throw new SettingsError(problems);
  return {
    namespace, timeZone, trustedDomains, httpPort, httpsPort, adminUser, phoneRegion, apps, maintenanceWindowStart, storage,
    backup: { schedule, retention, maintenanceMode: input.backup?.maintenanceMode ?? true, timeoutSeconds, catchUpSeconds, offsite },
    images, resources, php,
  };
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

export function isDnsLabel(s: string): boolean {
  return /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(s);
}

function isDnsSubdomain(s: string): boolean {
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
