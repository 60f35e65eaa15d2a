import { Duration, Size } from 'cdk8s';
import { cronProblem, imageMajor, imageProblem, isTrustedDomain } from '../../lib/config/checks';
import { resolveSettings } from '../../lib/config/resolve-settings';
import { HomecloudSettings, SettingsError } from '../../lib/config/settings';
import { HOST } from '../support/stack';

function problemsOf(settings: HomecloudSettings): string[] {
  try {
    resolveSettings(settings, HOST);
  } catch (e) {
    if (e instanceof SettingsError) return e.problems;
    throw e;
  }
  return [];
}

describe('defaults', () => {
  const s = resolveSettings({}, HOST);

  it('uses the homecloud namespace', () => expect(s.namespace).toBe('homecloud'));
  it('takes the time zone from the PC', () => expect(s.timeZone).toBe('Europe/Berlin'));
  it('trusts localhost, the PC name and its LAN addresses', () => {
    expect(s.trustedDomains).toEqual(['localhost', '127.0.0.1', 'familypc', '192.168.1.20']);
  });
  it('backs up nightly at 02:30', () => expect(s.backup.schedule).toBe('30 2 * * *'));
  it('installs security updates by itself, half an hour after the backup starts, waiting 15 minutes for health', () => {
    expect(s.updates).toEqual({ automatic: true, time: '03:00', healthTimeoutSeconds: 900 });
    expect(resolveSettings({ backup: { time: '23:45' } }, HOST).updates.time).toBe('00:15');
    expect(resolveSettings({ backup: { schedule: '*/30 1 * * *' } }, HOST).updates.time).toBe('01:30');
    expect(resolveSettings({ updates: { automatic: false } }, HOST).updates.automatic).toBe(false);
  });
  it('starts the maintenance window at 21:00, so it ends an hour before the backup', () => expect(s.maintenanceWindowStart).toBe(21));
  it('moves the default maintenance window with the backup time', () => {
    expect(resolveSettings({ backup: { time: '04:10' } }, HOST).maintenanceWindowStart).toBe(23);
    expect(resolveSettings({ backup: { time: '00:30' } }, HOST).maintenanceWindowStart).toBe(19);
  });
  it('keeps 7 daily, 4 weekly and 6 monthly backups', () => expect(s.backup.retention).toEqual({ daily: 7, weekly: 4, monthly: 6 }));
  it('takes the phone region from the locale', () => expect(s.phoneRegion).toBe('DE'));
  it('copies the backups nightly to homecloud-backups in the user\'s profile, written by a kubeadm cluster', () => {
    expect(s.backup.offsite).toEqual({
      folder: 'C:\\Users\\Anna\\homecloud-backups', hostPath: '/run/desktop/mnt/host/c/Users/Anna/homecloud-backups',
      clusterType: 'kubeadm', retention: { daily: 7, weekly: 4, monthly: 12 }, scrubEveryDays: 7,
    });
  });
  it.each([['D:\\', '/run/desktop/mnt/host/d'], ['e:\\Familie\\Sicherung\\', '/run/desktop/mnt/host/e/Familie/Sicherung'],
    ['/srv/homecloud-backups/', '/srv/homecloud-backups']])('maps the off-disk folder %s to the node path %s', (folder, hostPath) => {
    expect(resolveSettings({ backup: { offsite: { folder } } }, HOST).backup.offsite.hostPath).toBe(hostPath);
  });
  it('installs contacts, calendar, tasks and notes', () => expect(s.apps).toEqual(['contacts', 'calendar', 'tasks', 'notes']));
  it('uses the default StorageClass', () => expect(s.storage.storageClassName).toBeUndefined());
  it('pins every image to a version', () => {
    for (const ref of Object.values(s.images)) expect(imageProblem(ref)).toBeUndefined();
  });
  it('skips a PC name that is not a valid host name instead of failing', () => {
    expect(resolveSettings({}, { ...HOST, hostname: 'MY_PC' }).trustedDomains).not.toContain('MY_PC');
  });
});

describe('bad input names the setting, the value and the fix', () => {
  it.each<[string, HomecloudSettings, RegExp]>([
    ['an invalid host name in trusted domains', { trustedDomains: ['localhost', 'bad_host!'] }, /trustedDomains\[1\] = "bad_host!".*host name like/],
    ['an invalid IP address in trusted domains', { trustedDomains: ['192.168.1.300'] }, /trustedDomains\[0\] = "192.168.1.300"/],
    ['an invalid cron schedule', { backup: { schedule: '61 2 * * *' } }, /backup.schedule = "61 2 \* \* \*".*minute.*0-59.*"30 2 \* \* \*"/],
    ['a cron schedule with too few fields', { backup: { schedule: '30 2 *' } }, /backup.schedule.*3 fields, not 5/],
    ['an invalid backup time', { backup: { time: '25:00' } }, /backup.time = "25:00".*"HH:MM"/],
    ['an unknown time zone', { timeZone: 'Mars/Olympus_Mons' }, /timeZone = "Mars\/Olympus_Mons".*IANA zone/],
    ['a malformed size', { storage: { nextcloud: '10 gigs' } }, /storage.nextcloud = "10 gigs".*positive size/],
    ['a zero size', { storage: { database: '0Gi' } }, /storage.database = "0Gi"/],
    ['a negative size', { storage: { backups: '-1Gi' } }, /storage.backups = "-1Gi"/],
    ['a retention count below 1', { backup: { retention: { weekly: 0 } } }, /backup.retention.weekly = 0.*at least 1/],
    ['a memory limit below its request', { resources: { database: { memoryRequest: '1Gi', memoryLimit: '512Mi' } } }, /resources.database.memoryLimit = "512Mi".*below the request \(1Gi\)/],
    ['a CPU limit below its request', { resources: { cache: { cpuRequest: '500m', cpuLimit: '100m' } } }, /resources.cache.cpuLimit = "100m".*below the request/],
    ['an image without a tag', { images: { nextcloud: 'nextcloud' } }, /images.nextcloud = "nextcloud".*no tag.*"nextcloud:34-fpm-alpine"/],
    ['an image on latest', { images: { postgres: 'postgres:latest' } }, /images.postgres = "postgres:latest".*does not start with a version/],
    ['an image on a floating tag', { images: { nginx: 'nginx:alpine' } }, /images.nginx = "nginx:alpine"/],
    ['a port out of range', { httpPort: 70000 }, /httpPort = 70000/],
    ['a namespace with capitals', { namespace: 'HomeCloud' }, /namespace = "HomeCloud"/],
    ['a phone region that is not a country code', { phoneRegion: 'Germany' }, /phoneRegion = "Germany".*"DE"/],
    ['an off-disk folder given relative', { backup: { offsite: { folder: 'backups' } } }, /backup.offsite.folder = "backups".*full path to a folder, e\.g\. "D:.*homecloud-backups"/],
    ['an off-disk folder on a network share', { backup: { offsite: { folder: '\\\\nas\\family' } } }, /backup.offsite.folder = .*network share .*cannot be reached from the cluster/],
    ['an off-disk folder with a character Windows forbids', { backup: { offsite: { folder: 'D:\\back|ups' } } }, /backup.offsite.folder = .*full path/],
    ['an unknown cluster type', { backup: { offsite: { clusterType: 'k3s' as never } } }, /backup.offsite.clusterType = "k3s".*"kubeadm" or "kind"/],
    ['a scrub interval of 0 days', { backup: { offsite: { scrubEveryDays: 0 } } }, /backup.offsite.scrubEveryDays = 0.*1 to 90/],
    ['an off-disk retention below 1', { backup: { offsite: { retention: { monthly: 0 } } } }, /backup.offsite.retention.monthly = 0.*at least 1/],
    ['a PHP memory limit that leaves fewer than two workers',
      { php: { memoryLimit: '1Gi' }, resources: { cron: { memoryLimit: '2Gi' }, backup: { memoryLimit: '2Gi' } } },
      /resources.nextcloud.memoryLimit = "1280Mi".*fits only 1 PHP worker.*at least 1360Mi/],
    ['a backup container too small for occ at PHP\'s memory_limit', { resources: { backup: { memoryLimit: '256Mi' } } },
      /resources.backup.memoryLimit = "256Mi".*one PHP run at php.memoryLimit plus 64Mi.*at least 576Mi/],
    ['a maintenance hour that is not an hour', { maintenanceWindowStart: 24 }, /maintenanceWindowStart = 24 .*0 to 23/],
    ['a maintenance window that overlaps the backup', { maintenanceWindowStart: 0 },
      /maintenanceWindowStart = 0 .*overlaps the nightly backup at 02:30.*e\.g\. 21/],
    ['a maintenance window that overlaps a long backup', { maintenanceWindowStart: 4 },
      /maintenanceWindowStart = 4 .*overlaps the nightly backup at 02:30 \(which may run for up to 3 h\)/],
    ['a backup timeout under five minutes', { backup: { timeout: Duration.seconds(30) } }, /backup.timeout = "30s"/],
    ['an update time that is not a time', { updates: { time: '3.30' } }, /updates.time = "3\.30".*"HH:MM", e\.g\. "03:00"/],
    ['a health bound too short for Nextcloud to start', { updates: { healthTimeout: Duration.seconds(30) } }, /updates.healthTimeout = "30s".*at least Duration\.minutes\(2\)/],
  ])('%s', (_what, settings, expected) => {
    const problems = problemsOf(settings);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(expected);
  });

  it('reports every problem at once', () => {
    expect(problemsOf({ timeZone: 'Nowhere', httpPort: 0, backup: { time: 'late' } })).toHaveLength(3);
  });

  it('says where to edit the settings', () => {
    expect(() => resolveSettings({ httpPort: 0 }, HOST)).toThrow(/edit them in main.ts/);
  });
});

describe('accepted values', () => {
  it.each(['localhost', 'homepc', 'homepc.local', 'cloud.example.org', '192.168.1.20', '192.168.1.20:8080', '[fe80::1]', 'fe80::1', 'DESKTOP-AB12CD'])(
    'trusts %s', (d) => expect(isTrustedDomain(d)).toBe(true));
  it.each(['*/15 1-5 * * 1,3,5', '0 3 1 * *', '30 2 * * 0'])('accepts the schedule %s', (c) => expect(cronProblem(c)).toBeUndefined());
  it.each(['nextcloud:34-fpm-alpine', 'valkey/valkey:8-alpine', 'ghcr.io/x/y:1.2', `postgres@sha256:${'a'.repeat(64)}`, 'localhost:5000/pg:18'])(
    'accepts the pinned image %s', (ref) => expect(imageProblem(ref)).toBeUndefined());
  it('reads the major from an image tag', () => {
    expect(imageMajor('postgres:18-alpine')).toBe(18);
    expect(imageMajor('localhost:5000/postgres:17.2-alpine@sha256:' + 'b'.repeat(64))).toBe(17);
  });
  it('accepts Size objects and quantity strings alike', () => {
    expect(resolveSettings({ storage: { nextcloud: Size.gibibytes(200), database: '10Gi' } }, HOST).storage)
      .toMatchObject({ nextcloudBytes: 200 * 2 ** 30, databaseBytes: 10 * 2 ** 30 });
  });
  it('turns a backup time into a daily schedule', () => {
    expect(resolveSettings({ backup: { time: '03:05' } }, HOST).backup.schedule).toBe('5 3 * * *');
  });
});
