import { Construct } from 'constructs';
import * as k8s from '../../imports/k8s';

export interface IngressPolicyProps {
  readonly name: string;
  readonly labels: Record<string, string>;
  /** The pods being protected. */
  readonly target: Record<string, string>;
  /** The only ports they accept connections on. */
  readonly ports: number[];
  /** Pods allowed to connect; omit to allow any source (the LAN entry). */
  readonly clients?: Array<Record<string, string>>;
}

/**
 * Which pods may connect to which. Docker Desktop does not enforce NetworkPolicies, but
 * clusters that do will, and the policy documents the intended paths either way.
 */
export class IngressPolicy extends Construct {
  constructor(scope: Construct, id: string, props: IngressPolicyProps) {
    super(scope, id);
    new k8s.KubeNetworkPolicy(this, 'policy', {
      metadata: { name: props.name, labels: props.labels },
      spec: {
        podSelector: { matchLabels: props.target },
        policyTypes: ['Ingress'],
        ingress: [{
          from: props.clients?.map((matchLabels) => ({ podSelector: { matchLabels } })),
          ports: props.ports.map((port) => ({ protocol: 'TCP', port: k8s.IntOrString.fromNumber(port) })),
        }],
      },
    });
  }
}
