import { Construct } from 'constructs';
import * as k8s from '../../imports/k8s';
import { configHash } from '../config/config-hash';
import { readScript } from '../config/container-scripts';
import { CREDENTIAL_KEYS, HomecloudCredentials } from '../stack/credentials';
import { Component, componentLabels, componentSelector } from '../config/labels';
import { POD_DEFAULTS, PULL_POLICY, RUNTIME_DEFAULT_SECCOMP, resourceRequirements, rootThenDrop } from '../config/pod-security';
import { KEEP_OLD_MAJOR_DAYS, PostgresLayout, postgresArgs, postgresLayout, postgresTuning } from './postgres-config';
import { formatBytes } from '../config/quantity';
import { imageMajor } from '../config/checks';
import { ResolvedSettings } from '../config/settings';

export interface DatabaseProps {
  readonly settings: ResolvedSettings;
  readonly credentials: HomecloudCredentials;
}

/** PostgreSQL for Nextcloud: one pod on its own volume, reachable only inside the cluster. */
export class Database extends Construct {
  public static readonly COMPONENT: Component = { name: 'postgresql', component: 'database' };
  public static readonly PORT = 5432;
  /** How long the old major's data stays after `npm run upgrade -- --postgres N`. */
  public static readonly KEEP_OLD_MAJOR_DAYS = KEEP_OLD_MAJOR_DAYS;
  /** The superuser the image creates; Nextcloud's installer makes its own user from it. */
  public readonly user = 'nextcloud';
  public readonly databaseName = 'nextcloud';
  public readonly image: string;
  /** The PostgreSQL major the image runs (its tag names it: resolveSettings checks). */
  public readonly major: number;
  /** Where the volume is mounted and PGDATA lies for this major. */
  public readonly layout: PostgresLayout;
  public readonly volumeClaim: k8s.KubePersistentVolumeClaim;
  /** The database's scripts (stop-fast.sh, and the major-upgrade scripts). */
  public readonly scripts: k8s.KubeConfigMap;
  public readonly service: k8s.KubeService;
  public readonly deployment: k8s.KubeDeployment;
  public readonly selector: Record<string, string>;

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    const s = props.settings;
    const labels = componentLabels(s.namespace, Database.COMPONENT);
    this.selector = componentSelector(s.namespace, Database.COMPONENT);
    this.image = s.images.postgres;
    // resolveSettings has checked that the tag names the major.
    this.major = imageMajor(this.image)!;
    const layout = postgresLayout(this.major);
    this.layout = layout;

    const pvc = new k8s.KubePersistentVolumeClaim(this, 'data', {
      metadata: { name: 'database-data', labels },
      spec: {
        accessModes: ['ReadWriteOnce'],
        storageClassName: s.storage.storageClassName,
        resources: { requests: { storage: k8s.Quantity.fromString(formatBytes(s.storage.databaseBytes)) } },
      },
    });

    this.volumeClaim = pvc;
    const scripts = new k8s.KubeConfigMap(this, 'scripts', {
      metadata: { name: 'database-scripts', labels },
      data: Object.fromEntries(['stop-fast.sh', 'tidy-old-majors.sh', 'upgrade-major.sh'].map((f) => [f, readScript(`database/${f}`)])),
    });
    this.scripts = scripts;

    this.deployment = new k8s.KubeDeployment(this, 'deployment', {
      metadata: { name: 'database', labels },
      spec: {
        replicas: 1,
        // Recreate: the volume is ReadWriteOnce and two servers must never share a data folder.
        strategy: { type: 'Recreate' },
        selector: { matchLabels: this.selector },
        template: {
          metadata: { labels, annotations: { 'homecloud/config-hash': configHash([scripts]) } },
          spec: {
            ...POD_DEFAULTS,
            securityContext: { seccompProfile: RUNTIME_DEFAULT_SECCOMP },
            // Long enough for the pre-stop fast shutdown below to finish a checkpoint.
            terminationGracePeriodSeconds: 60,
            initContainers: layout.sharesVolume ? [this.tidyContainer(s)] : [],
            containers: [this.postgresContainer(s, props.credentials)],
            volumes: [
              { name: 'data', persistentVolumeClaim: { claimName: pvc.name } },
              { name: 'scripts', configMap: { name: scripts.name, defaultMode: 0o555 } },
            ],
          },
        },
      },
    });

    this.service = new k8s.KubeService(this, 'service', {
      metadata: { name: 'database', labels },
      spec: {
        type: 'ClusterIP',
        selector: this.selector,
        ports: [{ name: 'postgres', port: Database.PORT, targetPort: k8s.IntOrString.fromString('postgres') }],
      },
    });
  }

  /** The server itself, with probes that wait out crash recovery and a fast shutdown. */
  private postgresContainer(s: ResolvedSettings, credentials: HomecloudCredentials): k8s.Container {
    const layout = this.layout;
    const isReady: k8s.ExecAction = {
      // Over TCP: during initdb the server listens only on its socket and must not count as ready.
      command: ['pg_isready', '--host=127.0.0.1', `--port=${Database.PORT}`, `--username=${this.user}`, `--dbname=${this.databaseName}`],
    };

    return {
    name: 'postgres',
    image: this.image,
    imagePullPolicy: PULL_POLICY,
    args: postgresArgs(postgresTuning(s.resources.database.memoryLimitBytes)),
    env: [
      { name: 'POSTGRES_USER', value: this.user },
      { name: 'POSTGRES_DB', value: this.databaseName },
      credentials.env('POSTGRES_PASSWORD', CREDENTIAL_KEYS.postgresPassword),
      { name: 'PGDATA', value: layout.pgdata },
      { name: 'TZ', value: s.timeZone },
    ],
    ports: [{ name: 'postgres', containerPort: Database.PORT }],
    volumeMounts: [
      { name: 'data', mountPath: layout.mountPath },
      { name: 'scripts', mountPath: '/homecloud', readOnly: true },
    ],
    resources: resourceRequirements(s.resources.database),
    // Root first: the entrypoint chowns PGDATA to postgres (uid 70) and drops to it;
    // host-path volumes (both Docker Desktop modes) ignore fsGroup.
    securityContext: rootThenDrop(),
    // Crash recovery after a power cut can take minutes on a big database.
    startupProbe: { exec: isReady, periodSeconds: 5, failureThreshold: 120, timeoutSeconds: 5 },
    readinessProbe: { exec: isReady, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 5 },
    livenessProbe: { exec: isReady, periodSeconds: 30, failureThreshold: 6, timeoutSeconds: 10 },
    // A fast shutdown instead of SIGTERM's "smart" one, which waits for clients.
    lifecycle: { preStop: { exec: { command: ['/bin/sh', '/homecloud/stop-fast.sh'] } } },
    };
  }

  /**
   * After a major upgrade the old major's data folder stays beside the new one for
   * KEEP_OLD_MAJOR_DAYS (`npm run rollback` goes back to it), then this removes it.
   * Root, as the image's entrypoint: the folders belong to the postgres user.
   */
  private tidyContainer(s: ResolvedSettings): k8s.Container {
    return {
      name: 'tidy',
      image: this.image,
      imagePullPolicy: PULL_POLICY,
      command: ['/bin/sh', '/homecloud/tidy-old-majors.sh'],
      env: [
        { name: 'DATA_ROOT', value: this.layout.mountPath },
        { name: 'PG_MAJOR_IN_USE', value: String(this.major) },
        { name: 'KEEP_DAYS', value: String(Database.KEEP_OLD_MAJOR_DAYS) },
      ],
      volumeMounts: [
        { name: 'data', mountPath: this.layout.mountPath },
        { name: 'scripts', mountPath: '/homecloud', readOnly: true },
      ],
      resources: resourceRequirements(s.resources.database),
      securityContext: rootThenDrop(),
    };
  }
}
