import { parseArgs } from '../../client/cli';
import { ClusterState, buildReport, explainPod, nextRun } from '../../client/status';
import { formatReport } from '../../client/status-text';

const NOW = new Date('2026-11-26T12:00:00Z');
const deployment = (name: string, available: number) => ({ metadata: { name }, spec: { replicas: 1 }, status: { availableReplicas: available } });
const pod = (component: string, status: object, created = '2026-11-26T11:50:00Z') => ({ metadata: { name: `${component}-abc`, labels: { 'app.kubernetes.io/component': component }, creationTimestamp: created }, status });

function state(over: Partial<ClusterState> = {}): ClusterState {
  return {
    now: NOW, context: 'docker-desktop', namespace: 'homecloud',
    namespaceObject: { metadata: { creationTimestamp: '2026-11-20T00:00:00Z' } },
    deployments: [deployment('nextcloud', 1), deployment('database', 1), deployment('cache', 1), deployment('egress', 1)],
    pods: [], pvcs: [{ metadata: { name: 'nextcloud-html' }, status: { phase: 'Bound', capacity: { storage: '50Gi' } } }],
    cronJobs: [{ metadata: { name: 'backup' }, spec: { schedule: '30 2 * * *', timeZone: 'Europe/Berlin' } }],
    jobs: [{ metadata: { name: 'backup-1', ownerReferences: [{ kind: 'CronJob', name: 'backup' }] } }],
    services: [{ metadata: { name: 'nextcloud' }, spec: { type: 'LoadBalancer', ports: [{ name: 'http', port: 80 }, { name: 'https', port: 443 }] }, status: { loadBalancer: { ingress: [{ hostname: 'localhost' }] } } }],
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
  // Found on the real node: an upgrade that runs longer than 25 minutes (a big library's
  // migrations can take an hour) was reported as a problem, inviting a restart midway.
  const upgrading = (lines: string[]) => explainPod(state({ logs: { 'web-abc/nextcloud': lines } }), 'Nextcloud',
    pod('web', { phase: 'Running', startTime: '2026-11-26T11:10:00Z', containerStatuses: [{ name: 'nextcloud', restartCount: 0, ready: false, state: { running: {} } }] }));
  it('an upgrade still running after 50 minutes → upgrading, leave the PC on', () => {
    const e = upgrading(['Initializing nextcloud 34.0.1.1 ...', 'Upgrading nextcloud from 33.0.9.1 ...', 'Updating database schema', 'Starting code integrity check...']);
    expect(e.state).toBe('starting');
    expect(e.words).toMatch(/is upgrading itself to 34\.0\.1 \(running for 50 min\)\. A large upgrade can take an hour or more: leave the PC on/);
  });
  it('an upgrade that finished but php-fpm does not answer after 50 minutes → a problem', () => {
    expect(upgrading(['Initializing nextcloud 34.0.1.1 ...', 'Upgrading nextcloud from 33.0.9.1 ...', 'Initializing finished', 'NOTICE: ready to handle connections']).state).toBe('problem');
  });
  it('a first install is not called an upgrade', () => {
    expect(upgrading(['Initializing nextcloud 34.0.1.1 ...', 'New nextcloud instance', 'Installing with PostgreSQL database']).words).not.toMatch(/upgrading itself to/);
  });
});

describe('the report', () => {
  // Images checked yesterday with nothing waiting: no update warning in the way of the others.
  const host = { lanAddresses: ['192.168.1.20'], imageCheck: { checkedAt: '2026-11-25T12:00:00Z', waiting: [] } };
  it('is healthy when every part is ready and a backup succeeded recently', () => {
    const r = buildReport(state({ pods: [good] }), host);
    expect(r.healthy).toBe(true);
    expect(r.warnings).toEqual([]);
  });
  it('gives the names phones use too, as deployed (a PC named like a public domain: NAME.local), before the addresses', () => {
    const named = { ...deployment('nextcloud', 1), spec: { replicas: 1, template: { spec: { containers: [{ name: 'nextcloud', env: [
      { name: 'HOMECLOUD_TRUSTED_DOMAINS', value: 'localhost 127.0.0.1 family.local 192.168.1.20 photos.lan:8443' }] }] } } } };
    const r = buildReport(state({ deployments: [named, deployment('database', 1), deployment('cache', 1), deployment('egress', 1)] }), host);
    expect(r.addresses.lan).toEqual(['https://family.local/', 'https://photos.lan/', 'https://192.168.1.20/']);
  });
  it('warns when other accounts of the PC can read the folders that hold the passwords and keys (Windows)', () => {
    const r = buildReport(state({ pods: [good] }), { ...host, secretsExposed: [{ folder: 'C:\\homecloud\\.homecloud', readers: ['Authenticated Users', 'Users'] }] });
    expect(r.warnings).toEqual([expect.stringMatching(/Other accounts of this PC \(Authenticated Users, Users\) can read C:\\homecloud\\\.homecloud, which holds the home cloud's passwords and keys.*npm run deploy.*your own user folder/)]);
  });
  it('gives the HTTPS addresses, the CalDAV/CardDAV/WebDAV URLs and the welcome page for phones', () => {
    const r = buildReport(state(), host);
    expect(r.addresses).toEqual({ thisPc: 'https://localhost/', lan: ['https://192.168.1.20/'] });
    expect(r.clients.caldav).toBe('https://192.168.1.20/remote.php/dav');
    expect(r.clients.webdav).toBe('https://192.168.1.20/remote.php/dav/files/USERNAME/');
    expect(r.welcome).toBe('http://192.168.1.20/welcome/');
    expect(formatReport(r)).toMatch(/set up a phone +http:\/\/192\.168\.1\.20\/welcome\//);
  });
  it('includes the ports when they are not 80 and 443', () => {
    const services = [{ metadata: { name: 'nextcloud' }, spec: { type: 'LoadBalancer', ports: [{ name: 'http', port: 8081 }, { name: 'https', port: 8443 }] }, status: { loadBalancer: { ingress: [{}] } } }];
    const r = buildReport(state({ services }), host);
    expect(r.addresses.lan).toEqual(['https://192.168.1.20:8443/']);
    expect(r.welcome).toBe('http://192.168.1.20:8081/welcome/');
  });
  it('keeps http addresses for an install from before HTTPS, and says how to switch', () => {
    const services = [{ metadata: { name: 'nextcloud' }, spec: { type: 'LoadBalancer', ports: [{ name: 'http', port: 8081 }] }, status: { loadBalancer: { ingress: [{}] } } }];
    const r = buildReport(state({ services }), host);
    expect(r.addresses.lan).toEqual(['http://192.168.1.20:8081/']);
    expect(r.welcome).toBeUndefined();
    expect(r.warnings).toContainEqual(expect.stringMatching(/plain HTTP only: run `npm run deploy`/));
  });
  describe('a backup Kubernetes stopped at its time limit (backup.timeout)', () => {
    // What the Job controller leaves: the Job's Failed condition; the pod, and its summary, deleted.
    const stoppedJob = (name: string, startTime: string, limit = 3 * 3600) => ({
      metadata: { name, ownerReferences: [{ kind: 'CronJob', name: 'backup' }], creationTimestamp: startTime },
      spec: { activeDeadlineSeconds: limit },
      status: { startTime, failed: 1, conditions: [{ type: 'Failed', status: 'True', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' }] },
    });
    it('says so in plain words, with the setting and the next step, when it is the latest run', () => {
      const r = buildReport(state({ pods: [good], jobs: [...state().jobs, stoppedJob('backup-2', '2026-11-27T01:30:00Z')], now: new Date('2026-11-27T09:00:00Z') }), host);
      expect(r.backup.last).toMatchObject({ result: 'failed', time: '2026-11-27T01:30:00Z' });
      expect(r.warnings).toContainEqual(expect.stringMatching(/^The last backup failed: it was stopped at its time limit of 3 hours \(backup\.timeout\) before it finished\. A first backup of a large photo library can need longer; .* backup: \{ timeout: Duration\.hours\(6\) \} in main\.ts, then npm run deploy\.$/));
      expect(formatReport(r)).toMatch(/last +.*: failed — it was stopped at its time limit of 3 hours/);
      // The good night before still counts as the last success.
      expect(r.backup.lastSuccess).toBe('2026-11-26T01:30:00Z');
    });
    it('while a backup runs, says for how long, and how long it may run', () => {
      const running = { metadata: { name: 'backup-2-x', labels: { 'job-name': 'backup-2' } }, status: { startTime: '2026-11-26T10:40:00Z', containerStatuses: [{ name: 'files', state: { running: {} } }] } };
      const job = { metadata: { name: 'backup-2', ownerReferences: [{ kind: 'CronJob', name: 'backup' }] }, spec: { activeDeadlineSeconds: 3 * 3600 }, status: { active: 1 } };
      const r = buildReport(state({ pods: [good, running], jobs: [...state().jobs, job] }), host);
      expect(r.backup.last).toMatchObject({ result: 'running', runningSeconds: 80 * 60, limitSeconds: 3 * 3600 });
      expect(formatReport(r)).toMatch(/last +.*: running for 80 min \(it may run 3 hours: backup\.timeout\)/);
    });
    it('is history once a later night succeeds', () => {
      const r = buildReport(state({ pods: [good], jobs: [...state().jobs, stoppedJob('backup-0', '2026-11-25T01:30:00Z')] }), host);
      expect(r.backup.last).toMatchObject({ result: 'success' });
      expect(r.warnings).toEqual([]);
    });
    it('counts the time limit the Job had, and suggests twice as long', () => {
      const r = buildReport(state({ jobs: [stoppedJob('backup-2', '2026-11-26T01:30:00Z', 5 * 3600)] }), host);
      expect(r.backup.last?.error).toMatch(/time limit of 5 hours .*Duration\.hours\(10\)/);
      expect(buildReport(state({ jobs: [stoppedJob('backup-2', '2026-11-26T01:30:00Z', 5400)] }), host).backup.last?.error).toMatch(/time limit of 90 minutes/);
    });
    it('a Job that failed for another reason is explained by its pod, as before', () => {
      const failedJob = { ...stoppedJob('backup-1', '2026-11-26T01:30:00Z'), status: { conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }] } };
      const r = buildReport(state({ jobs: [failedJob], pods: [backupPod(1, { time: '2026-11-26T01:30:00Z', result: 'failed', error: 'database: cannot reach the database' })] }), host);
      expect(r.backup.last).toMatchObject({ result: 'failed', error: 'database: cannot reach the database' });
    });
  });
  describe('the disk under the backups', () => {
    const withDisk = (kib: number, freeKib: number, newKib = 1000) => buildReport(state({ pods: [backupPod(0, {
      snapshot: '2026-11-26T013000Z', time: '2026-11-26T01:30:00Z', result: 'success', files: { kib: 1e6, newKib }, disk: { kib, freeKib },
    })] }), host);
    it('is quiet while a tenth of the disk and a week of nights like the last are free', () => {
      expect(withDisk(100e6, 20e6).warnings).toEqual([]);
    });
    it('warns, with what to do, when less than a tenth is free', () => {
      const r = withDisk(100e6, 9e6);
      expect(r.healthy).toBe(false);
      expect(r.warnings).toEqual([expect.stringMatching(/almost full: 9\.2 GB free of 102 GB.*Disk image size.*backup\.retention/)]);
    });
    it('warns when a week of nights like the last would not fit', () => {
      expect(withDisk(100e6, 20e6, 3e6).warnings).toEqual([expect.stringMatching(/almost full/)]);
    });
    it('says nothing when the summary has no disk figures (a backup from before they were measured)', () => {
      expect(buildReport(state({ pods: [good] }), host).warnings).toEqual([]);
    });
  });
  describe('the HTTPS certificate', () => {
    const days = (n: number) => new Date(NOW.getTime() + n * 86400_000).toISOString();
    const withCert = (certificate: object) => buildReport(state({ pods: [good] }), { ...host, certificate });
    it('shows its expiry and the CA\'s fingerprint, and is quiet while it is renewed in time', () => {
      const r = withCert({ notAfter: days(60), trusted: true, caFingerprint: 'AB:CD' });
      expect(r.healthy).toBe(true);
      expect(formatReport(r)).toMatch(/HTTPS certificate valid until 2027-01-25, renewed automatically/);
      expect(formatReport(r)).toMatch(/home CA SHA-256 +AB:CD/);
    });
    it('warns 30 days ahead: renewal should have happened at 45', () => {
      const r = withCert({ notAfter: days(29), trusted: true });
      expect(r.healthy).toBe(false);
      expect(r.warnings).toEqual([expect.stringMatching(/expires in 29 days .* has not renewed itself.*-c certificates/)]);
      expect(withCert({ notAfter: days(31), trusted: true }).warnings).toEqual([]);
    });
    it('says when it expired, and when it is not from this PC\'s CA', () => {
      expect(withCert({ notAfter: days(-1), trusted: true }).warnings[0]).toMatch(/expired on 2026-11-25: phones refuse/);
      expect(withCert({ notAfter: days(60), trusted: false, problem: 'not signed by this PC\'s home CA (UNABLE_TO_VERIFY_LEAF_SIGNATURE)' }).warnings[0])
        .toMatch(/not signed by this PC's home CA .*Run `npm run deploy`/);
    });
    it('says when nothing answers on HTTPS although Nextcloud is ready (another program on port 443?)', () => {
      expect(withCert({ problem: 'nothing answers on https://localhost:443 (ECONNREFUSED)' }).warnings).toEqual([expect.stringMatching(/HTTPS does not answer on this PC: nothing answers/)]);
    });
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

describe('the copy outside Docker Desktop', () => {
  // Images checked yesterday with nothing waiting: no update warning in the way of the others.
  const host = { lanAddresses: ['192.168.1.20'], imageCheck: { checkedAt: '2026-11-25T12:00:00Z', waiting: [] } };
  const cron = (mode: 'cluster' | 'client') => ({ metadata: { name: 'backup' }, spec: { schedule: '30 2 * * *', timeZone: 'Europe/Berlin', jobTemplate: { spec: { template: { spec: {
    containers: [{ name: 'offsite', env: [{ name: 'OFFSITE_MODE', value: mode }, { name: 'OFFSITE_FOLDER_NAME', value: 'C:\\Users\\Anna\\homecloud-backups' }] }],
  } } } } } });
  const withOffsite = (message: object) => ({
    ...good,
    status: { containerStatuses: [...good.status.containerStatuses, { name: 'offsite', state: { terminated: { exitCode: 0, message: JSON.stringify(message) } } }] },
  });
  const copied = (time: string, extra: object = {}) => withOffsite({ time, result: 'success', mode: 'cluster', folder: 'C:\\Users\\Anna\\homecloud-backups',
    snapshot: '2026-11-26T013000Z', repositoryKib: 2048, copy: { time, copied: 3, bytes: 1000, removed: 0, kib: 2048 }, scrub: {}, error: '', ...extra });

  it('shows the last copy, its folder and size, who makes it, and what the cluster type means', () => {
    const r = buildReport(state({ cronJobs: [cron('cluster')], pods: [copied('2026-11-26T01:40:00Z')], nodeNames: ['docker-desktop'] }), host);
    expect(r.offsite).toMatchObject({ mode: 'cluster', clusterType: 'kubeadm', last: { result: 'success', kib: 2048 } });
    expect(r.healthy).toBe(true);
    const text = formatReport(r);
    expect(text).toMatch(/Copy outside Docker Desktop:\n  folder            C:\\Users\\Anna\\homecloud-backups \(2\.1 MB\)/);
    expect(text).toMatch(/last copy         26 Nov 2026, 02:40: success/);
    expect(text).toMatch(/cluster type      kubeadm: .*"Reset Kubernetes cluster".*the copy in the folder survives/);
  });
  it('warns, and is not healthy, after 48 hours without a copy', () => {
    const r = buildReport(state({ cronJobs: [cron('cluster')], pods: [copied('2026-11-24T01:40:00Z')], nodeNames: ['docker-desktop'] }), host);
    expect(r.healthy).toBe(false);
    expect(r.warnings).toEqual([expect.stringMatching(/^No copy outside Docker Desktop for 58 hours \(folder C:.*\).*drive is plugged in/)]);
  });
  it('counts the hours since the last good copy across failed nights, beyond the job history Kubernetes keeps', () => {
    const failed = (time: string) => copied(time, { result: 'failed', copy: {}, lastCopy: '2026-11-19T01:40:00Z', error: 'the off-disk folder /offsite is not there (USB disk unplugged? drive letter changed?)' });
    const r = buildReport(state({ cronJobs: [cron('cluster')], nodeNames: ['docker-desktop'],
      pods: [failed('2026-11-24T01:40:00Z'), failed('2026-11-25T01:40:00Z'), failed('2026-11-26T01:40:00Z')] }), host);
    expect(r.warnings[0]).toMatch(/^No copy outside Docker Desktop for 178 hours/);
  });
  it('says why the last copy failed', () => {
    const r = buildReport(state({ cronJobs: [cron('cluster')], nodeNames: ['docker-desktop'],
      pods: [copied('2026-11-26T01:40:00Z', { result: 'failed', copy: {}, error: 'the off-disk folder /offsite is not there (USB disk unplugged? drive letter changed?)' })] }), host);
    expect(r.warnings).toContainEqual(expect.stringMatching(/The last copy to C:.* failed: .*USB disk unplugged/));
  });
  it('reports a scrub that found damage', () => {
    const r = buildReport(state({ cronJobs: [cron('cluster')], nodeNames: ['docker-desktop'],
      pods: [copied('2026-11-26T01:40:00Z', { scrub: { result: 'damaged', damagedSnapshots: '2026-01-01T013000Z' } })] }), host);
    expect(r.offsite.scrub).toMatchObject({ result: 'damaged' });
    expect(r.warnings).toContainEqual(expect.stringMatching(/scrub found damage \(snapshots 2026-01-01T013000Z, marked DAMAGED/));
    expect(r.warnings.join('\n')).not.toMatch(/npm run offsite/);
  });
  it('names the folder when the night\'s read-back found its copy damaged, and says the sound repository replaces the files', () => {
    const r = buildReport(state({ cronJobs: [cron('cluster')], nodeNames: ['docker-desktop'],
      pods: [copied('2026-11-26T01:40:00Z', { scrub: { result: 'damaged', damagedSnapshots: '', repository: 'good', offsiteCopy: 'damaged' } })] }), host);
    expect(r.offsite.scrub).toMatchObject({ result: 'damaged', offsiteCopy: 'damaged', repository: 'good' });
    expect(r.warnings).toContainEqual(expect.stringMatching(/Reading back the copy in C:.*homecloud-backups found damaged files; while the repository inside Docker Desktop is sound, each night copies them again from it/));
    expect(r.warnings.join('\n')).not.toMatch(/scrub found damage/);
  });
  it('on kind, says that npm run offsite puts back damaged repository files from the PC\'s copy', () => {
    const r = buildReport(state({ cronJobs: [cron('client')], nodeNames: ['desktop-control-plane'],
      pods: [copied('2026-11-26T01:40:00Z', { scrub: { result: 'damaged', damagedSnapshots: '' } })] }),
    { ...host, pcCopy: { time: '2026-11-26T03:00:00Z', result: 'success', kib: 4096 } });
    expect(r.warnings).toContainEqual(expect.stringMatching(/scrub found damage: .*Run `npm run offsite`: it puts back damaged files of the repository inside Docker Desktop from this PC's copy/));
  });
  it('says when a scrub repaired the repository inside Docker Desktop from the copy, without a warning', () => {
    const r = buildReport(state({ cronJobs: [cron('cluster')], nodeNames: ['docker-desktop'],
      pods: [copied('2026-11-26T01:40:00Z', { scrub: { result: 'good', damagedSnapshots: '', repaired: true } })] }), host);
    expect(r.offsite.scrub).toMatchObject({ result: 'good', repaired: true });
    expect(r.warnings.filter((w) => /scrub/.test(w))).toEqual([]);
    expect(formatReport(r)).toMatch(/last scrub .*: good \(damaged files inside Docker Desktop were replaced from the copy\)/);
  });
  it('on kind, takes the last copy from this PC\'s own record', () => {
    const r = buildReport(state({ cronJobs: [cron('client')], pods: [good], nodeNames: ['desktop-control-plane'] }),
      { ...host, pcCopy: { time: '2026-11-26T03:00:00Z', result: 'success', kib: 4096 } });
    expect(r.offsite).toMatchObject({ mode: 'client', clusterType: 'kind', last: { time: '2026-11-26T03:00:00Z' } });
    expect(formatReport(r)).toMatch(/made by           this PC's scheduled task/);
    expect(r.warnings).toEqual([]);
  });
  it('on kind, shows when the PC last read its copy back, and warns when that found damage', () => {
    const clean = buildReport(state({ cronJobs: [cron('client')], pods: [good], nodeNames: ['desktop-control-plane'] }),
      { ...host, pcCopy: { time: '2026-11-26T03:00:00Z', result: 'success', verified: '2026-11-24T03:00:00Z', repaired: 0 } });
    expect(formatReport(clean)).toMatch(/copy read back    24 Nov 2026, 04:00: every file intact/);
    const damaged = buildReport(state({ cronJobs: [cron('client')], pods: [good], nodeNames: ['desktop-control-plane'] }),
      { ...host, pcCopy: { time: '2026-11-26T03:00:00Z', result: 'success', verified: '2026-11-26T03:00:00Z', repaired: 2 } });
    expect(damaged.warnings).toEqual([expect.stringMatching(/found 2 damaged file\(s\); they were copied again from the cluster\. If it repeats, that drive may be failing/)]);
  });
  it('tells a family whose settings say kubeadm but whose cluster is kind how to fix it', () => {
    const r = buildReport(state({ cronJobs: [cron('cluster')], pods: [copied('2026-11-26T01:40:00Z')], nodeNames: ['desktop-control-plane', 'desktop-worker'] }), host);
    expect(r.warnings[0]).toMatch(/This is a kind cluster.*not reaching C:.*clusterType to 'kind'.*npm run synth.*npm run deploy/);
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
    expect(parseArgs(['admin-password'])).toMatchObject({ command: 'admin-password', reset: false });
    expect(parseArgs(['admin-password', '--reset', '--yes'])).toMatchObject({ command: 'admin-password', reset: true, yes: true });
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

describe('image updates in the report', () => {
  const base = { lanAddresses: ['192.168.1.20'] };
  const installed = () => state({ pods: [good] });
  it('shows when the images were last checked and that nothing waits, without warning', () => {
    const r = buildReport(installed(), { ...base, imageCheck: { checkedAt: '2026-11-20T08:00:00Z', waiting: [] } });
    expect(r.updates).toEqual({ checkedAt: '2026-11-20T08:00:00Z', waiting: [] });
    expect(r.warnings).toEqual([]);
    expect(formatReport(r)).toMatch(/Updates:\n {2}images checked {4}.*2026.*\n {2}waiting {11}none/);
  });
  it('names the waiting updates and the command, and stays healthy (the cloud works meanwhile)', () => {
    const r = buildReport(installed(), { ...base, imageCheck: { checkedAt: '2026-11-25T08:00:00Z', waiting: [{ tag: 'nextcloud:34-fpm-alpine', version: '34.0.3' }, { tag: 'nginx:1.28-alpine' }] } });
    expect(r.updates.waiting).toEqual(['nextcloud:34-fpm-alpine (34.0.3)', 'nginx:1.28-alpine']);
    expect(r.warnings).toEqual(['2 image update(s) waiting since the last check: npm run update installs them (with a backup first where data can change).']);
    expect(r.healthy).toBe(true);
  });
  it('asks for a check when there never was one, or none for a month', () => {
    expect(buildReport(installed(), base).warnings).toEqual([expect.stringMatching(/never checked for updates: npm run update -- --dry-run checks/)]);
    expect(formatReport(buildReport(installed(), base))).toMatch(/images checked {4}never/);
    const old = buildReport(installed(), { ...base, imageCheck: { checkedAt: '2026-10-01T00:00:00Z', waiting: [] } });
    expect(old.warnings).toEqual([expect.stringMatching(/No check for image updates in 56 days/)]);
  });
});

describe('photo thumbnails', () => {
  const host = { lanAddresses: ['192.168.1.20'], imageCheck: { checkedAt: '2026-11-25T12:00:00Z', waiting: [] } };
  const previewsJob = (name: string) => ({ metadata: { name, ownerReferences: [{ kind: 'CronJob', name: 'previews' }] } });
  const previewsPod = (job: string, startedAt: string, message: object | string, exitCode = 0) => ({
    metadata: { name: `${job}-x`, labels: { 'job-name': job } },
    status: { containerStatuses: [{ name: 'previews', state: { terminated: { exitCode, startedAt, message: typeof message === 'string' ? message : JSON.stringify(message) } } }] },
  });
  const report = (pods: object[], jobs: object[]) => buildReport(state({ pods: [good, ...pods], jobs: [...state().jobs, ...jobs] }), host);

  it('says how many photos wait, and that the library is being caught up over several nights', () => {
    const r = report([previewsPod('previews-1', '2026-11-26T02:30:00Z', { result: 'stopped', reason: 'stopped at the time limit while catching up with the library; goes on tomorrow night', waiting: 1834, caughtUp: false })], [previewsJob('previews-1')]);
    expect(r.previews).toMatchObject({ result: 'stopped', waiting: 1834, caughtUp: false });
    expect(formatReport(r)).toMatch(/Photos:\n +thumbnails +1834 photo\(s\) waiting; stopped at the time limit while catching up with the library; goes on tomorrow night\n/);
  });

  it('takes the latest night, and says when every photo has its thumbnails', () => {
    const r = report([
      previewsPod('previews-1', '2026-11-25T02:30:00Z', { result: 'stopped', reason: 'stopped at the time limit', waiting: 10, caughtUp: false }),
      previewsPod('previews-2', '2026-11-26T02:30:00Z', { result: 'done', reason: 'done', waiting: 0, caughtUp: true }),
    ], [previewsJob('previews-1'), previewsJob('previews-2')]);
    expect(formatReport(r)).toMatch(/thumbnails +every photo has them\n/);
  });

  it('before the first night, says when they are made; a run whose summary is unreadable counts by its exit code', () => {
    expect(formatReport(report([], []))).toMatch(/thumbnails +no night yet: made when a photo is first opened, and ahead of time every night after the backup/);
    const r = report([previewsPod('previews-1', '2026-11-26T02:30:00Z', 'not json', 1)], [previewsJob('previews-1')]);
    expect(r.previews).toMatchObject({ result: 'failed', waiting: undefined });
  });
});

describe('the maintenance lock in the report', () => {
  const host = { lanAddresses: ['192.168.1.20'], imageCheck: { checkedAt: '2026-11-25T12:00:00Z', waiting: [] } };
  const lease = (op: string, step: string, renewedSecondsAgo: number) => ({
    metadata: { annotations: { 'homecloud.io/operation': op, 'homecloud.io/from': 'this PC (FAMILY-PC, anna)', 'homecloud.io/step': step, 'homecloud.io/detail': 'snapshot=2026-11-25T013000Z' } },
    spec: { holderIdentity: `${op}@FAMILY-PC:1:a`, leaseDurationSeconds: 60, acquireTime: '2026-11-26T11:40:00.000000Z', renewTime: new Date(NOW.getTime() - renewedSecondsAgo * 1000).toISOString() },
  });
  it('says what runs now, and stays healthy', () => {
    const r = buildReport(state({ pods: [good], lease: lease('update', 'backing up', 5) }), host);
    expect(r.maintenance).toEqual({ running: expect.stringMatching(/^An update started at \d\d:\d\d from this PC \(FAMILY-PC, anna\) \(now: backing up\)\.$/) });
    expect(formatReport(r)).toMatch(/Running now:\n {2}An update started at/);
    expect(r.healthy).toBe(true);
  });
  it('says what was cut short; a half-restored home cloud is not healthy and says how to finish', () => {
    const cut = buildReport(state({ pods: [good], lease: lease('update', 'waiting for health', 600) }), host);
    expect(cut.warnings).toEqual([expect.stringMatching(/^an update started at .* was cut short .* at "waiting for health"\.$/)]);
    expect(cut.healthy).toBe(true);
    const half = buildReport(state({ pods: [good], lease: lease('restore', 'restoring', 600) }), host);
    expect(half.warnings).toEqual([expect.stringMatching(/half-restored\. Run `npm run restore -- --snapshot 2026-11-25T013000Z` to finish it/)]);
    expect(half.healthy).toBe(false);
  });
  it('shows a night skipped while another operation held the lock, with its reason, and not as a success', () => {
    const skipped = backupPod(0, { time: '2026-11-26T01:30:00Z', result: 'skipped', error: 'restore from this PC (FAMILY-PC, anna) holds the maintenance lock (now: restoring)' });
    const r = buildReport(state({ pods: [skipped] }), host);
    expect(r.backup.last).toMatchObject({ result: 'skipped' });
    expect(r.backup.lastSuccess).toBeUndefined();
    expect(formatReport(r)).toMatch(/last {14}.*: skipped — restore from this PC \(FAMILY-PC, anna\) holds the maintenance lock \(now: restoring\)/);
  });
});
