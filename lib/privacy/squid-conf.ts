import { Destination } from './privacy-settings';

export interface SquidConfOptions {
  /** Where Squid listens. */
  readonly port: number;
  /** The only destinations admitted. */
  readonly destinations: Destination[];
  /** Ports HTTPS tunnels may go to. @default [443] (the tests' servers listen where the system lets them) */
  readonly httpsPorts?: number[];
  /** Folder of the access log (the ledger) and its turned-over copies. */
  readonly logDir: string;
  /** Writable folder for the pid file (the root file system is read-only). */
  readonly runDir: string;
  /** How many turned-over logs to keep: one a day, so a week and a day. @default 8 */
  readonly keepLogs?: number;
  /**
   * Where Squid's own files are, when not at the paths it was built with (the tests run Debian's
   * unpacked package from a cache folder; the image needs none of these).
   */
  readonly paths?: { readonly errorDirectory?: string; readonly mimeTable?: string; readonly iconDirectory?: string; readonly hostsFile?: string; readonly effectiveUser?: string; readonly unlinkd?: string };
}

/**
 * The ledger's line: time (Unix seconds with milliseconds), client address, method, destination
 * host and port, the HTTP status sent back, Squid's verdict (TCP_TUNNEL admitted, TCP_DENIED
 * refused…), bytes sent out and bytes received. Never a path or query: those can carry what the
 * family typed, and the ledger only has to say where, when and how much.
 */
export const LEDGER_FORMAT = '%ts.%03tu %>a %rm %>rd %>rP %>Hs %Ss %>st %<st';

/** Private and link-local sources: the cluster's pods (Kubernetes gives them such addresses). */
const CLUSTER_SOURCES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '127.0.0.0/8', 'fc00::/7', 'fe80::/10', '::1'];

/**
 * squid.conf for the egress point: admits CONNECT (HTTPS) to port 443 and plain requests to port
 * 80 of the allowed destinations only, caches nothing, reveals nothing of the home (no Via, no
 * X-Forwarded-For), and logs every request, admitted or refused, in LEDGER_FORMAT. Pure.
 */
export function renderSquidConf(o: SquidConfOptions): string {
  const hosts = o.destinations.map((d) => d.host);
  const lines = [
    '# Rendered by homecloud (lib/privacy/squid-conf.ts): the home cloud\'s one way out.',
    `http_port ${o.port}`,
    'visible_hostname homecloud-egress',
    '',
    '# What may leave: the destinations the settings allow (lib/privacy/privacy-settings.ts).',
    // -n: compare names only, never look up an address's name (a raw IP is simply refused).
    ...chunk(hosts, 6).map((group) => `acl allowed dstdomain -n ${group.join(' ')}`),
    `acl https_port port ${(o.httpsPorts ?? [443]).join(' ')}`,
    'acl http_port port 80',
    'acl CONNECT method CONNECT',
    `acl cluster src ${CLUSTER_SOURCES.join(' ')}`,
    'http_access deny !cluster',
    // HTTPS is a CONNECT tunnel to 443; anything else (SSH, mail…) through the proxy is refused.
    'http_access deny CONNECT !https_port',
    'http_access deny !CONNECT !http_port',
    'http_access allow allowed',
    'http_access deny all',
    '',
    '# A gate, not a cache: nothing of the family\'s is kept here.',
    'cache deny all',
    'cache_mem 0 MB',
    'via off',
    'forwarded_for delete',
    'httpd_suppress_version_string on',
    '',
    '# The ledger (client/egress-ledger.ts reads it for `npm run status`), turned over every midnight.',
    `logformat homecloud ${LEDGER_FORMAT}`,
    // Only requests: the kubelet's probes open and close a connection every few seconds.
    'acl has_request has request',
    `access_log stdio:${o.logDir}/access.log homecloud has_request`,
    `logfile_rotate ${o.keepLogs ?? 8}`,
    'cache_log stdio:/dev/stderr',
    'cache_store_log none',
    'netdb_filename none',
    `pid_filename ${o.runDir}/squid.pid`,
    `coredump_dir ${o.runDir}`,
    // Squid sizes its tables by the file limit, which containers often set to a million or more.
    'max_filedescriptors 1024',
    // No ICMP measurements of the destinations: a helper that needs privileges, for nothing here.
    'pinger_enable off',
    'shutdown_lifetime 2 seconds',
    ...(o.paths?.errorDirectory ? [`error_directory ${o.paths.errorDirectory}`] : []),
    ...(o.paths?.mimeTable ? [`mime_table ${o.paths.mimeTable}`] : []),
    ...(o.paths?.iconDirectory ? [`icon_directory ${o.paths.iconDirectory}`] : []),
    ...(o.paths?.hostsFile ? [`hosts_file ${o.paths.hostsFile}`] : []),
    ...(o.paths?.unlinkd ? [`unlinkd_program ${o.paths.unlinkd}`] : []),
    ...(o.paths?.effectiveUser ? [`cache_effective_user ${o.paths.effectiveUser}`] : []),
    '',
  ];
  return lines.join('\n');
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
