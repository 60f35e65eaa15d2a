import { parseArgs } from '../../client/cli';
import { ClusterState, buildReport, explainPod, formatReport, nextRun } from '../../client/status';

const NOW = new Date('2026-11-26T12:00:00Z');
const deployment = (name: string, available: number) => ({ metadata: { name }, spec: { replicas: 1 }, status: { availableReplicas: available } });
const pod = (component: string, status: object, created = '2026-11-26T11:50:00Z') => ({ metadata: { name: `${component}-abc`, labels: { 'app.kubernetes.io/component': component }, creationTimestamp: created }, status });

function state(over: Partial<ClusterState> = {}): ClusterState {
  return {
    now: NOW, context: 'docker-desktop', namespace: 'homecloud',
    namespaceObject: { metadata: { creationTimestamp: '2026-11-20T00:00:00Z' } },
    deployments: [deployment('nextcloud', 1), deployment('database', 1), deployment('cache', 1)],
    pods: [], pvcs: [{ metadata: { name: 'nextcloud-html' }, status: { phase: 'Bound', capacity: { storage: '50Gi' } } }],
    cronJobs: [{ metadata: { name: 'backup' }, spec: { schedule: '30 2 * * *', timeZone: 'Europe/Berlin' } }],
    jobs: [{ metadata: { name: 'backup-1', ownerReferences: [{ kind: 'CronJob', name: 'backup' }] } }],
    services: [{ metadata: { name: 'nextcloud' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] }, status: { loadBalancer: { ingress: [{ hostname: 'localhost' }] } } }],
    logs: {},
    ...over,
  };
}
const backupPod = (exitCode: number, message: object) => ({
  metadata: { name: 'backup-1-x', labels: { 'job-name': 'backup-1', 'app.kubernetes.io/component': 'backup' } },
  status: { containerStatuses: [{ name: 'files', state: { terminated: { exitCode, message: JSON.stringify(message), startedAt: '2026-11-26T01:30:00Z' } } }] },
});
const good = backupPod(0, { snapshot: '2026-11-26T013000Z', time: '2026-11-26T01:30:00Z', result: 'success', database: { bytes: 5e7 }, files: { kib: 1e6 } });

describe('plain words for each state', () => {
  const explain = (status: object, name = 'Cache') => explainPod(state(), name, pod('cache', status));
  it('image cannot be downloaded → is the PC online?', () => {
    expect(explain({ containerStatuses: [{ name: 'valkey', image: 'valkey/valkey:8-alpine', state: { waiting: { reason: 'ErrImagePull' } } }] }).words).toMatch(/Is the PC online\?/);
  });
  it('crash loop → its last log lines', () => {
    const s = state({ logs: { 'cache-abc/valkey': ['FATAL: bad config'] } });
    const e = explainPod(s, 'Cache', pod('cache', { containerStatuses: [{ name: 'valkey', restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } } }] }));
    expect(e).toMatchObject({ state: 'problem', logLines: ['FATAL: bad config'] });
  });
  it('out of memory → give it more memory', () => {
    expect(explain({ containerStatuses: [{ name: 'valkey', state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { reason: 'OOMKilled' } } }] }).words).toMatch(/out of memory/);
  });
  it('storage pending → what to check', () => {
    expect(explain({ conditions: [{ type: 'PodScheduled', status: 'False', message: 'pod has unbound immediate PersistentVolumeClaims' }] }).words).toMatch(/waiting for its storage/);
  });
  it('first install running → how long it usually takes', () => {
    const e = explainPod(state(), 'Nextcloud', pod('web', { phase: 'Running', startTime: '2026-11-26T11:52:00Z', containerStatuses: [{ name: 'nextcloud', restartCount: 0, state: { running: {} } }] }));
    expect(e.words).toMatch(/installing or upgrading itself \(running for 8 min; a first install usually takes 5 to 15 minutes\)/);
  });
});

describe('the report', () => {
  const host = { lanAddresses: ['192.168.1.20'] };
  it('is healthy when every part is ready and a backup succeeded recently', () => {
    const r = buildReport(state({ pods: [good] }), host);
    expect(r.healthy).toBe(true);
    expect(r.warnings).toEqual([]);
  });
  it('gives the addresses and the CalDAV/CardDAV/WebDAV URLs', () => {
    const r = buildReport(state(), host);
    expect(r.addresses).toEqual({ thisPc: 'http://localhost/', lan: ['http://192.168.1.20/'] });
    expect(r.clients.caldav).toBe('http://192.168.1.20/remote.php/dav');
    expect(r.clients.webdav).toBe('http://192.168.1.20/remote.php/dav/files/USERNAME/');
  });
  it('includes the port when it is not 80', () => {
    const services = [{ metadata: { name: 'nextcloud' }, spec: { type: 'LoadBalancer', ports: [{ port: 8081 }] }, status: { loadBalancer: { ingress: [{}] } } }];
    expect(buildReport(state({ services }), host).addresses.lan).toEqual(['http://192.168.1.20:8081/']);
  });
  it('warns and is not healthy without a successful backup in 36 hours', () => {
    const r = buildReport(state(), host);
    expect(r.healthy).toBe(false);
    expect(r.warnings[0]).toMatch(/No successful backup yet/);
  });
  it('does not nag about backups on a fresh install', () => {
    expect(buildReport(state({ namespaceObject: { metadata: { creationTimestamp: '2026-11-26T10:00:00Z' } } }), host).healthy).toBe(true);
  });
  it('reports the last backup from its summary and the next run in local time', () => {
    const r = buildReport(state({ pods: [good] }), host);
    expect(r.backup.last).toMatchObject({ result: 'success', snapshot: '2026-11-26T013000Z', databaseBytes: 5e7 });
    expect(r.backup.next).toBe('2026-11-27T01:30:00.000Z');
    expect(formatReport(r)).toMatch(/next +27 Nov 2026, 02:30 \(Europe\/Berlin\)/);
  });
  it('warns when the context is not Docker Desktop\'s', () => {
    expect(buildReport(state({ context: 'work-cluster', pods: [good] }), host).warnings[0]).toMatch(/context is "work-cluster", not Docker Desktop's/);
  });
  it('says how to install when nothing is there', () => {
    expect(formatReport(buildReport(state({ namespaceObject: undefined, deployments: [] }), host))).toMatch(/not installed.*\nInstall it with: npm run deploy/);
  });
});

describe('next scheduled run', () => {
  it('follows the zone in winter and in summer time', () => {
    expect(nextRun('30 2 * * *', 'Europe/Berlin', new Date('2026-01-15T12:00:00Z'))!.toISOString()).toBe('2026-01-16T01:30:00.000Z');
    expect(nextRun('30 2 * * *', 'Europe/Berlin', new Date('2026-07-01T12:00:00Z'))!.toISOString()).toBe('2026-07-02T00:30:00.000Z');
  });
  it('handles weekdays and steps', () => {
    expect(nextRun('0 3 * * 0', 'UTC', new Date('2026-11-26T12:00:00Z'))!.toISOString()).toBe('2026-11-29T03:00:00.000Z');
    expect(nextRun('*/15 * * * *', 'UTC', new Date('2026-11-26T12:01:00Z'))!.toISOString()).toBe('2026-11-26T12:15:00.000Z');
  });
});

describe('command line', () => {
  it('reads options', () => {
    expect(parseArgs(['status', '--output', 'json', '--context', 'x'])).toMatchObject({ command: 'status', output: 'json', context: 'x' });
  });
  it.each([
    [['status', '--output', 'yaml'], /--output takes "json" or "text"/],
    [['deploy', '--timeout', 'soon'], /--timeout takes a number of seconds/],
    [['restore', '--snapshot', 'latest'], /--snapshot takes a snapshot name like/],
    [['status', '--frobnicate'], /unknown option --frobnicate/],
    [['launch'], /unknown command "launch"/],
    [['status', '--context'], /--context needs a value/],
  ])('explains %j', (argv, message) => {
    expect(() => parseArgs(argv as string[])).toThrow(message as RegExp);
  });
});
