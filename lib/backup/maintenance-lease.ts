import { Construct } from 'constructs';
import * as k8s from '../../imports/k8s';

export interface MaintenanceLeaseProps {
  /** The home cloud's namespace (a ServiceAccount subject must name it). */
  readonly namespace: string;
  readonly labels: Record<string, string>;
  /** The pods that take the lock from inside the cluster (the nightly backup's): they alone get a token. */
  readonly holders: Record<string, string>;
}

/**
 * What the nightly job needs to take the maintenance lock (lease.sh; client/maintenance.ts says
 * why a Lease): a service account that may read, create, renew and remove the one Lease named
 * "maintenance" in this namespace, and nothing else of the cluster; and, where NetworkPolicies
 * hold, a way to the API server for those pods only.
 */
export class MaintenanceLease extends Construct {
  /** The Lease's name, shared with lease.sh and the client. */
  public static readonly NAME = 'maintenance';
  public readonly serviceAccount: k8s.KubeServiceAccount;

  constructor(scope: Construct, id: string, props: MaintenanceLeaseProps) {
    super(scope, id);
    this.serviceAccount = new k8s.KubeServiceAccount(this, 'account', {
      metadata: { name: 'maintenance-lock', labels: props.labels },
      // Mounted only into the pods that ask for it (the nightly job's), not every pod's.
      automountServiceAccountToken: false,
    });
    const role = new k8s.KubeRole(this, 'role', {
      metadata: { name: 'maintenance-lock', labels: props.labels },
      rules: [
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: [MaintenanceLease.NAME], verbs: ['get', 'update', 'delete'] },
        // (Kubernetes cannot restrict a create to a name: this account may create Leases, and use only this one.)
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      ],
    });
    new k8s.KubeRoleBinding(this, 'binding', {
      metadata: { name: 'maintenance-lock', labels: props.labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.name },
      subjects: [{ kind: 'ServiceAccount', name: this.serviceAccount.name, namespace: props.namespace }],
    });
    // The API server, past the "inside only" egress policy: its Service address (Docker
    // Desktop's and kind's service range) and the control plane's own port behind it.
    new k8s.KubeNetworkPolicy(this, 'api', {
      metadata: { name: 'maintenance-lock-to-api', labels: props.labels },
      spec: {
        podSelector: { matchLabels: props.holders },
        policyTypes: ['Egress'],
        egress: [
          { to: [{ ipBlock: { cidr: '10.96.0.0/12' } }], ports: [{ protocol: 'TCP', port: k8s.IntOrString.fromNumber(443) }] },
          { ports: [{ protocol: 'TCP', port: k8s.IntOrString.fromNumber(6443) }] },
        ],
      },
    });
  }
}
