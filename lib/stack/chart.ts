import { App, Chart, YamlOutputType } from 'cdk8s';
import { Construct } from 'constructs';
import * as k8s from '../../imports/k8s';
import { Backup } from '../backup/backup';
import { Cache } from './cache';
import { HomecloudCredentials } from './credentials';
import { Database } from '../database/database';
import { DatabaseUpgrade } from '../database/database-upgrade';
import { IngressPolicy } from './ingress-policy';
import { Egress } from '../privacy/egress';
import { EgressPolicy } from '../privacy/egress-policy';
import { commonLabels } from '../config/labels';
import { Nextcloud } from '../nextcloud/nextcloud';
import { Previews } from '../photos/previews';
import { HomeCa } from '../https/home-ca';
import { Credentials } from '../config/secrets-store';
import { ServerCertificate } from '../https/server-certificate';
import { ResolvedSettings } from '../config/settings';

export interface HomecloudChartProps {
  readonly settings: ResolvedSettings;
  readonly credentials: Credentials;
  /** The home CA (lib/ca-store.ts), which signs the HTTPS certificate. */
  readonly ca: HomeCa;
  /** The PC's name, for the welcome page and the CA's name. @default 'this PC' */
  readonly label?: string;
}

/**
 * The home cloud: Nextcloud (php-fpm + nginx + background jobs) on PostgreSQL and a cache,
 * reachable from the LAN on one port, with a nightly backup of the database.
 *
 *     LAN ──:443──▶ nextcloud Service ──▶ [ nginx:443 ─▶ php-fpm ] ──▶ database Service ──▶ PostgreSQL
 *         (:80: welcome page, the home CA for phones; else redirect)  [ certificates: renews nginx's certificate ]
 *                                                      └──────▶ cache Service ─────▶ Valkey
 *     backup CronJob (nightly): [ files ◀─ nextcloud-html ] + [ database dump ◀─ database Service ]
 *                                ──▶ backup-data volume (snapshots); restore / backup-export on demand
 *     database-upgrade (on demand): new PostgreSQL major's folder ◀─ old server, on the database volume
 *     previews CronJob (nightly, after the backup): photo thumbnails ahead of time ──▶ nextcloud-html
 *     Nextcloud ──▶ egress (Squid: only the destinations the settings allow; its ledger for `status`) ──▶ internet
 *     (NetworkPolicies: no other pod leaves the namespace, where the cluster enforces them)
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
    const egress = new Egress(this, 'egress', { settings: s });
    const certificate = new ServerCertificate(this, 'certificate', { settings: s, ca: props.ca, label: props.label ?? 'this PC', labels });
    this.nextcloud = new Nextcloud(this, 'nextcloud', { settings: s, credentials, database: this.database, cache: this.cache, certificate, egress });
    this.backup = new Backup(this, 'backup', {
      settings: s, credentials, database: this.database, nextcloud: this.nextcloud, caSecret: certificate.caSecret,
    });
    const upgrade = new DatabaseUpgrade(this, 'database-upgrade', { settings: s, credentials, database: this.database });
    const previews = new Previews(this, 'previews', { settings: s, nextcloud: this.nextcloud, backup: this.backup });

    new IngressPolicy(this, 'database-clients', {
      name: 'database-clients', labels, target: this.database.selector, ports: [Database.PORT],
      clients: [this.nextcloud.selector, this.backup.selector, upgrade.selector, previews.selector],
    });
    new IngressPolicy(this, 'cache-clients', {
      // The backup, restore and thumbnail jobs run occ, which opens the cache too.
      name: 'cache-clients', labels, target: this.cache.selector, ports: [Cache.PORT], clients: [this.nextcloud.selector, this.backup.selector, previews.selector],
    });
    new IngressPolicy(this, 'egress-clients', {
      // Everything that runs Nextcloud's PHP, whose HTTP client sends its requests there.
      name: 'egress-clients', labels, target: egress.selector, ports: [Egress.PORT], clients: [this.nextcloud.selector, this.backup.selector, previews.selector],
    });
    new EgressPolicy(this, 'egress-policy', {
      labels, egress: egress.selector, trustedDomains: s.trustedDomains, familyPorts: [this.nextcloud.webPort, this.nextcloud.httpsPort],
    });
    new IngressPolicy(this, 'web-clients', { name: 'web-clients', labels, target: this.nextcloud.selector, ports: [this.nextcloud.webPort, this.nextcloud.httpsPort] });
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
export function buildApp(settings: ResolvedSettings, credentials: Credentials, ca: HomeCa, outdir: string, label?: string): { app: App; chart: HomecloudChart } {
  const app = new App({ outdir, yamlOutputType: YamlOutputType.FILE_PER_APP, outputFileExtension: '.k8s.yaml' });
  const ns = new NamespaceChart(app, 'namespace', settings);
  const chart = new HomecloudChart(app, 'homecloud', { settings, credentials, ca, label });
  chart.addDependency(ns);
  return { app, chart };
}
