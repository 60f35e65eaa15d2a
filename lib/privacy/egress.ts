import { Construct } from 'constructs';
import * as k8s from '../../imports/k8s';
import { configHash } from '../config/config-hash';
import { readScript } from '../config/container-scripts';
import { Component, componentLabels, componentSelector } from '../config/labels';
import { POD_DEFAULTS, PULL_POLICY, RUNTIME_DEFAULT_SECCOMP, nonRoot, resourceRequirements } from '../config/pod-security';
import { formatBytes } from '../config/quantity';
import { ResolvedSettings } from '../config/settings';
import { EGRESS_POINT } from './egress-point';
import { renderSquidConf } from './squid-conf';

export interface EgressProps {
  readonly settings: ResolvedSettings;
}

/**
 * The egress point: the home cloud's one way out. An allow-listing forward proxy (Squid) that
 * admits only the destinations the settings allow (lib/privacy/privacy-settings.ts) and writes
 * every request, admitted or refused, to its ledger on a small volume, which `npm run status`
 * reads. Nextcloud sends its outbound requests here (its `proxy` setting, privacy.sh); the
 * NetworkPolicies (egress-policy.ts) deny the namespace every other way out where the cluster
 * enforces them.
 *
 * Squid rather than our own proxy: it is the forward proxy of the field, with allow-lists by
 * name, CONNECT handling and access logs that have been attacked and fixed for decades; Canonical
 * publishes and patches its image.
 */
export class Egress extends Construct {
  public static readonly COMPONENT: Component = { name: 'squid', component: EGRESS_POINT.component };
  public static readonly PORT = EGRESS_POINT.port;
  public static readonly LOG_DIR = EGRESS_POINT.logDir;
  public static readonly KEEP_LOGS = EGRESS_POINT.keepLogs;
  public static readonly UID = EGRESS_POINT.uid;
  private static readonly RUN_DIR = '/run/homecloud-egress';

  public readonly selector: Record<string, string>;
  public readonly service: k8s.KubeService;
  /** What Nextcloud's `proxy` setting names: the Service, by its name in the namespace. */
  public readonly address: string;

  constructor(scope: Construct, id: string, props: EgressProps) {
    super(scope, id);
    const s = props.settings;
    const labels = componentLabels(s.namespace, Egress.COMPONENT);
    this.selector = componentSelector(s.namespace, Egress.COMPONENT);

    const config = new k8s.KubeConfigMap(this, 'config', {
      metadata: { name: 'egress-config', labels },
      data: {
        'squid.conf': renderSquidConf({
          port: Egress.PORT, destinations: s.privacy.destinations, logDir: Egress.LOG_DIR, runDir: Egress.RUN_DIR, keepLogs: Egress.KEEP_LOGS,
        }),
        'egress-run.sh': readScript('privacy/egress-run.sh'),
      },
    });
    const ledger = new k8s.KubePersistentVolumeClaim(this, 'ledger', {
      metadata: { name: 'egress-ledger', labels },
      spec: {
        accessModes: ['ReadWriteOnce'],
        storageClassName: s.storage.storageClassName,
        // A line per request: a family's week is a few thousand lines, well under a mebibyte.
        resources: { requests: { storage: k8s.Quantity.fromString('64Mi') } },
      },
    });

    new k8s.KubeDeployment(this, 'deployment', {
      metadata: { name: 'egress', labels },
      spec: {
        replicas: 1,
        // Recreate: the ledger volume is ReadWriteOnce.
        strategy: { type: 'Recreate' },
        selector: { matchLabels: this.selector },
        template: {
          metadata: { labels, annotations: { 'homecloud/config-hash': configHash([config]) } },
          spec: {
            ...POD_DEFAULTS,
            securityContext: { seccompProfile: RUNTIME_DEFAULT_SECCOMP, fsGroup: Egress.UID },
            initContainers: [this.ledgerFolder(s)],
            containers: [this.squidContainer(s)],
            volumes: [
              { name: 'config', configMap: { name: config.name } },
              { name: 'ledger', persistentVolumeClaim: { claimName: ledger.name } },
              { name: 'run', emptyDir: { sizeLimit: k8s.Quantity.fromString(formatBytes(16 * 2 ** 20)) } },
            ],
          },
        },
      },
    });

    this.service = new k8s.KubeService(this, 'service', {
      metadata: { name: 'egress', labels },
      spec: {
        type: 'ClusterIP',
        selector: this.selector,
        ports: [{ name: 'proxy', port: Egress.PORT, targetPort: k8s.IntOrString.fromString('proxy') }],
      },
    });
    this.address = `${this.service.name}:${Egress.PORT}`;
  }

  /**
   * Host-path provisioners (Docker Desktop's among them) ignore fsGroup: the ledger's folder is
   * handed to Squid's user once, by a root step that may only change owners.
   */
  private ledgerFolder(s: ResolvedSettings): k8s.Container {
    return {
      name: 'ledger-folder',
      image: s.images.egress,
      imagePullPolicy: PULL_POLICY,
      command: ['chown', `${Egress.UID}:${Egress.UID}`, Egress.LOG_DIR],
      volumeMounts: [{ name: 'ledger', mountPath: Egress.LOG_DIR }],
      resources: resourceRequirements(s.resources.egress),
      securityContext: {
        runAsUser: 0, runAsNonRoot: false, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'], add: ['CHOWN'] }, seccompProfile: RUNTIME_DEFAULT_SECCOMP,
      },
    };
  }

  private squidContainer(s: ResolvedSettings): k8s.Container {
    const probe = { tcpSocket: { port: k8s.IntOrString.fromString('proxy') } };
    return {
      name: EGRESS_POINT.container,
      image: s.images.egress,
      imagePullPolicy: PULL_POLICY,
      // Not the image's entrypoint, which starts as root to hand its folders to the proxy user.
      command: ['/bin/sh', '/etc/homecloud-egress/egress-run.sh'],
      env: [
        { name: 'EGRESS_CONF', value: '/etc/homecloud-egress/squid.conf' },
        // The ledger turns over at the family's midnight.
        { name: 'TZ', value: s.timeZone },
      ],
      ports: [{ name: 'proxy', containerPort: Egress.PORT }],
      volumeMounts: [
        { name: 'config', mountPath: '/etc/homecloud-egress', readOnly: true },
        { name: 'ledger', mountPath: Egress.LOG_DIR },
        { name: 'run', mountPath: Egress.RUN_DIR },
      ],
      resources: resourceRequirements(s.resources.egress),
      securityContext: nonRoot(Egress.UID, Egress.UID),
      readinessProbe: { ...probe, periodSeconds: 10 },
      livenessProbe: { ...probe, periodSeconds: 30, failureThreshold: 4 },
    };
  }
}
