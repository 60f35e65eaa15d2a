import { isIPv4 } from '../config/checks';

/**
 * The address the family types, derived from the trusted domains: Nextcloud puts it in mails,
 * share links and its own setup checks (`overwrite.cli.url`). The first LAN name wins over a
 * LAN address (names survive a new DHCP lease); localhost only when there is nothing else.
 */
export function familyUrl(trustedDomains: string[], httpsPort: number): string {
  const hosts = trustedDomains.map(hostOf);
  const lan = hosts.filter((h) => !isLoopback(h));
  const host = lan.find((h) => !isIPv4(h) && !h.startsWith('[')) ?? lan[0] ?? 'localhost';
  return `https://${host}${httpsPort === 443 ? '' : `:${httpsPort}`}`;
}

/**
 * Names that must reach nginx from inside the Nextcloud pod itself. Nextcloud's setup checks
 * request `overwrite.cli.url` and the trusted domains from php-fpm; inside the pod a LAN name
 * would leave Docker Desktop's VM and may not come back, so the pod resolves them to its own
 * loopback, where nginx listens on the same port the family uses.
 */
export function inPodHostNames(trustedDomains: string[]): string[] {
  return [...new Set(trustedDomains.map(hostOf).filter((h) => !isLoopback(h) && !isIPv4(h) && !h.includes(':') && !h.startsWith('[')))];
}

/** The host of a trusted-domains entry, without its port; IPv6 addresses in brackets. */
export function hostOf(entry: string): string {
  if (entry.startsWith('[')) return entry.slice(0, entry.indexOf(']') + 1);
  if (entry.split(':').length > 2) return `[${entry}]`; // a bare IPv6 address
  return entry.split(':')[0];
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host.startsWith('127.') || host === '[::1]';
}
