import { Construct } from 'constructs';
import * as k8s from '../../imports/k8s';
import { isIPv4 } from '../config/checks';
import { hostOf } from '../https/family-address';

export interface EgressPolicyProps {
  readonly labels: Record<string, string>;
  /** The egress point's pods: the only ones that may open connections out of the cluster. */
  readonly egress: Record<string, string>;
  /** The family's addresses (trusted domains): Nextcloud's requests to a LAN address of the PC stay allowed. */
  readonly trustedDomains: string[];
  /** The ports the family's addresses answer on. */
  readonly familyPorts: number[];
}

const tcp = (port: number): k8s.NetworkPolicyPort => ({ protocol: 'TCP', port: k8s.IntOrString.fromNumber(port) });

/**
 * Outbound connections: every pod of the home cloud may reach the others and the cluster's DNS,
 * and nothing else; the egress point alone may reach the internet, on the web's ports.
 *
 * Where this holds: clusters whose network plugin enforces NetworkPolicies, such as Docker
 * Desktop's kind mode (kind's kindnet enforces them since kind 0.24). Docker Desktop's kubeadm
 * mode does not enforce them: there the allow-list holds for everything Nextcloud and its apps
 * send through Nextcloud's own HTTP client (the `proxy` setting, privacy.sh), which is every
 * outbound request of Nextcloud's code and of the apps homecloud installs, but a program that
 * opened its own connections would not be stopped.
 */
export class EgressPolicy extends Construct {
  constructor(scope: Construct, id: string, props: EgressPolicyProps) {
    super(scope, id);
    const lanAddresses = [...new Set(props.trustedDomains.map(hostOf).filter((h) => isIPv4(h) && !h.startsWith('127.')))];
    new k8s.KubeNetworkPolicy(this, 'inside', {
      metadata: { name: 'egress-inside-only', labels: props.labels },
      spec: {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [
          { to: [{ podSelector: {} }] },
          {
            to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
            ports: [{ protocol: 'UDP', port: k8s.IntOrString.fromNumber(53) }, tcp(53)],
          },
          // Nextcloud's requests to its own address, when the family reaches it by the PC's LAN address.
          ...(lanAddresses.length ? [{ to: lanAddresses.map((ip) => ({ ipBlock: { cidr: `${ip}/32` } })), ports: props.familyPorts.map(tcp) }] : []),
        ],
      },
    });
    new k8s.KubeNetworkPolicy(this, 'out', {
      metadata: { name: 'egress-point-out', labels: props.labels },
      spec: {
        podSelector: { matchLabels: props.egress },
        policyTypes: ['Egress'],
        egress: [{ ports: [tcp(80), tcp(443)] }],
      },
    });
  }
}
