import { ClusterState } from './report';

// Kubernetes objects are open-ended JSON, as in the rest of the client.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;

/**
 * The host names the home cloud answers to, as deployed (trustedDomains, without localhost,
 * addresses and ports): the names phones use, e.g. NAME.local for a PC named like a public domain.
 */
export function trustedNames(state: ClusterState): string[] {
  const d = state.deployments.find((x) => x.metadata.name === 'nextcloud');
  const env = (d?.spec?.template?.spec?.containers ?? []).flatMap((c: Obj) => c.env ?? []);
  const value: string = env.find((e: Obj) => e.name === 'HOMECLOUD_TRUSTED_DOMAINS')?.value ?? '';
  return [...new Set(value.split(/\s+/).map((t) => t.split(':')[0]).filter((h) => h && h !== 'localhost' && !/^[\d.]+$/.test(h) && !h.startsWith('[')))];
}
