import * as k8s from '../../imports/k8s';
import { PULL_POLICY, nonRoot, resourceRequirements } from '../config/pod-security';
import { ResolvedSettings } from '../config/settings';

/**
 * Client Push: the notify_push app's server, in the Nextcloud pod. Desktop and phone apps keep a
 * WebSocket open to it through nginx (`/push/`) and hear of a change at once; without it they ask
 * Nextcloud every 30 seconds. AIO runs it; the Helm chart does not.
 */
export const PUSH_APP = 'notify_push';
/** Where nginx proxies the WebSocket (nginx-conf.ts) and what the hook tells Nextcloud. */
export const PUSH_PATH = '/push';
/** notify_push's own port, on the pod's loopback only. */
export const PUSH_PORT = 7867;

export interface ClientPushOptions {
  readonly settings: ResolvedSettings;
  /** The environment Nextcloud's PHP containers share (the cache's password comes from it). */
  readonly phpEnv: k8s.EnvVar[];
  readonly cacheHost: string;
  readonly cachePort: number;
  readonly webRoot: string;
  readonly uid: number;
}

/**
 * The container: push-run.sh starts the binary inside the app (so app and server versions always
 * match) with config.php, which gives it the database. The cache's address and password are not
 * in config.php itself (the image reads them from the environment in PHP), so REDIS_URL carries
 * them, built by Kubernetes from the Secret. Its own requests to Nextcloud (checking a client's
 * login) go to nginx on the pod's loopback, over HTTPS with the home CA, which it cannot be given
 * a file for: ALLOW_SELF_SIGNED skips the check for that loopback connection only.
 */
/** The container's own scratch folder: the copy of the binary it runs (about 10 MB). */
export const PUSH_VOLUME: k8s.Volume = { name: 'push-tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('64Mi') } };

export function clientPushContainer(o: ClientPushOptions): k8s.Container {
  const s = o.settings;
  const password = o.phpEnv.find((e) => e.name === 'REDIS_HOST_PASSWORD');
  return {
    name: 'push',
    image: s.images.nextcloud,
    imagePullPolicy: PULL_POLICY,
    command: ['/bin/sh', '/homecloud/push-run.sh'],
    env: [
      ...(password ? [password] : []),
      { name: 'REDIS_URL', value: `redis://:$(REDIS_HOST_PASSWORD)@${o.cacheHost}:${o.cachePort}` },
      { name: 'NEXTCLOUD_URL', value: `https://localhost${s.httpsPort === 443 ? '' : `:${s.httpsPort}`}` },
      { name: 'ALLOW_SELF_SIGNED', value: 'true' },
      { name: 'PORT', value: String(PUSH_PORT) },
      { name: 'NEXTCLOUD_WEBROOT', value: o.webRoot },
      { name: 'TZ', value: s.timeZone },
    ],
    volumeMounts: [
      { name: 'html', mountPath: o.webRoot, readOnly: true },
      { name: 'scripts', mountPath: '/homecloud', readOnly: true },
      { name: 'push-tmp', mountPath: '/tmp' },
    ],
    resources: resourceRequirements(s.resources.push),
    securityContext: nonRoot(o.uid, o.uid),
  };
}
