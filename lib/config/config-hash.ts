import { createHash } from 'crypto';
import * as k8s from '../../imports/k8s';

/**
 * A short hash of ConfigMaps' content for a pod-template annotation: a changed config or
 * script must restart the pod, and an edited ConfigMap alone does not.
 */
export function configHash(configMaps: k8s.KubeConfigMap[]): string {
  return createHash('sha256').update(JSON.stringify(configMaps.map((c) => c.toJson().data))).digest('hex').slice(0, 16);
}
