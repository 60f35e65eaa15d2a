import { createHash } from 'crypto';
import * as k8s from '../../imports/k8s';

/**
 * A short hash of ConfigMaps' content for a pod-template annotation: a changed config or
 * script must restart the pod, and an edited ConfigMap alone does not. `alsoRollOn`: other
 * content that must restart it (public only: the hash is an annotation anyone can read).
 */
export function configHash(configMaps: k8s.KubeConfigMap[], alsoRollOn: string[] = []): string {
  const content: unknown[] = configMaps.map((c) => c.toJson().data);
  if (alsoRollOn.length > 0) content.push(alsoRollOn);
  return createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 16);
}
