/**
 * The kinds homecloud synthesizes, with their API paths and the order a deploy applies
 * them in: the namespace, then what pods read (Secrets, ConfigMaps, volumes), then what
 * routes to pods, then the workloads, then the policies.
 */
export interface KindInfo {
  readonly apiVersion: string;
  readonly plural: string;
  readonly namespaced: boolean;
  readonly order: number;
}

export const KINDS: Record<string, KindInfo> = {
  Namespace: { apiVersion: 'v1', plural: 'namespaces', namespaced: false, order: 0 },
  Secret: { apiVersion: 'v1', plural: 'secrets', namespaced: true, order: 1 },
  ConfigMap: { apiVersion: 'v1', plural: 'configmaps', namespaced: true, order: 1 },
  // The nightly job's right to the maintenance lock (lib/backup/maintenance-lease.ts).
  ServiceAccount: { apiVersion: 'v1', plural: 'serviceaccounts', namespaced: true, order: 1 },
  Role: { apiVersion: 'rbac.authorization.k8s.io/v1', plural: 'roles', namespaced: true, order: 1 },
  RoleBinding: { apiVersion: 'rbac.authorization.k8s.io/v1', plural: 'rolebindings', namespaced: true, order: 1 },
  PersistentVolumeClaim: { apiVersion: 'v1', plural: 'persistentvolumeclaims', namespaced: true, order: 2 },
  Service: { apiVersion: 'v1', plural: 'services', namespaced: true, order: 3 },
  Deployment: { apiVersion: 'apps/v1', plural: 'deployments', namespaced: true, order: 4 },
  CronJob: { apiVersion: 'batch/v1', plural: 'cronjobs', namespaced: true, order: 5 },
  NetworkPolicy: { apiVersion: 'networking.k8s.io/v1', plural: 'networkpolicies', namespaced: true, order: 6 },
};

export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Record<string, string> };
}

export function kindInfo(kind: string): KindInfo {
  const info = KINDS[kind];
  if (!info) throw new Error(`homecloud does not manage objects of kind ${kind}`);
  return info;
}

/** The collection path: /api/v1/namespaces/ns/configmaps, /apis/apps/v1/namespaces/ns/deployments … */
export function collectionPath(kind: string, namespace?: string): string {
  const info = kindInfo(kind);
  const base = info.apiVersion.includes('/') ? `/apis/${info.apiVersion}` : `/api/${info.apiVersion}`;
  return info.namespaced ? `${base}/namespaces/${namespace}/${info.plural}` : `${base}/${info.plural}`;
}

export function objectPath(o: ObjectRef): string {
  return `${collectionPath(o.kind, o.metadata.namespace)}/${o.metadata.name}`;
}

export function describe(o: ObjectRef): string {
  return `${o.kind}/${o.metadata.name}`;
}
