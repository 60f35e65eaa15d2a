/**
 * The ledger: every destination the home cloud contacted, or tried to, in the last week, read
 * from the egress point's log (lib/privacy/squid-conf.ts, LEDGER_FORMAT). Parsing and summing
 * are pure; reading the log from the egress pod is the one I/O function at the end.
 */
import { APP_STORE, CHOICES, Destination, destinationOf } from '../lib/privacy/privacy-settings';
import { EGRESS_POINT } from '../lib/privacy/egress-point';
import { Kube } from './kube';
import { kubectlExec } from './offsite';
// Kubernetes objects are open-ended JSON, as in the rest of the client.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;

export const LEDGER_DAYS = 7;

export interface LedgerEntry {
  /** Milliseconds since 1970. */
  readonly time: number;
  /** The address of the pod that asked. */
  readonly client: string;
  readonly method: string;
  readonly host: string;
  readonly port: number;
  readonly status: number;
  /** Squid's verdict: TCP_TUNNEL (admitted HTTPS), TCP_MISS (admitted HTTP), TCP_DENIED (refused)… */
  readonly verdict: string;
  readonly sentBytes: number;
  readonly receivedBytes: number;
}

export interface LedgerLine {
  readonly host: string;
  readonly count: number;
  /** ISO time of the last one. */
  readonly last: string;
  readonly sentBytes: number;
  readonly receivedBytes: number;
  /** What contacts it and why (admitted), or what would admit it (refused), when homecloud knows. */
  readonly purpose?: string;
  /** The setting that admits it, when one does. */
  readonly setting?: string;
  /**
   * Which parts of the home cloud asked, by the address of their pod now. "the home cloud" where
   * that cannot be told: a pod since replaced, or a cluster that hides pods' addresses behind its
   * own (kube-proxy's --masquerade-all). Only the home cloud's own pods may reach the egress point.
   */
  readonly by: string[];
}

export interface Ledger {
  readonly days: number;
  /** Since when the log has lines (the egress point may be younger than a week). */
  readonly since?: string;
  readonly contacted: LedgerLine[];
  readonly refused: LedgerLine[];
  /** Why the ledger could not be read, instead of the lines above. */
  readonly unreadable?: string;
}

/** One log line, or undefined for anything else (a line cut short by a power cut). Pure. */
export function parseLedgerLine(line: string): LedgerEntry | undefined {
  const f = line.trim().split(/\s+/);
  if (f.length !== 9 || !/^\d+(\.\d+)?$/.test(f[0]) || f[3] === '-') return undefined;
  const [time, client, method, host, port, status, verdict, sent, received] = f;
  const n = (s: string) => (/^\d+$/.test(s) ? Number(s) : 0);
  return { time: Math.round(Number(time) * 1000), client, method, host: host.toLowerCase(), port: n(port), status: n(status), verdict, sentBytes: n(sent), receivedBytes: n(received) };
}

/** Refused by the egress point (as opposed to admitted, whatever the destination then answered). Pure. */
export function isRefused(e: LedgerEntry): boolean {
  return e.verdict.startsWith('TCP_DENIED');
}

/** Every destination homecloud knows a purpose for, admitted or not. */
const KNOWN: Destination[] = [...APP_STORE, ...Object.values(CHOICES)];

/**
 * The last `days` days of the log, by destination, admitted and refused apart, busiest first.
 * `parts`: the running pods' addresses and what each is (Nextcloud, the backup…). Pure.
 */
export function summarise(log: string, now: Date, days = LEDGER_DAYS, parts: Record<string, string> = {}): Ledger {
  const from = now.getTime() - days * 86_400_000;
  const entries = log.split('\n').map(parseLedgerLine).filter((e): e is LedgerEntry => e !== undefined && e.time >= from && e.time <= now.getTime());
  const first = entries.reduce((t, e) => Math.min(t, e.time), Infinity);
  return {
    days,
    since: Number.isFinite(first) ? new Date(first).toISOString() : undefined,
    contacted: byHost(entries.filter((e) => !isRefused(e)), parts),
    refused: byHost(entries.filter(isRefused), parts),
  };
}

function byHost(entries: LedgerEntry[], parts: Record<string, string>): LedgerLine[] {
  const lines = new Map<string, { count: number; last: number; sentBytes: number; receivedBytes: number; by: Set<string> }>();
  for (const e of entries) {
    const l = lines.get(e.host) ?? { count: 0, last: 0, sentBytes: 0, receivedBytes: 0, by: new Set<string>() };
    l.by.add(parts[e.client] ?? 'the home cloud');
    lines.set(e.host, { count: l.count + 1, last: Math.max(l.last, e.time), sentBytes: l.sentBytes + e.sentBytes, receivedBytes: l.receivedBytes + e.receivedBytes, by: l.by });
  }
  return [...lines.entries()]
    .map(([host, l]) => {
      const known = destinationOf(host, KNOWN);
      return { host, ...l, by: [...l.by].sort(), last: new Date(l.last).toISOString(), purpose: known?.purpose, setting: known?.setting };
    })
    .sort((a, b) => b.count - a.count || a.host.localeCompare(b.host));
}

/** The ledger as status prints it: a line per destination, then the refused ones. Pure. */
export function ledgerLines(l: Ledger | undefined, bytes: (n: number) => string): string[] {
  if (!l) return ['  not read (the egress point is not running)'];
  if (l.unreadable) return [`  could not read the egress point's ledger: ${l.unreadable}`];
  const out: string[] = [];
  if (l.contacted.length === 0) out.push('  nothing left the home');
  for (const c of l.contacted) {
    out.push(`  ${c.host.padEnd(36)} ${String(c.count).padStart(4)}×  ${bytes(c.sentBytes)} out, ${bytes(c.receivedBytes)} in, by ${c.by.join(', ')}`
      + `  ${c.purpose ?? (c.setting ? '' : 'allowed in the settings (privacy.allowHosts)')}`.trimEnd());
  }
  for (const r of l.refused) {
    out.push(`  refused: ${r.host} ${r.count}× by ${r.by.join(', ')}`
      + `${r.setting ? ` (${r.purpose}: off, ${r.setting})` : r.purpose ? '' : ' (not allowed; privacy.allowHosts would admit it)'}`);
  }
  if (l.contacted.length > 0 || l.refused.length > 0) out.push('  nothing else left the home');
  return out;
}

/**
 * Reads the ledger from the running egress pod (its log and the turned-over ones, oldest first).
 * No pod: undefined. A pod that cannot be read: the reason, never an exception (status goes on).
 */
export async function readLedger(kube: Kube, namespace: string, pods: Obj[], now: Date): Promise<Ledger | undefined> {
  const e = EGRESS_POINT;
  const pod = pods.find((p) => p.metadata?.labels?.['app.kubernetes.io/component'] === e.component && p.status?.phase === 'Running');
  if (!pod) return undefined;
  const files = [...Array.from({ length: e.keepLogs }, (_, i) => `access.log.${e.keepLogs - 1 - i}`), 'access.log'].join(' ');
  try {
    const log = await kubectlExec(kube, namespace, pod.metadata.name,
      ['sh', '-c', `cd ${e.logDir} && cat ${files} 2>/dev/null; exit 0`], { container: e.container });
    // The pods that may ask, by address: the Nextcloud pod, the backup and thumbnail jobs.
    const parts = Object.fromEntries(pods.filter((p) => p.status?.podIP)
      .map((p) => [p.status.podIP, p.metadata?.labels?.['app.kubernetes.io/component'] === 'web' ? 'Nextcloud' : (p.metadata?.labels?.['app.kubernetes.io/component'] ?? p.metadata.name)]));
    return summarise(log, now, LEDGER_DAYS, parts);
  } catch (e) {
    return { days: LEDGER_DAYS, contacted: [], refused: [], unreadable: (e as Error).message };
  }
}
