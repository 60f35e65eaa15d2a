import { Construct } from 'constructs';
import * as k8s from '../imports/k8s';
import { readScript } from './container-scripts';
import { CREDENTIAL_KEYS, HomecloudCredentials } from './credentials';
import { Database } from './database';
import { Component, componentLabels, componentSelector } from './labels';
import { POD_DEFAULTS, PULL_POLICY, RUNTIME_DEFAULT_SECCOMP, nonRoot, resourceRequirements } from './pod-security';
import { formatBytes } from './quantity';
import { ResolvedSettings } from './settings';

export interface BackupProps {
  readonly settings: ResolvedSettings;
  readonly credentials: HomecloudCredentials;
  readonly database: Database;
}

/** The nightly backup: a CronJob writing verified dumps to its own volume. */
export class Backup extends Construct {
  public static readonly COMPONENT: Component = { name: 'homecloud-backup', component: 'backup' };
  /** postgres on the Alpine images: the backup runs as the database's own user. */
  private static readonly POSTGRES_UID = 70;
  public readonly cronJob: k8s.KubeCronJob;
  public readonly volumeClaim: k8s.KubePersistentVolumeClaim;
  public readonly selector: Record<string, string>;

  constructor(scope: Construct, id: string, props: BackupProps) {
    super(scope, id);
    const s = props.settings;
    const labels = componentLabels(s.namespace, Backup.COMPONENT);
    this.selector = componentSelector(s.namespace, Backup.COMPONENT);

    this.volumeClaim = new k8s.KubePersistentVolumeClaim(this, 'data', {
      metadata: { name: 'backup-data', labels },
      spec: {
        accessModes: ['ReadWriteOnce'],
        storageClassName: s.storage.storageClassName,
        resources: { requests: { storage: k8s.Quantity.fromString(formatBytes(s.storage.backupsBytes)) } },
      },
    });

    const scripts = new k8s.KubeConfigMap(this, 'scripts', {
      metadata: { name: 'backup-scripts', labels },
      data: { 'backup.sh': readScript('backup/backup.sh') },
    });

    this.cronJob = new k8s.KubeCronJob(this, 'cronjob', {
      metadata: { name: 'backup', labels },
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
            backoffLimit: 1,
            activeDeadlineSeconds: s.backup.timeoutSeconds,
            template: {
              metadata: { labels },
              spec: {
                ...POD_DEFAULTS,
                restartPolicy: 'Never',
                securityContext: { seccompProfile: RUNTIME_DEFAULT_SECCOMP, fsGroup: Backup.POSTGRES_UID },
                containers: [{
                  name: 'backup',
                  // The database's own image and tag: pg_dump refuses servers newer than itself.
                  image: props.database.image,
                  imagePullPolicy: PULL_POLICY,
                  command: ['/bin/sh', '/homecloud/backup.sh'],
                  env: [
                    { name: 'PGHOST', value: props.database.service.name },
                    { name: 'PGPORT', value: String(Database.PORT) },
                    { name: 'PGUSER', value: props.database.user },
                    { name: 'PGDATABASE', value: props.database.databaseName },
                    props.credentials.env('PGPASSWORD', CREDENTIAL_KEYS.postgresPassword),
                    { name: 'BACKUP_DIR', value: '/backup' },
                    { name: 'TZ', value: s.timeZone },
                  ],
                  volumeMounts: [
                    { name: 'backup', mountPath: '/backup' },
                    { name: 'scripts', mountPath: '/homecloud', readOnly: true },
                    { name: 'tmp', mountPath: '/tmp' },
                  ],
                  resources: resourceRequirements(s.resources.backup),
                  securityContext: nonRoot(Backup.POSTGRES_UID, Backup.POSTGRES_UID),
                }],
                volumes: [
                  { name: 'backup', persistentVolumeClaim: { claimName: this.volumeClaim.name } },
                  { name: 'scripts', configMap: { name: scripts.name, defaultMode: 0o555 } },
                  { name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('256Mi') } },
                ],
              },
            },
          },
        },
      },
    });
  }
}
