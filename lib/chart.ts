import { App, Chart, YamlOutputType } from 'cdk8s';
import { Construct } from 'constructs';
import * as k8s from '../imports/k8s';
import { Backup } from './backup';
import { Cache } from './cache';
import { HomecloudCredentials } from './credentials';
import { Database } from './database';
import { IngressPolicy } from './ingress-policy';
import { commonLabels } from './labels';
import { Nextcloud } from './nextcloud';
import { Credentials } from './secrets-store';
import { ResolvedSettings } from './settings';

export interface HomecloudChartProps {
  readonly settings: ResolvedSettings;
  readonly credentials: Credentials;
}

/**
 * The home cloud: Nextcloud (php-fpm + nginx + background jobs) on PostgreSQL and a cache,
 * reachable from the LAN on one port, with a nightly backup of the database.
 *
 *     LAN ──:80──▶ nextcloud Service ──▶ [ nginx:80 ─▶ php-fpm ] ──▶ database Service ──▶ PostgreSQL
 *                                                      └──────▶ cache Service ─────▶ Valkey
 *     backup CronJob (nightly): [ files ◀─ nextcloud-html ] + [ database dump ◀─ database Service ]
 *                                ──▶ backup-data volume (snapshots); restore / backup-export on demand
 */
export class HomecloudChart extends Chart {
  public readonly nextcloud: Nextcloud;
  public readonly database: Database;
  public readonly cache: Cache;
  public readonly backup: Backup;

  constructor(scope: Construct, id: string, props: HomecloudChartProps) {
    const s = props.settings;
    const labels = commonLabels(s.namespace);
    super(scope, id, { namespace: s.namespace, labels });

    const credentials = new HomecloudCredentials(this, 'credentials', { credentials: props.credentials, adminUser: s.adminUser, labels });
    this.database = new Database(this, 'database', { settings: s, credentials });
    this.cache = new Cache(this, 'cache', { settings: s, credentials });
    this.nextcloud = new Nextcloud(this, 'nextcloud', { settings: s, credentials, database: this.database, cache: this.cache });
    this.backup = new Backup(this, 'backup', { settings: s, credentials, database: this.database, nextcloud: this.nextcloud });

    new IngressPolicy(this, 'database-clients', {
      name: 'database-clients', labels, target: this.database.selector, port: Database.PORT,
      clients: [this.nextcloud.selector, this.backup.selector],
    });
    new IngressPolicy(this, 'cache-clients', {
      // The backup and restore jobs run occ, which opens the cache too.
      name: 'cache-clients', labels, target: this.cache.selector, port: Cache.PORT, clients: [this.nextcloud.selector, this.backup.selector],
    });
    new IngressPolicy(this, 'web-clients', { name: 'web-clients', labels, target: this.nextcloud.selector, port: this.nextcloud.webPort });
  }
}

/** The namespace on its own, so it is created before anything that lives in it. */
export class NamespaceChart extends Chart {
  constructor(scope: Construct, id: string, settings: ResolvedSettings) {
    super(scope, id, { labels: commonLabels(settings.namespace) });
    new k8s.KubeNamespace(this, 'namespace', { metadata: { name: settings.namespace } });
  }
}

/** The whole app; synthesized into one file whose order a single `kubectl apply -f` follows. */
export function buildApp(settings: ResolvedSettings, credentials: Credentials, outdir: string): { app: App; chart: HomecloudChart } {
  const app = new App({ outdir, yamlOutputType: YamlOutputType.FILE_PER_APP, outputFileExtension: '.k8s.yaml' });
  const ns = new NamespaceChart(app, 'namespace', settings);
  const chart = new HomecloudChart(app, 'homecloud', { settings, credentials });
  chart.addDependency(ns);
  return { app, chart };
}
