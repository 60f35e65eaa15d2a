import { Construct } from 'constructs';
import * as k8s from '../../imports/k8s';
import { CREDENTIAL_KEYS, HomecloudCredentials } from '../stack/credentials';
import { Database } from './database';
import { Component, componentLabels, componentSelector } from '../config/labels';
import { POD_DEFAULTS, PULL_POLICY, RUNTIME_DEFAULT_SECCOMP, resourceRequirements, rootThenDrop } from '../config/pod-security';
import { ResolvedSettings } from '../config/settings';

export interface DatabaseUpgradeProps {
  readonly settings: ResolvedSettings;
  readonly credentials: HomecloudCredentials;
  /** The database whose volume gets the new major's folder, and whose Service serves the old one meanwhile. */
  readonly database: Database;
  /** How long the move may take. @default 6 hours */
  readonly deadlineSeconds?: number;
}

/**
 * The on-demand template `npm run upgrade -- --postgres N` runs after it has pinned the new
 * major: a Job in the new major's image that fills the new data folder from the old server
 * (upgrade-major.sh) while the old server keeps running untouched. The client reads this
 * template from the freshly synthesized manifests (the cluster still holds the old one).
 */
export class DatabaseUpgrade extends Construct {
  public static readonly COMPONENT: Component = { name: 'postgresql-upgrade', component: 'database-upgrade' };
  public readonly template: k8s.KubeCronJob;
  public readonly selector: Record<string, string>;

  constructor(scope: Construct, id: string, props: DatabaseUpgradeProps) {
    super(scope, id);
    const s = props.settings;
    const db = props.database;
    const labels = componentLabels(s.namespace, DatabaseUpgrade.COMPONENT);
    this.selector = componentSelector(s.namespace, DatabaseUpgrade.COMPONENT);
    this.template = new k8s.KubeCronJob(this, 'template', {
      metadata: { name: 'database-upgrade', labels },
      spec: {
        // Never scheduled (31 February): started by the client only.
        schedule: '0 0 31 2 *',
        suspend: true,
        jobTemplate: {
          metadata: { labels },
          spec: {
            backoffLimit: 0,
            activeDeadlineSeconds: props.deadlineSeconds ?? 6 * 3600,
            template: {
              metadata: { labels },
              spec: {
                ...POD_DEFAULTS,
                restartPolicy: 'Never',
                securityContext: { seccompProfile: RUNTIME_DEFAULT_SECCOMP },
                containers: [{
                  name: 'upgrade',
                  image: db.image,
                  imagePullPolicy: PULL_POLICY,
                  command: ['/bin/sh', '/homecloud/upgrade-major.sh'],
                  env: [
                    { name: 'PGDATA', value: db.layout.pgdata },
                    { name: 'OLD_HOST', value: db.service.name },
                    { name: 'OLD_PORT', value: String(Database.PORT) },
                    { name: 'PGUSER', value: db.user },
                    { name: 'PGDATABASE', value: db.databaseName },
                    props.credentials.env('PGPASSWORD', CREDENTIAL_KEYS.postgresPassword),
                    { name: 'TZ', value: s.timeZone },
                  ],
                  volumeMounts: [
                    { name: 'data', mountPath: db.layout.mountPath },
                    { name: 'scripts', mountPath: '/homecloud', readOnly: true },
                  ],
                  // Nextcloud is stopped meanwhile: the database's own budget is free twice over.
                  resources: resourceRequirements(s.resources.database),
                  // Root to prepare the new folder, then upgrade-major.sh drops to postgres.
                  securityContext: rootThenDrop(),
                }],
                volumes: [
                  { name: 'data', persistentVolumeClaim: { claimName: db.volumeClaim.name } },
                  { name: 'scripts', configMap: { name: db.scripts.name, defaultMode: 0o555 } },
                ],
              },
            },
          },
        },
      },
    });
  }
}
