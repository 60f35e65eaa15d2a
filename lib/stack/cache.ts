import { Construct } from 'constructs';
import * as k8s from '../../imports/k8s';
import { CREDENTIAL_KEYS, HomecloudCredentials } from './credentials';
import { Component, componentLabels, componentSelector } from '../config/labels';
import { POD_DEFAULTS, PULL_POLICY, RUNTIME_DEFAULT_SECCOMP, nonRoot, resourceRequirements } from '../config/pod-security';
import { mebibytes } from '../config/quantity';
import { ResolvedSettings } from '../config/settings';

export interface CacheProps {
  readonly settings: ResolvedSettings;
  readonly credentials: HomecloudCredentials;
}

/** valkey.conf: a cache and lock store with nothing to persist; the password is included from the Secret. */
export function renderValkeyConf(maxMemoryMiB: number): string {
  return [
    '# Rendered by homecloud (lib/stack/cache.ts).',
    `port ${Cache.PORT}`,
    'bind * -::*',
    'protected-mode no',
    // Nothing to persist: locks and cache entries are rebuilt on demand.
    'save ""',
    'appendonly no',
    'dir /data',
    `maxmemory ${maxMemoryMiB}mb`,
    // Lock keys carry a TTL, cache keys too; evict those first and never refuse writes.
    'maxmemory-policy volatile-lru',
    // The password lives in the credentials Secret, mounted separately.
    'include /run/homecloud/auth/cache-auth.conf',
    '',
  ].join('\n');
}

/**
 * A Redis-compatible cache (Valkey) for Nextcloud's file locking and distributed cache.
 * Memory only: locks and cache entries are rebuilt after a restart, so no volume.
 */
export class Cache extends Construct {
  public static readonly COMPONENT: Component = { name: 'valkey', component: 'cache' };
  public static readonly PORT = 6379;
  /** uid/gid of the valkey user in the official image. */
  private static readonly UID = 999;
  public readonly service: k8s.KubeService;
  public readonly selector: Record<string, string>;

  constructor(scope: Construct, id: string, props: CacheProps) {
    super(scope, id);
    const s = props.settings;
    const labels = componentLabels(s.namespace, Cache.COMPONENT);
    this.selector = componentSelector(s.namespace, Cache.COMPONENT);
    // Leave headroom below the container limit for the server itself and replies in flight.
    const maxMemoryMiB = Math.max(8, Math.floor(mebibytes(s.resources.cache.memoryLimitBytes) * 0.66));

    const config = new k8s.KubeConfigMap(this, 'config', {
      metadata: { name: 'cache-config', labels },
      data: {
        'valkey.conf': renderValkeyConf(maxMemoryMiB),
      },
    });

    new k8s.KubeDeployment(this, 'deployment', {
      metadata: { name: 'cache', labels },
      spec: {
        replicas: 1,
        strategy: { type: 'Recreate' },
        selector: { matchLabels: this.selector },
        template: {
          metadata: { labels },
          spec: {
            ...POD_DEFAULTS,
            // fsGroup makes the mounted Secret readable by the valkey group (mode 0440).
            securityContext: { seccompProfile: RUNTIME_DEFAULT_SECCOMP, runAsNonRoot: true, fsGroup: Cache.UID },
            containers: [this.valkeyContainer(s)],
            volumes: [
              { name: 'config', configMap: { name: config.name } },
              {
                name: 'auth',
                secret: {
                  secretName: props.credentials.secret.name,
                  items: [{ key: CREDENTIAL_KEYS.cacheAuthConf, path: 'cache-auth.conf' }],
                  defaultMode: 0o440,
                },
              },
              { name: 'data', emptyDir: { sizeLimit: k8s.Quantity.fromString('64Mi') } },
            ],
          },
        },
      },
    });

    this.service = new k8s.KubeService(this, 'service', {
      metadata: { name: 'cache', labels },
      spec: {
        type: 'ClusterIP',
        selector: this.selector,
        ports: [{ name: 'redis', port: Cache.PORT, targetPort: k8s.IntOrString.fromString('redis') }],
      },
    });
  }

  private valkeyContainer(s: ResolvedSettings): k8s.Container {
    return {
    name: 'valkey',
    image: s.images.cache,
    imagePullPolicy: PULL_POLICY,
    // Bypass the image entrypoint, which only exists to drop from root to this user.
    command: ['valkey-server', '/etc/valkey/valkey.conf'],
    ports: [{ name: 'redis', containerPort: Cache.PORT }],
    volumeMounts: [
      { name: 'config', mountPath: '/etc/valkey', readOnly: true },
      { name: 'auth', mountPath: '/run/homecloud/auth', readOnly: true },
      { name: 'data', mountPath: '/data' },
    ],
    resources: resourceRequirements(s.resources.cache),
    securityContext: nonRoot(Cache.UID, Cache.UID),
    readinessProbe: { tcpSocket: { port: k8s.IntOrString.fromString('redis') }, periodSeconds: 10 },
    livenessProbe: { tcpSocket: { port: k8s.IntOrString.fromString('redis') }, periodSeconds: 30, failureThreshold: 4 },
    };
  }
}
