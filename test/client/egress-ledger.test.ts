import { ledgerLines, parseLedgerLine, summarise } from '../../client/egress-ledger';
import { ClusterState, buildReport } from '../../client/status';
import { formatReport, humanBytes } from '../../client/status-text';
import { destinationOf, destinationsOf, isAllowHost } from '../../lib/privacy/privacy-settings';

// Recorded egress logs, in the format squid.conf writes (LEDGER_FORMAT), rendered as status does.
const NOW = new Date('2026-12-06T12:00:00Z');
const at = (iso: string) => (Date.parse(iso) / 1000).toFixed(3);
const line = (iso: string, method: string, host: string, port: number, status: number, verdict: string, sent = 500, received = 4000) =>
  `${at(iso)} 10.1.0.7 ${method} ${host} ${port} ${status} ${verdict} ${sent} ${received}`;

const WEEK = [
  // Eight days ago: outside the week, never shown.
  line('2026-11-28T03:00:00Z', 'CONNECT', 'updates.nextcloud.com', 443, 403, 'TCP_DENIED', 300, 3000),
  line('2026-11-30T04:00:00Z', 'CONNECT', 'apps.nextcloud.com', 443, 200, 'TCP_TUNNEL', 1200, 250_000),
  line('2026-12-01T04:00:00Z', 'CONNECT', 'apps.nextcloud.com', 443, 200, 'TCP_TUNNEL', 1300, 260_000),
  line('2026-12-01T04:00:05Z', 'CONNECT', 'github.com', 443, 200, 'TCP_TUNNEL', 900, 1_000),
  line('2026-12-01T04:00:06Z', 'CONNECT', 'release-assets.githubusercontent.com', 443, 200, 'TCP_TUNNEL', 900, 3_500_000),
  line('2026-12-03T10:00:00Z', 'CONNECT', 'push-notifications.nextcloud.com', 443, 403, 'TCP_DENIED', 200, 3000),
  line('2026-12-04T10:00:00Z', 'CONNECT', 'push-notifications.nextcloud.com', 443, 403, 'TCP_DENIED', 200, 3000),
  line('2026-12-05T10:00:00Z', 'GET', 'tracker.example.org', 80, 403, 'TCP_DENIED', 150, 3000),
  // A line cut short by a power cut, and a connection without a request.
  '1796500000.000 10.1.0.7 CONN',
  line('2026-12-05T11:00:00Z', 'NONE', '-', 0, 0, 'NONE_NONE', 0, 0),
].join('\n');

describe('the ledger (what left the home, from the egress point\'s log)', () => {
  it('parses a line and refuses anything else', () => {
    expect(parseLedgerLine(line('2026-12-01T04:00:00Z', 'CONNECT', 'Apps.Nextcloud.com', 443, 200, 'TCP_TUNNEL', 1, 2)))
      .toEqual({ time: Date.parse('2026-12-01T04:00:00Z'), client: '10.1.0.7', method: 'CONNECT', host: 'apps.nextcloud.com', port: 443, status: 200, verdict: 'TCP_TUNNEL', sentBytes: 1, receivedBytes: 2 });
    expect(parseLedgerLine('')).toBeUndefined();
    expect(parseLedgerLine('garbage with nine fields a b c d e f')).toBeUndefined();
  });

  it('counts the last 7 days by destination, admitted and refused apart, with what each one is for', () => {
    const l = summarise(WEEK, NOW);
    expect(l.since).toBe('2026-11-30T04:00:00.000Z');
    expect(l.contacted.map((c) => [c.host, c.count, c.sentBytes])).toEqual([
      ['apps.nextcloud.com', 2, 2500], ['github.com', 1, 900], ['release-assets.githubusercontent.com', 1, 900],
    ]);
    expect(l.contacted[0].purpose).toMatch(/the app store/);
    expect(l.refused.map((c) => [c.host, c.count, c.setting])).toEqual([
      ['push-notifications.nextcloud.com', 2, 'privacy.phoneNotifications'], ['tracker.example.org', 1, undefined],
    ]);
  });

  it('reads as one line per destination, then what was refused and why, then that nothing else left', () => {
    // Which part asked: the pod at that address now (Nextcloud), or one that has since been replaced.
    const text = ledgerLines(summarise(`${WEEK}\n${line('2026-12-05T12:00:00Z', 'CONNECT', 'apps.nextcloud.com', 443, 200, 'TCP_TUNNEL', 500, 10_000).replace('10.1.0.7', '10.1.0.9')}`,
      NOW, 7, { '10.1.0.9': 'Nextcloud' }), humanBytes).join('\n');
    expect(text).toMatch(/apps\.nextcloud\.com\s+3×\s+3\.0 KB out, 520 KB in, by Nextcloud, the home cloud\s+the app store/);
    expect(text).toMatch(/refused: push-notifications\.nextcloud\.com 2× by the home cloud \(notifications to phones, through Apple and Google: off, privacy\.phoneNotifications\)/);
    expect(text).toMatch(/refused: tracker\.example\.org 1× by the home cloud \(not allowed; privacy\.allowHosts would admit it\)/);
    expect(text).not.toMatch(/updates\.nextcloud\.com/);
    expect(text.split('\n').pop()).toBe('  nothing else left the home');
  });

  it('says so when nothing left the home all week (an empty log, or only old lines)', () => {
    for (const log of ['', line('2026-11-01T00:00:00Z', 'CONNECT', 'apps.nextcloud.com', 443, 200, 'TCP_TUNNEL')]) {
      const l = summarise(log, NOW);
      expect([l.contacted, l.refused, l.since]).toEqual([[], [], undefined]);
      expect(ledgerLines(l, humanBytes)).toEqual(['  nothing left the home']);
    }
  });

  it('says why when the ledger could not be read, and when the egress point is not running', () => {
    expect(ledgerLines({ days: 7, contacted: [], refused: [], unreadable: 'in the helper pod, sh failed: container not found' }, humanBytes))
      .toEqual(['  could not read the egress point\'s ledger: in the helper pod, sh failed: container not found']);
    expect(ledgerLines(undefined, humanBytes)).toEqual(['  not read (the egress point is not running)']);
  });

  it('appears in status, as text and in --output json', () => {
    const state: ClusterState = {
      now: NOW, context: 'docker-desktop', namespace: 'homecloud', namespaceObject: { metadata: { creationTimestamp: '2026-11-20T00:00:00Z' } },
      deployments: [], pods: [], pvcs: [], cronJobs: [], jobs: [], services: [], logs: {},
    };
    const egress = summarise(WEEK, NOW);
    const report = buildReport(state, { lanAddresses: [], egress });
    expect(JSON.parse(JSON.stringify(report)).egress.refused[0]).toMatchObject({ host: 'push-notifications.nextcloud.com', count: 2 });
    expect(formatReport(report)).toMatch(/Outside the home \(last 7 days, through the egress point\):\n {2}apps\.nextcloud\.com/);
  });
});

describe('the destinations the settings allow', () => {
  it('admits the app store always, each family choice only when chosen, and the family\'s own hosts', () => {
    const off = destinationsOf({ breachedPasswordCheck: false, phoneNotifications: false, photoPlaces: false }, []);
    expect(off.map((d) => d.host)).toEqual(['apps.nextcloud.com', 'github.com', 'objects.githubusercontent.com', 'release-assets.githubusercontent.com']);
    const on = destinationsOf({ breachedPasswordCheck: true, phoneNotifications: true, photoPlaces: true }, ['.example.org', 'github.com']);
    expect(on.map((d) => d.host).slice(4)).toEqual(['api.pwnedpasswords.com', 'push-notifications.nextcloud.com', 'download.nextcloud.com', '.example.org']);
  });
  it('matches ".example.org" to the name and every name under it, and nothing else', () => {
    const d = [{ host: '.example.org', purpose: 'p' }];
    expect(['example.org', 'a.b.example.org', 'badexample.org', 'example.org.evil.test'].map((h) => !!destinationOf(h, d))).toEqual([true, true, false, false]);
  });
  it('takes host names only: no scheme, path, port or address', () => {
    expect(['api.example.org', '.example.org'].every(isAllowHost)).toBe(true);
    expect(['https://example.org', 'example.org/x', 'example.org:443', '192.168.1.2', 'localhost', ''].some(isAllowHost)).toBe(false);
  });
});
