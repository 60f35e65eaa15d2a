import { Construct } from 'constructs';
import * as k8s from '../../imports/k8s';
import { readScript } from '../config/container-scripts';
import { CREDENTIAL_KEYS, HomecloudCredentials } from '../stack/credentials';
import { Database } from '../database/database';
import { AUTOMATIC_UPDATES_ANNOTATION, Component, RUNS_LAST_ANNOTATION, componentLabels, componentSelector } from '../config/labels';
import { Nextcloud } from '../nextcloud/nextcloud';
import { MaintenanceLease } from './maintenance-lease';
import { POD_DEFAULTS, PULL_POLICY, RUNTIME_DEFAULT_SECCOMP, nonRoot, resourceRequirements } from '../config/pod-security';
import { formatBytes } from '../config/quantity';
import { imageMajor } from '../config/checks';
import { ResolvedSettings } from '../config/settings';

export interface BackupProps {
  readonly settings: ResolvedSettings;
  readonly credentials: HomecloudCredentials;
  readonly database: Database;
  readonly nextcloud: Nextcloud;
  /**
   * The home CA's Secret: the nightly job puts it into the encrypted backup repository, so a
   * restore on a new PC brings it back and the family's phones go on trusting the home cloud.
   */
  readonly caSecret: k8s.KubeSecret;
}

const SCRIPTS = ['backup.sh', 'dump-database.sh', 'good-snapshots.sh', 'import.sh', 'lease.sh', 'manifest.sh', 'mirror.sh', 'nights.sh', 'offsite.sh', 'retention.sh', 'restore-check.sh', 'restore-database.sh', 'restore-files.sh'];

/**
 * A schedule that never comes (31 February): the restore and export CronJobs are suspended
 * templates, started on demand with `kubectl create job --from=cronjob/<name>` or by the client.
 */
const NEVER = '0 0 31 2 *';

/**
 * How many files a container's scripts checksum at once (manifest.sh, mirror.sh): one per core
 * of its CPU limit, at most 4 (a USB disk slows down with more readers and writers than that).
 */
function hashJobs(r: { readonly cpuLimitMillis: number }): k8s.EnvVar {
  return { name: 'HASH_JOBS', value: String(Math.min(4, Math.max(1, Math.ceil(r.cpuLimitMillis / 1000)))) };
}

/**
 * Backups: the nightly CronJob (database dump + incremental file snapshots on their own
 * volume), and on-demand templates to restore a snapshot and to copy snapshots off the PC's
 * Kubernetes disk.
 */
export class Backup extends Construct {
  public static readonly COMPONENT: Component = { name: 'homecloud-backup', component: 'backup' };
  public static readonly MOUNT = '/backup';
  /** Where the off-disk folder is mounted in the nightly job (kubeadm clusters). */
  public static readonly OFFSITE_MOUNT = '/offsite';
  /** Where the nightly job's offsite container reads the home CA (see BackupProps.caSecret). */
  public static readonly CA_MOUNT = '/homecloud-ca';
  public readonly cronJob: k8s.KubeCronJob;
  public readonly restoreTemplate: k8s.KubeCronJob;
  public readonly exportTemplate: k8s.KubeCronJob;
  public readonly importTemplate: k8s.KubeCronJob;
  public readonly volumeClaim: k8s.KubePersistentVolumeClaim;
  public readonly selector: Record<string, string>;

  private readonly s: ResolvedSettings;
  private readonly props: BackupProps;
  private readonly labels: Record<string, string>;
  /** The volumes every pod of this construct has (backup, html, scripts, coord, tmp). */
  private readonly volumes: k8s.Volume[];
  /** Environment every container of a run shares. */
  private readonly common: k8s.EnvVar[];
  private readonly offsiteVolumes: k8s.Volume[];
  /** Whether the off-disk folder is mounted into the nightly job (kubeadm) or copied by the PC (kind). */
  private readonly inCluster: boolean;

  constructor(scope: Construct, id: string, props: BackupProps) {
    super(scope, id);
    const s = props.settings;
    this.s = s;
    this.props = props;
    this.labels = componentLabels(s.namespace, Backup.COMPONENT);
    this.selector = componentSelector(s.namespace, Backup.COMPONENT);
    this.inCluster = s.backup.offsite.clusterType === 'kubeadm';

    this.volumeClaim = new k8s.KubePersistentVolumeClaim(this, 'data', {
      metadata: { name: 'backup-data', labels: this.labels },
      spec: {
        accessModes: ['ReadWriteOnce'],
        storageClassName: s.storage.storageClassName,
        resources: { requests: { storage: k8s.Quantity.fromString(formatBytes(s.storage.backupsBytes)) } },
      },
    });
    const scripts = new k8s.KubeConfigMap(this, 'scripts', {
      metadata: { name: 'backup-scripts', labels: this.labels },
      data: Object.fromEntries(SCRIPTS.map((f) => [f, readScript(`backup/${f}`)])),
    });
    this.volumes = [
      { name: 'backup', persistentVolumeClaim: { claimName: this.volumeClaim.name } },
      { name: 'html', persistentVolumeClaim: { claimName: props.nextcloud.volumeClaim.name } },
      { name: 'scripts', configMap: { name: scripts.name, defaultMode: 0o555 } },
      // How the two containers of a run talk (see dump-database.sh).
      { name: 'coord', emptyDir: { sizeLimit: k8s.Quantity.fromString('1Mi') } },
      { name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('256Mi') } },
    ];
    this.offsiteVolumes = this.inCluster
      ? [{ name: 'offsite', hostPath: { path: s.backup.offsite.hostPath, type: 'DirectoryOrCreate' } }]
      : [];
    this.common = [
      { name: 'BACKUP_DIR', value: Backup.MOUNT },
      { name: 'COORD_DIR', value: '/coord' },
      { name: 'TZ', value: s.timeZone },
    ];

    this.cronJob = this.nightlyCronJob();
    this.restoreTemplate = this.restoreJob();
    this.exportTemplate = this.exportJob();
    this.importTemplate = this.importJob();
  }

  private mounts(...extra: k8s.VolumeMount[]): k8s.VolumeMount[] {
    return [
      { name: 'backup', mountPath: Backup.MOUNT },
      { name: 'scripts', mountPath: '/homecloud', readOnly: true },
      { name: 'coord', mountPath: '/coord' },
      { name: 'tmp', mountPath: '/tmp' },
      ...extra,
    ];
  }

  // Both halves run as www-data: they share the backup volume, and it owns the Nextcloud files.
  // (The postgres image's Alpine base has uid 82 too; libpq needs only PGUSER.)
  private nextcloudContainer(name: string, script: string, env: k8s.EnvVar[], html: { readOnly: boolean }): k8s.Container {
    const uid = Nextcloud.WWW_DATA_UID;
    return {
      name,
      image: this.s.images.nextcloud,
      imagePullPolicy: PULL_POLICY,
      command: ['/bin/sh', `/homecloud/${script}`],
      env: [
        ...this.common,
        { name: 'NEXTCLOUD_WEBROOT', value: Nextcloud.WEB_ROOT },
        // The same cache settings and memory_limit as the web pod: occ warns (and large
        // instances fail) below Nextcloud's 512 MiB. TZ is in `common`.
        ...this.props.nextcloud.phpEnv.filter((e) => e.name !== 'TZ'),
        hashJobs(this.s.resources.backup),
        ...env,
      ],
      // `readOnly: false` is left out: the server drops it, and a client-side apply would then
      // see a difference on every run.
      volumeMounts: this.mounts({ name: 'html', mountPath: Nextcloud.WEB_ROOT, ...(html.readOnly ? { readOnly: true } : {}) }),
      resources: resourceRequirements(this.s.resources.backup),
      securityContext: nonRoot(uid, uid),
    };
  }

  private postgresContainer(name: string, script: string): k8s.Container {
    const db = this.props.database;
    const libpq: k8s.EnvVar[] = [
      { name: 'PGHOST', value: db.service.name },
      { name: 'PGPORT', value: String(Database.PORT) },
      { name: 'PGUSER', value: db.user },
      { name: 'PGDATABASE', value: db.databaseName },
      this.props.credentials.env('PGPASSWORD', CREDENTIAL_KEYS.postgresPassword),
    ];
    return {
      name,
      // The database's own image and tag: pg_dump refuses servers newer than itself.
      image: db.image,
      imagePullPolicy: PULL_POLICY,
      command: ['/bin/sh', `/homecloud/${script}`],
      env: [...this.common, ...libpq, { name: 'DUMP_WAIT_SECONDS', value: String(this.s.backup.timeoutSeconds) }],
      volumeMounts: this.mounts(),
      resources: resourceRequirements(this.s.resources.backupDatabase),
      securityContext: nonRoot(Nextcloud.WWW_DATA_UID, Nextcloud.WWW_DATA_UID),
    };
  }

  // The third container of the nightly job (offsite.sh): the restic repository and its copy
  // outside Docker Desktop's disk. On kubeadm clusters the folder on the PC is mounted here;
  // kind clusters show such folders empty, so there the PC's scheduled task copies it.
  private offsiteContainer(): k8s.Container {
    const s = this.s;
    const off = s.backup.offsite;
    return {
      name: 'offsite',
      image: s.images.backupStore,
      imagePullPolicy: PULL_POLICY,
      command: ['/bin/sh', '/homecloud/offsite.sh'],
      env: [
        ...this.common,
        this.props.credentials.env('RESTIC_PASSWORD', CREDENTIAL_KEYS.backupKey),
        { name: 'OFFSITE_MODE', value: this.inCluster ? 'cluster' : 'client' },
        ...(this.inCluster ? [{ name: 'OFFSITE_FOLDER', value: Backup.OFFSITE_MOUNT }] : []),
        { name: 'OFFSITE_FOLDER_NAME', value: off.folder },
        { name: 'KEEP_DAILY', value: String(off.retention.daily) },
        { name: 'KEEP_WEEKLY', value: String(off.retention.weekly) },
        { name: 'KEEP_MONTHLY', value: String(off.retention.monthly) },
        { name: 'SCRUB_EVERY_DAYS', value: String(off.scrubEveryDays) },
        { name: 'BACKUP_WAIT_SECONDS', value: String(s.backup.timeoutSeconds) },
        { name: 'CA_DIR', value: Backup.CA_MOUNT },
        hashJobs(s.resources.offsite),
      ],
      volumeMounts: this.mounts(
        { name: 'homecloud-ca', mountPath: Backup.CA_MOUNT, readOnly: true },
        ...(this.inCluster ? [{ name: 'offsite', mountPath: Backup.OFFSITE_MOUNT }] : []),
      ),
      resources: resourceRequirements(s.resources.offsite),
      securityContext: nonRoot(Nextcloud.WWW_DATA_UID, Nextcloud.WWW_DATA_UID),
    };
  }

  private podSpec({ annotations, labels, ...spec }: Partial<k8s.PodSpec> & Pick<k8s.PodSpec, 'containers'>
    & { annotations?: Record<string, string>; labels?: Record<string, string> }): k8s.PodTemplateSpec {
    return {
      metadata: { labels: { ...this.labels, ...labels }, ...(annotations ? { annotations } : {}) },
      spec: {
        ...POD_DEFAULTS,
        restartPolicy: 'Never',
        securityContext: { seccompProfile: RUNTIME_DEFAULT_SECCOMP, fsGroup: Nextcloud.WWW_DATA_UID },
        // Room for backup.sh to take Nextcloud out of maintenance mode when stopped.
        terminationGracePeriodSeconds: 60,
        volumes: this.volumes,
        ...spec,
      },
    };
  }

  /** A suspended CronJob that only serves as a template for Jobs the client starts. */
  private onDemand(name: string, template: k8s.PodTemplateSpec, deadlineSeconds: number): k8s.KubeCronJob {
    const labels = this.labels;
    return new k8s.KubeCronJob(this, name, {
      metadata: { name, labels },
      spec: {
        schedule: NEVER,
        suspend: true,
        jobTemplate: { metadata: { labels }, spec: { backoffLimit: 0, activeDeadlineSeconds: deadlineSeconds, template } },
      },
    });
  }

  private nightlyCronJob(): k8s.KubeCronJob {
    const s = this.s;
    const labels = this.labels;
    const offsite = this.offsiteContainer();
    const caVolume: k8s.Volume = { name: 'homecloud-ca', secret: { secretName: this.props.caSecret.name, defaultMode: 0o444 } };
    // The nightly run takes the maintenance lock itself (lease.sh): its pods alone get a token.
    const holders = { 'homecloud.io/maintenance-lock': 'holder' };
    const lease = new MaintenanceLease(this, 'maintenance-lease', { namespace: s.namespace, labels, holders });
    return new k8s.KubeCronJob(this, 'cronjob', {
      // The PC's security update comes after this backup (client/auto-update.ts): when, for status.
      metadata: { name: 'backup', labels, annotations: { [AUTOMATIC_UPDATES_ANNOTATION]: s.updates.automatic ? s.updates.time : 'off' } },
      spec: {
        schedule: s.backup.schedule,
        // Without a zone the schedule would follow the cluster's clock (UTC in Docker Desktop).
        timeZone: s.timeZone,
        // A run missed while the PC was asleep starts when it wakes, within this window
        // (cdk8s-plus's 10 s default would silently skip it).
        startingDeadlineSeconds: s.backup.catchUpSeconds,
        // Never two backups at once; activeDeadlineSeconds below ends a hung one.
        concurrencyPolicy: 'Forbid',
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
          metadata: { labels },
          spec: {
            // A failed backup is reported, not retried blindly in the middle of the night.
            backoffLimit: 0,
            activeDeadlineSeconds: s.backup.timeoutSeconds,
            template: this.podSpec({
              // offsite.sh starts work only after backup.sh has exited (see client/capacity.ts).
              annotations: { [RUNS_LAST_ANNOTATION]: offsite.name },
              labels: holders,
              serviceAccountName: lease.serviceAccount.name,
              automountServiceAccountToken: true,
              containers: [
                this.nextcloudContainer('files', 'backup.sh', [
                  { name: 'MAINTENANCE_MODE', value: String(s.backup.maintenanceMode) },
                  { name: 'RETAIN_DAILY', value: String(s.backup.retention.daily) },
                  { name: 'RETAIN_WEEKLY', value: String(s.backup.retention.weekly) },
                  { name: 'RETAIN_MONTHLY', value: String(s.backup.retention.monthly) },
                  { name: 'LOCK_STALE_SECONDS', value: String(s.backup.timeoutSeconds) },
                  { name: 'DUMP_WAIT_SECONDS', value: String(s.backup.timeoutSeconds) },
                  // The lock is held until the off-disk copy (the third container) ends too.
                  { name: 'OFFSITE_IN_POD', value: 'true' },
                ], { readOnly: false }),
                this.postgresContainer('database', 'dump-database.sh'),
                offsite,
              ],
              volumes: [...this.volumes, ...this.offsiteVolumes, caVolume],
            }),
          },
        },
      },
    });
  }

  // Restore: each step starts only when the one before succeeded; the client scales
  // Nextcloud to zero first and back up afterwards.
  private restoreJob(): k8s.KubeCronJob {
    return this.onDemand('restore', this.podSpec({
      initContainers: [
        this.nextcloudContainer('check', 'restore-check.sh', [
          { name: 'NEXTCLOUD_IMAGE_MAJOR', value: String(imageMajor(this.s.images.nextcloud) ?? '') },
        ], { readOnly: true }),
        this.postgresContainer('database', 'restore-database.sh'),
      ],
      containers: [this.nextcloudContainer('files', 'restore-files.sh', [], { readOnly: false })],
    }), this.s.backup.timeoutSeconds);
  }

  // Export: a pod that holds the backup volume read-only for `kubectl cp` (or the
  // client's export) to copy snapshots to a Windows folder; it ends itself after two hours.
  private exportJob(): k8s.KubeCronJob {
    const uid = Nextcloud.WWW_DATA_UID;
    return this.onDemand('backup-export', this.podSpec({
      containers: [{
        name: 'export',
        image: this.props.database.image,
        imagePullPolicy: PULL_POLICY,
        command: ['sleep', '7200'],
        volumeMounts: [{ name: 'backup', mountPath: Backup.MOUNT, readOnly: true }],
        resources: resourceRequirements(this.s.resources.backupDatabase),
        securityContext: nonRoot(uid, uid),
      }],
      volumes: [this.volumes[0]],
    }), 7200 + 60);
  }

  // Import: a restic pod for `restore --from FOLDER`. The client uploads the copy (or, on
  // kubeadm, finds it mounted) and runs import.sh in it; the restore template does the rest.
  private importJob(): k8s.KubeCronJob {
    const credentials = this.props.credentials;
    return this.onDemand('backup-import', this.podSpec({
      containers: [{
        ...this.offsiteContainer(),
        name: 'import',
        command: ['sleep', '7200'],
        env: [
          ...this.common,
          credentials.env('RESTIC_PASSWORD', CREDENTIAL_KEYS.backupKey),
          credentials.env('INSTALL_KEY', CREDENTIAL_KEYS.backupKey),
        ],
        volumeMounts: this.mounts(...(this.inCluster ? [{ name: 'offsite', mountPath: Backup.OFFSITE_MOUNT, readOnly: true }] : [])),
      }],
      volumes: [...this.volumes, ...this.offsiteVolumes],
    }), 7200 + 60);
  }
}
