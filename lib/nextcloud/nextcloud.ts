import { Construct } from 'constructs';
import * as k8s from '../../imports/k8s';
import { Cache } from '../stack/cache';
import { configHash } from '../config/config-hash';
import { readScript } from '../config/container-scripts';
import { Egress } from '../privacy/egress';
import { privacyEnv } from '../privacy/privacy-env';
import { CREDENTIAL_KEYS, HomecloudCredentials } from '../stack/credentials';
import { Database } from '../database/database';
import { Component, componentLabels, componentSelector } from '../config/labels';
import { familyUrl, inPodHostNames } from '../https/family-address';
import { NGINX_ALIVE_PATH, renderNginxConf } from './nginx-conf';
import { phpFpmSizing, previewConcurrency, renderFpmPool, renderPhpIni } from './php-sizing';
import { POD_DEFAULTS, PULL_POLICY, RUNTIME_DEFAULT_SECCOMP, nonRoot, resourceRequirements, rootThenDrop } from '../config/pod-security';
import { formatBytes, mebibytes } from '../config/quantity';
import { ServerCertificate } from '../https/server-certificate';
import { ResolvedSettings } from '../config/settings';
import { SMS_FOLDER } from '../phones/apps';
import { PREVIEW_APP, previewSettingsEnv } from '../photos/preview-settings';
import { PUSH_APP, PUSH_PATH, PUSH_PORT, PUSH_VOLUME, clientPushContainer } from './client-push';

export interface NextcloudProps {
  readonly settings: ResolvedSettings;
  readonly credentials: HomecloudCredentials;
  readonly database: Database;
  readonly cache: Cache;
  /** HTTPS: the certificate nginx serves and the containers that keep it current. */
  readonly certificate: ServerCertificate;
  /** The egress point: Nextcloud's only way out (lib/privacy/egress.ts). */
  readonly egress: Egress;
}

/**
 * The hooks the image runs, by folder; each file is mounted from the hooks ConfigMap. The first
 * install waits for the database as every start does: the image tries the install 11 times 10 s
 * apart, then fails for good (its code is already copied, so no later start installs again),
 * and a first PostgreSQL start on a slow disk can take longer than that.
 */
const HOOKS: Record<string, Array<[string, string]>> = {
  'pre-installation': [['10-wait-for-database.sh', 'wait-for-database.sh']],
  // The privacy baseline first: the apps' downloads already go through the egress point.
  'post-installation': [['05-privacy.sh', 'privacy.sh'], ['10-install-apps.sh', 'install-apps.sh']],
  'before-starting': [
    ['10-wait-for-database.sh', 'wait-for-database.sh'],
    ['20-sync-settings.sh', 'sync-settings.sh'],
    ['25-privacy.sh', 'privacy.sh'],
    ['30-install-apps.sh', 'install-apps.sh'],
    ['40-family-folders.sh', 'family-folders.sh'],
  ],
};

/**
 * Nextcloud: php-fpm, nginx in front of it, and a background-job loop, in one pod sharing
 * the web root volume; plus the LAN-facing Service.
 */
export class Nextcloud extends Construct {
  public static readonly COMPONENT: Component = { name: 'nextcloud', component: 'web' };
  public static readonly WEB_ROOT = '/var/www/html';
  public static readonly FPM_PORT = 9000;
  /** www-data on the Alpine images (33 on Debian ones). */
  public static readonly WWW_DATA_UID = 82;
  /** The nginx user in the official image. */
  public static readonly NGINX_UID = 101;
  /** Per PHP response, the part nginx may keep on disk for a slow client (see nginx-conf.ts). */
  public static readonly RESPONSE_BUFFER_BYTES = 128 * 2 ** 20;
  /** Buffered downloads the web container's /tmp has room for at once, beside the largest upload. */
  public static readonly BUFFERED_DOWNLOADS = 16;

  /** The web container's /tmp: the largest upload, the buffered downloads and 512 MiB to spare. */
  public static webTempBytes(uploadLimitBytes: number): number {
    return uploadLimitBytes + Nextcloud.BUFFERED_DOWNLOADS * Nextcloud.RESPONSE_BUFFER_BYTES + 512 * 2 ** 20;
  }

  public readonly selector: Record<string, string>;
  /**
   * nginx's port inside the pod: the same as the family's (`httpPort`), so that Nextcloud's
   * requests to its own address from inside the pod reach nginx (see lib/https/family-address.ts).
   */
  public readonly webPort: number;
  /** nginx's HTTPS port inside the pod: the family's (`httpsPort`), for the same reason. */
  public readonly httpsPort: number;
  public readonly service: k8s.KubeService;
  public readonly deployment: k8s.KubeDeployment;
  public readonly volumeClaim: k8s.KubePersistentVolumeClaim;
  /** The rendered nginx.conf (what the web ConfigMap holds). */
  public readonly nginxConf: string;
  /**
   * Environment every container that runs Nextcloud's PHP needs: config/redis.config.php
   * reads the cache settings from it on every run (occ in the backup job included).
   */
  public readonly phpEnv: k8s.EnvVar[];
  /** How many previews Nextcloud makes at once (see previewConcurrency). */
  private readonly previews: ReturnType<typeof previewConcurrency>;

  private readonly s: ResolvedSettings;
  private readonly props: NextcloudProps;
  private readonly labels: Record<string, string>;

  constructor(scope: Construct, id: string, props: NextcloudProps) {
    super(scope, id);
    const s = props.settings;
    this.s = s;
    this.props = props;
    this.labels = componentLabels(s.namespace, Nextcloud.COMPONENT);
    this.selector = componentSelector(s.namespace, Nextcloud.COMPONENT);
    this.webPort = s.httpPort;
    this.httpsPort = s.httpsPort;

    this.volumeClaim = new k8s.KubePersistentVolumeClaim(this, 'html', {
      metadata: { name: 'nextcloud-html', labels: this.labels },
      spec: {
        accessModes: ['ReadWriteOnce'],
        storageClassName: s.storage.storageClassName,
        resources: { requests: { storage: k8s.Quantity.fromString(formatBytes(s.storage.nextcloudBytes)) } },
      },
    });
    this.nginxConf = renderNginxConf({
      listenPort: this.webPort,
      httpsPort: this.httpsPort,
      tlsFile: ServerCertificate.TLS_FILE,
      welcomeDir: ServerCertificate.WELCOME_DIR,
      phpFpm: `127.0.0.1:${Nextcloud.FPM_PORT}`,
      webRoot: Nextcloud.WEB_ROOT,
      maxBodyBytes: s.php.uploadLimitBytes,
      tempDir: '/tmp',
      responseBufferBytes: Nextcloud.RESPONSE_BUFFER_BYTES,
      pushPort: PUSH_PORT,
    });
    const sizing = phpFpmSizing(s.resources.nextcloud.memoryLimitBytes, s.php.memoryLimitBytes);
    this.previews = previewConcurrency(sizing);
    const configs = this.configMaps(sizing);
    this.phpEnv = [
      { name: 'REDIS_HOST', value: props.cache.service.name },
      { name: 'REDIS_HOST_PORT', value: String(Cache.PORT) },
      props.credentials.env('REDIS_HOST_PASSWORD', CREDENTIAL_KEYS.cachePassword),
      { name: 'PHP_MEMORY_LIMIT', value: `${sizing.memoryLimitMiB}M` },
      { name: 'TZ', value: s.timeZone },
    ];
    this.deployment = this.webDeployment(configs);
    this.service = this.lanService();
  }

  /** nginx.conf, php-fpm's pool and ini, and the container scripts. */
  private configMaps(sizing: ReturnType<typeof phpFpmSizing>): Record<'web' | 'php' | 'scripts', k8s.KubeConfigMap> {
    const labels = this.labels;
    const web = new k8s.KubeConfigMap(this, 'web-config', {
      metadata: { name: 'nextcloud-web', labels },
      data: { 'nginx.conf': this.nginxConf },
    });
    const php = new k8s.KubeConfigMap(this, 'php-config', {
      metadata: { name: 'nextcloud-php', labels },
      data: { 'zz-homecloud-pool.conf': renderFpmPool(sizing), 'zz-homecloud.ini': renderPhpIni(sizing) },
    });
    const scriptNames = [...new Set([...Object.values(HOOKS).flat().map(([, file]) => file), 'cron-loop.sh', 'fpm-alive.sh', 'nginx-run.sh', 'push-run.sh', 'occ-lib.sh'])].sort();
    const scripts = new k8s.KubeConfigMap(this, 'scripts', {
      metadata: { name: 'nextcloud-scripts', labels },
      data: Object.fromEntries(scriptNames.map((f) => [f, readScript(`nextcloud/${f}`)])),
    });
    return { web, php, scripts };
  }

  // Probes, per container. Liveness asks only whether the container's own process works
  // (a restart mends nothing else); readiness asks whether the whole path answers, as a
  // browser would: nginx → php-fpm → database and cache, with a trusted Host.
  // No probe counts the time an install or upgrade takes: see fpm-alive.sh.

  /** php-fpm: the image's entrypoint installs or upgrades Nextcloud, runs the hooks, then serves PHP. */
  private phpFpmContainer(): k8s.Container {
    const s = this.s;
    const props = this.props;
    const cert = props.certificate;
    const trusted = s.trustedDomains.join(' ');
    const address = familyUrl(s.trustedDomains, s.httpsPort);
    const hookMounts: k8s.VolumeMount[] = Object.entries(HOOKS).flatMap(([folder, files]) => files.map(([target, file]) => ({
      name: 'scripts', mountPath: `/docker-entrypoint-hooks.d/${folder}/${target}`, subPath: file, readOnly: true,
    })));
    return {
      name: 'nextcloud',
      image: s.images.nextcloud,
      imagePullPolicy: PULL_POLICY,
      // The image's entrypoint installs or upgrades only when the command is php-fpm.
      args: ['php-fpm'],
      env: [
        { name: 'POSTGRES_HOST', value: props.database.service.name },
        { name: 'POSTGRES_DB', value: props.database.databaseName },
        { name: 'POSTGRES_USER', value: props.database.user },
        props.credentials.env('POSTGRES_PASSWORD', CREDENTIAL_KEYS.postgresPassword),
        props.credentials.env('NEXTCLOUD_ADMIN_USER', CREDENTIAL_KEYS.adminUser),
        props.credentials.env('NEXTCLOUD_ADMIN_PASSWORD', CREDENTIAL_KEYS.adminPassword),
        // Applied by the image at first install only; the before-starting hook keeps it current.
        { name: 'NEXTCLOUD_TRUSTED_DOMAINS', value: trusted },
        { name: 'HOMECLOUD_TRUSTED_DOMAINS', value: trusted },
        { name: 'HOMECLOUD_PHONE_REGION', value: s.phoneRegion ?? '' },
        // previewgenerator makes photo previews ahead of time (lib/photos/previews.ts);
        // notify_push is Client Push's server (client-push.ts).
        { name: 'HOMECLOUD_APPS', value: [...s.apps, ...(s.previews.makeAhead ? [PREVIEW_APP] : []), PUSH_APP].join(' ') },
        { name: 'HOMECLOUD_PUSH_ENDPOINT', value: `${address}${PUSH_PATH}` },
        // The folders the phone pages tell the family to upload into (lib/phones/apps.ts).
        { name: 'HOMECLOUD_FAMILY_FOLDERS', value: SMS_FOLDER.replace(/^\//, '') },
        { name: 'HOMECLOUD_CLI_URL', value: address },
        { name: 'HOMECLOUD_CA_FILE', value: cert.caCertPath },
        { name: 'HOMECLOUD_MAINTENANCE_WINDOW_START', value: String(s.maintenanceWindowStart) },
        { name: 'HOMECLOUD_PREVIEWS_NEW_AT_ONCE', value: String(this.previews.newPreviews) },
        { name: 'HOMECLOUD_PREVIEWS_AT_ONCE', value: String(this.previews.allPreviews) },
        ...previewSettingsEnv(s),
        ...privacyEnv(s, props.egress.address),
        { name: 'PHP_UPLOAD_LIMIT', value: `${mebibytes(s.php.uploadLimitBytes)}M` },
        ...this.phpEnv,
      ],
      ports: [{ name: 'fastcgi', containerPort: Nextcloud.FPM_PORT }],
      volumeMounts: [
        { name: 'html', mountPath: Nextcloud.WEB_ROOT },
        // Loaded after the image's www.conf and opcache-recommended.ini, so these win.
        { name: 'php-config', mountPath: '/usr/local/etc/php-fpm.d/zz-homecloud-pool.conf', subPath: 'zz-homecloud-pool.conf', readOnly: true },
        { name: 'php-config', mountPath: '/usr/local/etc/php/conf.d/zz-homecloud.ini', subPath: 'zz-homecloud.ini', readOnly: true },
        ...hookMounts,
        // Beside the hook folders, not in one: the hooks source it, the entrypoint never runs it.
        { name: 'scripts', mountPath: '/docker-entrypoint-hooks.d/occ-lib.sh', subPath: 'occ-lib.sh', readOnly: true },
        { name: 'scripts', mountPath: '/homecloud/fpm-alive.sh', subPath: 'fpm-alive.sh', readOnly: true },
        cert.caCertMount,
      ],
      resources: resourceRequirements(s.resources.nextcloud),
      // Root first: the entrypoint rsyncs the release into the volume as www-data, writes
      // redis-session.ini into the image, and php-fpm's master switches its workers to www-data.
      securityContext: rootThenDrop(),
      // Alive while the entrypoint installs or upgrades (however long), then while php-fpm
      // accepts connections. No startup probe: there is no deadline to give an upgrade.
      livenessProbe: { exec: { command: ['/bin/sh', '/homecloud/fpm-alive.sh'] }, periodSeconds: 30, failureThreshold: 4, timeoutSeconds: 10 },
      readinessProbe: { tcpSocket: { port: k8s.IntOrString.fromString('fastcgi') }, periodSeconds: 15, failureThreshold: 2 },
    };
  }

  /** Nextcloud's background jobs (cron.php every 5 minutes), as www-data. */
  private cronContainer(): k8s.Container {
    return {
      name: 'cron',
      image: this.s.images.nextcloud,
      imagePullPolicy: PULL_POLICY,
      // Any command but php-fpm skips the image's install/upgrade logic, as it must here.
      command: ['/bin/sh', '/homecloud/cron-loop.sh'],
      env: this.phpEnv,
      volumeMounts: [
        { name: 'html', mountPath: Nextcloud.WEB_ROOT },
        { name: 'scripts', mountPath: '/homecloud', readOnly: true },
        { name: 'cron-tmp', mountPath: '/tmp' },
      ],
      resources: resourceRequirements(this.s.resources.cron),
      securityContext: nonRoot(Nextcloud.WWW_DATA_UID, Nextcloud.WWW_DATA_UID),
    };
  }

  /** Client Push's server (client-push.ts), as www-data. */
  private pushContainer(): k8s.Container {
    return clientPushContainer({
      settings: this.s, phpEnv: this.phpEnv, cacheHost: this.props.cache.service.name, cachePort: Cache.PORT,
      webRoot: Nextcloud.WEB_ROOT, uid: Nextcloud.WWW_DATA_UID,
    });
  }

  /** nginx in front of php-fpm, on the family's ports. */
  private nginxContainer(): k8s.Container {
    const wholePath: k8s.HttpGetAction = {
      path: '/status.php',
      // Plain HTTP only redirects; the kubelet does not check the certificate.
      scheme: 'HTTPS',
      port: k8s.IntOrString.fromString('https'),
      httpHeaders: [{ name: 'Host', value: 'localhost' }],
    };
    return {
      name: 'web',
      image: this.s.images.nginx,
      imagePullPolicy: PULL_POLICY,
      // Skip the image entrypoint: its scripts rewrite files under /etc/nginx, which is read-only here.
      // nginx-run.sh reloads nginx when its certificate is renewed.
      command: ['/bin/sh', '/homecloud/nginx-run.sh', '/etc/nginx/homecloud/nginx.conf', ServerCertificate.TLS_FILE],
      ports: [{ name: 'http', containerPort: this.webPort }, { name: 'https', containerPort: this.httpsPort }],
      volumeMounts: [
        { name: 'html', mountPath: Nextcloud.WEB_ROOT, readOnly: true },
        { name: 'web-config', mountPath: '/etc/nginx/homecloud', readOnly: true },
        { name: 'web-tmp', mountPath: '/tmp' },
        { name: 'scripts', mountPath: '/homecloud/nginx-run.sh', subPath: 'nginx-run.sh', readOnly: true },
        ...this.props.certificate.nginxMounts,
      ],
      resources: resourceRequirements(this.s.resources.web),
      securityContext: nonRoot(Nextcloud.NGINX_UID, Nextcloud.NGINX_UID),
      // nginx's own answer: a hung nginx that still accepts connections is restarted.
      livenessProbe: {
        httpGet: { path: NGINX_ALIVE_PATH, port: k8s.IntOrString.fromString('http') },
        periodSeconds: 20, failureThreshold: 3, timeoutSeconds: 5,
      },
      // The whole path; during an install or upgrade the pod is simply not ready.
      readinessProbe: { httpGet: wholePath, periodSeconds: 15, failureThreshold: 3, timeoutSeconds: 5 },
    };
  }

  /** The one pod: php-fpm, nginx, the job loop and the certificate's renewer, sharing the web root. */
  private webDeployment(configs: Record<'web' | 'php' | 'scripts', k8s.KubeConfigMap>): k8s.KubeDeployment {
    const s = this.s;
    const labels = this.labels;
    const cert = this.props.certificate;
    // A new CA rolls the pod, which issues a new server certificate (its public certificate only:
    // no hash of a key in an annotation). The welcome folder is left out: nginx serves it from
    // its mounted volume, which the kubelet updates in place, so new phone pages need no restart.
    const podConfigHash = configHash([configs.web, configs.php, configs.scripts, cert.scripts], [cert.caCertPem]);
    const ownNames = inPodHostNames(s.trustedDomains);
    return new k8s.KubeDeployment(this, 'deployment', {
      metadata: { name: 'nextcloud', labels },
      spec: {
        replicas: 1,
        // Recreate: the volume is ReadWriteOnce, and two Nextcloud versions must never run at once.
        strategy: { type: 'Recreate' },
        selector: { matchLabels: this.selector },
        template: {
          metadata: { labels, annotations: { 'homecloud/config-hash': podConfigHash } },
          spec: {
            ...POD_DEFAULTS,
            securityContext: {
              seccompProfile: RUNTIME_DEFAULT_SECCOMP,
              // The unprivileged nginx binds the family's port, usually 80 (a namespaced, "safe" sysctl).
              ...(Math.min(this.webPort, this.httpsPort) < 1024 ? { sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }] } : {}),
            },
            // Nextcloud's setup checks request its public names from inside the pod: keep them here.
            ...(ownNames.length ? { hostAliases: [{ ip: '127.0.0.1', hostnames: ownNames }] } : {}),
            terminationGracePeriodSeconds: 60,
            initContainers: [cert.initContainer],
            containers: [this.phpFpmContainer(), this.nginxContainer(), this.cronContainer(), cert.renewer, this.pushContainer()],
            volumes: [
              { name: 'html', persistentVolumeClaim: { claimName: this.volumeClaim.name } },
              { name: 'web-config', configMap: { name: configs.web.name } },
              { name: 'php-config', configMap: { name: configs.php.name } },
              { name: 'scripts', configMap: { name: configs.scripts.name, defaultMode: 0o755 } },
              // nginx buffers each upload whole before handing it to PHP (room for the largest) and
              // the start of PHP's responses for slow clients. Over this limit the pod would be evicted.
              { name: 'web-tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString(formatBytes(Nextcloud.webTempBytes(s.php.uploadLimitBytes))) } },
              { name: 'cron-tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('1Gi') } },
              PUSH_VOLUME,
              ...cert.volumes,
            ],
          },
        },
      },
    });
  }

  /** Docker Desktop publishes LoadBalancer ports on the PC's own addresses: the LAN entry. */
  private lanService(): k8s.KubeService {
    return new k8s.KubeService(this, 'service', {
      metadata: { name: 'nextcloud', labels: this.labels },
      spec: {
        type: 'LoadBalancer',
        selector: this.selector,
        ports: [
          { name: 'http', port: this.s.httpPort, targetPort: k8s.IntOrString.fromString('http') },
          { name: 'https', port: this.s.httpsPort, targetPort: k8s.IntOrString.fromString('https') },
        ],
      },
    });
  }
}
