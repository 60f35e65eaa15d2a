import { Duration } from 'cdk8s';
import { CpuInput, SizeInput } from './quantity';
import type { PreviewSettings } from '../photos/preview-settings';
import type { PrivacySettings, ResolvedPrivacy } from '../privacy/privacy-settings';

export type { PreviewSettings, PrivacySettings };

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
  readonly updates?: UpdateSettings;
  readonly resources?: ResourceSettings;
  readonly php?: PhpSettings;
  readonly previews?: PreviewSettings;
  /** What may leave the home (lib/privacy/privacy-settings.ts). */
  readonly privacy?: PrivacySettings;
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
 * Security updates by themselves: each night after a good backup, a task on this PC installs new
 * builds of the pinned tags (never a new major: `npm run upgrade`), and goes back by itself if
 * they do not become healthy.
 */
export interface UpdateSettings {
  /** Install new builds every night; false: only `npm run update` installs them. @default true */
  readonly automatic?: boolean;
  /**
   * Local time of the nightly check, "HH:MM"; it waits for the nightly backup if that still runs.
   * @default - half an hour after the backup's start (03:00 for the default 02:30 backup)
   */
  readonly time?: string;
  /**
   * How long a new build may take to become healthy before the previous images go back.
   * @default Duration.minutes(15)
   */
  readonly healthTimeout?: Duration;
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
  /** The egress point, an allow-listing forward proxy (Squid, Canonical's image). @default 'ubuntu/squid:6.6-24.04_beta' */
  readonly egress?: string;
}

/** CPU and memory for one container. Requests are reserved; limits are hard caps. */
export interface ContainerResources {
  readonly cpuRequest?: CpuInput;
  readonly cpuLimit?: CpuInput;
  readonly memoryRequest?: SizeInput;
  readonly memoryLimit?: SizeInput;
}

/**
 * The resource budget, per container. The defaults request about 600 MiB and cap the whole stack
 * at about 3⅓ GiB, so an 8 GB desktop stays usable. See DEFAULT_RESOURCES for each value.
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
  /** The nightly thumbnail job (occ preview:pre-generate), after the backup. */
  readonly previews?: ContainerResources;
  /** Client Push (notify_push), beside php-fpm: a small server holding the apps' WebSockets. */
  readonly push?: ContainerResources;
  /** The egress point (Squid): every outbound connection of the home cloud, a few a day. */
  readonly egress?: ContainerResources;
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
  readonly updates: { readonly automatic: boolean; readonly time: string; readonly healthTimeoutSeconds: number };
  readonly resources: Record<ContainerName, ResolvedResources>;
  readonly php: { readonly memoryLimitBytes: number; readonly uploadLimitBytes: number };
  readonly previews: {
    readonly maxSize: number;
    readonly quality: number;
    readonly makeAhead: boolean;
    /** Cron schedule of the nightly thumbnail job, in timeZone. */
    readonly schedule: string;
    readonly timeLimitSeconds: number;
  };
  readonly privacy: ResolvedPrivacy;
}

export const DEFAULT_IMAGES: Required<ImageSettings> = {
  nextcloud: 'nextcloud:34-fpm-alpine',
  postgres: 'postgres:18-alpine',
  cache: 'valkey/valkey:8-alpine',
  nginx: 'nginx:1.28-alpine',
  backupStore: 'restic/restic:0.18.1',
  egress: 'ubuntu/squid:6.6-24.04_beta',
};

/**
 * What runs at the same time (the three Deployments, the nightly backup and the thumbnail job waiting for it)
 * requests 608 MiB and is limited to 3408 MiB in total (about 3⅓ GiB).
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
  // One core at most: the PC stays responsive at night. occ at PREVIEW_PHP_MEMORY_MIB; it works at
  // most beside the backup's offsite step, whose 384Mi it matches: the night's peak stays the backup's.
  previews: { cpuRequest: '10m', cpuLimit: '1', memoryRequest: '32Mi', memoryLimit: '384Mi' },
  // One Rust binary holding a WebSocket per phone and PC: a few MiB for a family.
  push: { cpuRequest: '5m', cpuLimit: '250m', memoryRequest: '8Mi', memoryLimit: '32Mi' },
  // Squid without a cache: 23 MiB resident, measured with a few hundred requests (squid 5.7).
  egress: { cpuRequest: '5m', cpuLimit: '250m', memoryRequest: '16Mi', memoryLimit: '48Mi' },
};

/** PHP's memory_limit in the thumbnail job: a photo of up to Nextcloud's preview_max_memory (256 MiB) and itself. */
export const PREVIEW_PHP_MEMORY_MIB = 320;

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
