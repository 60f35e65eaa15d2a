import { App, Chart } from 'cdk8s';
import * as k8s from '../../imports/k8s';
import { configHash } from '../../lib/config/config-hash';
import { postgresLayout } from '../../lib/database/postgres-config';
import { K8sObject, containerOf, synthStack } from '../support/stack';

const stack = synthStack();
const nextcloud = stack.get('Deployment', 'nextcloud');
const database = stack.get('Deployment', 'database');
const cache = stack.get('Deployment', 'cache');
const backup = stack.get('CronJob', 'backup');
const backupPod = backup.spec.jobTemplate.spec.template.spec;
const backupContainer = (name: string) => backupPod.containers.find((c: K8sObject) => c.name === name);

function envOf(container: K8sObject, name: string): K8sObject {
  const e = container.env?.find((x: K8sObject) => x.name === name);
  if (!e) throw new Error(`no env ${name} in container ${container.name}`);
  return e;
}

describe('order and identity', () => {
  it('puts the namespace first, so one `kubectl apply -f dist/` works', () => {
    expect(stack.objects[0]).toMatchObject({ kind: 'Namespace', metadata: { name: 'homecloud' } });
  });

  it('puts every other object in that namespace', () => {
    for (const o of stack.objects.slice(1)) expect(o.metadata.namespace).toBe('homecloud');
  });

  it('creates Secrets, ConfigMaps and volume claims before the workloads that use them', () => {
    const index = (kind: string, name: string) => stack.objects.indexOf(stack.get(kind, name));
    expect(index('Secret', 'homecloud-credentials')).toBeLessThan(index('Deployment', 'database'));
    expect(index('PersistentVolumeClaim', 'nextcloud-html')).toBeLessThan(index('Deployment', 'nextcloud'));
    expect(index('ConfigMap', 'nextcloud-web')).toBeLessThan(index('Deployment', 'nextcloud'));
    expect(index('ConfigMap', 'backup-scripts')).toBeLessThan(index('CronJob', 'backup'));
  });

  it('labels every object with app.kubernetes.io labels', () => {
    for (const o of stack.objects) {
      expect(o.metadata.labels).toMatchObject({ 'app.kubernetes.io/part-of': 'homecloud', 'app.kubernetes.io/managed-by': 'homecloud' });
    }
  });

  it('labels every pod template with its name and component', () => {
    for (const { template } of stack.podTemplates()) {
      expect(Object.keys(template.metadata.labels)).toEqual(expect.arrayContaining([
        'app.kubernetes.io/name', 'app.kubernetes.io/component', 'app.kubernetes.io/instance', 'app.kubernetes.io/part-of']));
    }
  });

  it('selects pods by instance and component only (selectors are immutable)', () => {
    expect(nextcloud.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/instance': 'homecloud', 'app.kubernetes.io/component': 'web' });
  });

  it('uses no cdk8s construct-path labels, which would change when code is moved', () => {
    expect(JSON.stringify(stack.objects)).not.toMatch(/cdk8s\.io\/metadata\.addr/);
  });
});

describe('PostgreSQL', () => {
  const pg = containerOf(database, 'postgres');

  it('runs a pinned major of postgres on Alpine', () => expect(pg.image).toBe('postgres:18-alpine'));
  it('runs one replica with Recreate', () => {
    expect(database.spec.replicas).toBe(1);
    expect(database.spec.strategy).toEqual({ type: 'Recreate' });
  });
  it('mounts its volume where PostgreSQL 18 expects it, with PGDATA in a subdirectory', () => {
    expect(pg.volumeMounts).toContainEqual({ name: 'data', mountPath: '/var/lib/postgresql' });
    expect(envOf(pg, 'PGDATA').value).toBe('/var/lib/postgresql/18/docker');
  });
  it('mounts a PostgreSQL 17 volume at /var/lib/postgresql/data', () => {
    const pg17 = containerOf(synthStack({ images: { postgres: 'postgres:17-alpine' } }).get('Deployment', 'database'), 'postgres');
    expect(pg17.volumeMounts[0].mountPath).toBe(postgresLayout(17).mountPath);
    expect(envOf(pg17, 'PGDATA').value).toBe('/var/lib/postgresql/data/pgdata');
  });
  it('reads its password from the Secret', () => {
    expect(envOf(pg, 'POSTGRES_PASSWORD').valueFrom.secretKeyRef).toEqual({ name: 'homecloud-credentials', key: 'postgres-password' });
  });
  it('claims storage without naming a StorageClass', () => {
    const pvc = stack.get('PersistentVolumeClaim', 'database-data');
    expect(pvc.spec.storageClassName).toBeUndefined();
    expect(pvc.spec.resources.requests.storage).toBe('5Gi');
  });
  it('uses a StorageClass only when the settings name one', () => {
    expect(synthStack({ storage: { storageClassName: 'standard' } }).get('PersistentVolumeClaim', 'database-data').spec.storageClassName).toBe('standard');
  });
  it('checks readiness and liveness with pg_isready over TCP', () => {
    for (const probe of [pg.readinessProbe, pg.livenessProbe, pg.startupProbe]) {
      expect(probe.exec.command).toEqual(expect.arrayContaining(['pg_isready', '--host=127.0.0.1']));
    }
  });
  it('is reachable only inside the cluster', () => {
    expect(stack.get('Service', 'database').spec.type).toBe('ClusterIP');
  });
  it('asks for a fast shutdown before Kubernetes\' SIGTERM, from a mounted script', () => {
    expect(pg.lifecycle.preStop.exec.command).toEqual(['/bin/sh', '/homecloud/stop-fast.sh']);
    expect(stack.get('ConfigMap', 'database-scripts').data['stop-fast.sh']).toMatch(/pg_ctl stop -D "\$PGDATA" -m fast/);
    expect(pg.volumeMounts).toContainEqual({ name: 'scripts', mountPath: '/homecloud', readOnly: true });
  });

  describe('moving to a new major', () => {
    const pg19 = synthStack({ images: { postgres: 'postgres:19-alpine' } });
    const job = (st: typeof stack) => st.get('CronJob', 'database-upgrade').spec.jobTemplate.spec;
    const upgrade = (st: typeof stack) => job(st).template.spec.containers[0];

    it('keeps a suspended template that fills the configured major\'s folder from the old server', () => {
      expect(stack.get('CronJob', 'database-upgrade').spec.suspend).toBe(true);
      expect(job(stack).backoffLimit).toBe(0);
      const c = upgrade(pg19);
      expect(c.image).toBe('postgres:19-alpine');
      expect(c.command).toEqual(['/bin/sh', '/homecloud/upgrade-major.sh']);
      expect(envOf(c, 'PGDATA').value).toBe('/var/lib/postgresql/19/docker');
      expect(envOf(c, 'OLD_HOST').value).toBe('database');
      expect(envOf(c, 'PGPASSWORD').valueFrom.secretKeyRef).toEqual({ name: 'homecloud-credentials', key: 'postgres-password' });
      expect(c.volumeMounts).toContainEqual({ name: 'data', mountPath: '/var/lib/postgresql' });
      expect(job(pg19).template.spec.volumes).toContainEqual({ name: 'data', persistentVolumeClaim: { claimName: 'database-data' } });
      expect(stack.get('ConfigMap', 'database-scripts').data['upgrade-major.sh']).toMatch(/pg_restore/);
    });
    it('tidies the old major\'s folder away after 14 days, before the server starts', () => {
      const tidy = stack.get('Deployment', 'database').spec.template.spec.initContainers.find((c: K8sObject) => c.name === 'tidy');
      expect(tidy.command).toEqual(['/bin/sh', '/homecloud/tidy-old-majors.sh']);
      expect(Object.fromEntries(tidy.env.map((e: K8sObject) => [e.name, e.value]))).toEqual({ DATA_ROOT: '/var/lib/postgresql', PG_MAJOR_IN_USE: '18', KEEP_DAYS: '14' });
    });
    it('has no tidy step where the major\'s layout gives the volume to one major only (17 and older)', () => {
      expect(synthStack({ images: { postgres: 'postgres:17-alpine' } }).get('Deployment', 'database').spec.template.spec.initContainers).toEqual([]);
    });
  });
});

describe('cache', () => {
  it('runs a pinned Valkey as its own unprivileged user', () => {
    const c = containerOf(cache, 'valkey');
    expect(c.image).toBe('valkey/valkey:8-alpine');
    expect(c.securityContext).toMatchObject({ runAsUser: 999, runAsNonRoot: true, readOnlyRootFilesystem: true });
  });
  it('requires a password, kept in the Secret and never on the command line', () => {
    expect(stack.get('ConfigMap', 'cache-config').data['valkey.conf']).toMatch(/include \/run\/homecloud\/auth\/cache-auth.conf/);
    const auth = cache.spec.template.spec.volumes.find((v: K8sObject) => v.name === 'auth');
    expect(auth.secret.items).toEqual([{ key: 'cache-auth.conf', path: 'cache-auth.conf' }]);
    expect(JSON.stringify(cache)).not.toMatch(/requirepass/);
  });
  it('caps its memory below the container limit', () => {
    expect(stack.get('ConfigMap', 'cache-config').data['valkey.conf']).toMatch(/maxmemory 63mb/);
  });
  it('is reachable only inside the cluster', () => expect(stack.get('Service', 'cache').spec.type).toBe('ClusterIP'));
});

describe('Nextcloud', () => {
  const fpm = containerOf(nextcloud, 'nextcloud');
  const web = containerOf(nextcloud, 'web');
  const cron = containerOf(nextcloud, 'cron');
  const volumes = nextcloud.spec.template.spec.volumes;

  it('runs a pinned major of the fpm-alpine image with php-fpm as its command', () => {
    expect(fpm.image).toBe('nextcloud:34-fpm-alpine');
    expect(fpm.args).toEqual(['php-fpm']);
  });
  it('runs one replica with Recreate', () => {
    expect(nextcloud.spec.replicas).toBe(1);
    expect(nextcloud.spec.strategy).toEqual({ type: 'Recreate' });
  });
  it('keeps the web root on a volume claim', () => {
    const html = volumes.find((v: K8sObject) => v.name === 'html');
    expect(html.persistentVolumeClaim.claimName).toBe('nextcloud-html');
    expect(fpm.volumeMounts).toContainEqual({ name: 'html', mountPath: '/var/www/html' });
  });
  it('installs itself: database, admin and cache settings come from the Service names and the Secret', () => {
    expect(envOf(fpm, 'POSTGRES_HOST').value).toBe('database');
    expect(envOf(fpm, 'REDIS_HOST').value).toBe('cache');
    expect(envOf(fpm, 'NEXTCLOUD_ADMIN_USER').valueFrom.secretKeyRef.key).toBe('admin-user');
    expect(envOf(fpm, 'NEXTCLOUD_ADMIN_PASSWORD').valueFrom.secretKeyRef.key).toBe('admin-password');
    expect(envOf(fpm, 'REDIS_HOST_PASSWORD').valueFrom.secretKeyRef.key).toBe('cache-password');
  });
  it('passes the trusted domains to first install and to the start-up hook', () => {
    expect(envOf(fpm, 'NEXTCLOUD_TRUSTED_DOMAINS').value).toBe('localhost 127.0.0.1 familypc 192.168.1.20');
    expect(envOf(fpm, 'HOMECLOUD_TRUSTED_DOMAINS').value).toBe('localhost 127.0.0.1 familypc 192.168.1.20');
  });
  it('mounts the entrypoint hooks from the scripts ConfigMap, executable', () => {
    const paths = fpm.volumeMounts.filter((m: K8sObject) => m.name === 'scripts' && m.mountPath.startsWith('/docker-entrypoint-hooks.d/'))
      .map((m: K8sObject) => m.mountPath);
    // The first install waits for the database too: the image tries the install 11 times 10 s
    // apart and then fails for good (its code is already copied, so no later start installs).
    expect(paths).toEqual([
      '/docker-entrypoint-hooks.d/pre-installation/10-wait-for-database.sh',
      '/docker-entrypoint-hooks.d/post-installation/05-privacy.sh',
      '/docker-entrypoint-hooks.d/post-installation/10-install-apps.sh',
      '/docker-entrypoint-hooks.d/before-starting/10-wait-for-database.sh',
      '/docker-entrypoint-hooks.d/before-starting/20-sync-settings.sh',
      '/docker-entrypoint-hooks.d/before-starting/25-privacy.sh',
      '/docker-entrypoint-hooks.d/before-starting/30-install-apps.sh',
      '/docker-entrypoint-hooks.d/before-starting/40-family-folders.sh',
      // Sourced by the hooks that write lists; beside the hook folders, so the entrypoint never runs it.
      '/docker-entrypoint-hooks.d/occ-lib.sh',
    ]);
    expect(volumes.find((v: K8sObject) => v.name === 'scripts').configMap.defaultMode).toBe(0o755);
  });
  it('starts php-fpm as root with a writable image, as its entrypoint needs (rsync, chown, redis-session.ini)', () => {
    expect(fpm.securityContext).toMatchObject({ runAsNonRoot: false, readOnlyRootFilesystem: false });
    expect(fpm.securityContext.runAsUser).toBeUndefined();
  });
  it('checks php-fpm\'s liveness with its own script, on its own process only', () => {
    expect(fpm.livenessProbe.exec.command).toEqual(['/bin/sh', '/homecloud/fpm-alive.sh']);
    expect(fpm.volumeMounts).toContainEqual({ name: 'scripts', mountPath: '/homecloud/fpm-alive.sh', subPath: 'fpm-alive.sh', readOnly: true });
    expect(stack.get('ConfigMap', 'nextcloud-scripts').data['fpm-alive.sh']).toMatch(/^#!\/bin\/sh/);
    expect(fpm.readinessProbe.tcpSocket.port).toBe('fastcgi');
  });
  it('gives an install or upgrade no deadline: no startup probe on php-fpm', () => {
    expect(fpm.startupProbe).toBeUndefined();
  });
  it('checks nginx\'s liveness by an answer of nginx itself, and readiness through the whole path', () => {
    expect(web.livenessProbe.httpGet).toEqual({ path: '/homecloud-nginx-alive', port: 'http' });
    // Plain HTTP only redirects: readiness asks over HTTPS, as the family's devices do.
    expect(web.readinessProbe.httpGet).toEqual({ path: '/status.php', scheme: 'HTTPS', port: 'https', httpHeaders: [{ name: 'Host', value: 'localhost' }] });
  });
  it('sends no liveness probe to another container\'s port', () => {
    for (const c of nextcloud.spec.template.spec.containers) {
      const port = c.livenessProbe?.httpGet?.port ?? c.livenessProbe?.tcpSocket?.port;
      if (port !== undefined) expect([c.name, (c.ports ?? []).some((p: K8sObject) => p.name === port || p.containerPort === port)]).toEqual([c.name, true]);
    }
  });
  it('runs nginx unprivileged on the family\'s port with a read-only web root and only /tmp writable', () => {
    expect(web.securityContext).toMatchObject({ runAsUser: 101, runAsNonRoot: true, readOnlyRootFilesystem: true });
    expect(web.ports).toEqual([{ name: 'http', containerPort: 80 }, { name: 'https', containerPort: 443 }]);
    expect(nextcloud.spec.template.spec.securityContext.sysctls).toEqual([{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }]);
    expect(web.volumeMounts).toContainEqual({ name: 'html', mountPath: '/var/www/html', readOnly: true });
    const writable = web.volumeMounts.filter((m: K8sObject) => !m.readOnly).map((m: K8sObject) => m.mountPath);
    expect(writable).toEqual(['/tmp']);
    expect(volumes.find((v: K8sObject) => v.name === 'web-tmp').emptyDir).toBeDefined();
  });
  it('needs no sysctl when the family\'s port is unprivileged anyway', () => {
    const pod = synthStack({ httpPort: 8080, httpsPort: 8443 }).get('Deployment', 'nextcloud').spec.template.spec;
    expect(pod.securityContext.sysctls).toBeUndefined();
    expect(containerOf({ spec: { template: { spec: pod } }, metadata: {} }, 'web').ports)
      .toEqual([{ name: 'http', containerPort: 8080 }, { name: 'https', containerPort: 8443 }]);
    // One privileged port is enough to need it.
    expect(synthStack({ httpPort: 8080 }).get('Deployment', 'nextcloud').spec.template.spec.securityContext.sysctls).toHaveLength(1);
  });
  it('tells Nextcloud the address the family uses, and resolves its names to the pod itself', () => {
    expect(envOf(fpm, 'HOMECLOUD_CLI_URL').value).toBe('https://familypc');
    expect(nextcloud.spec.template.spec.hostAliases).toEqual([{ ip: '127.0.0.1', hostnames: ['familypc'] }]);
    const onlyAddresses = synthStack({ trustedDomains: ['localhost', '192.168.1.20'], httpsPort: 8443 }).get('Deployment', 'nextcloud');
    expect(envOf(containerOf(onlyAddresses, 'nextcloud'), 'HOMECLOUD_CLI_URL').value).toBe('https://192.168.1.20:8443');
    expect(onlyAddresses.spec.template.spec.hostAliases).toBeUndefined();
  });
  it('passes the maintenance window\'s local start hour to the start-up hook', () => {
    expect(envOf(fpm, 'HOMECLOUD_MAINTENANCE_WINDOW_START').value).toBe('21');
  });
  it('feeds nginx the rendered config from the ConfigMap', () => {
    expect(web.command).toEqual(['/bin/sh', '/homecloud/nginx-run.sh', '/etc/nginx/homecloud/nginx.conf', '/run/homecloud/tls/tls.pem']);
    expect(stack.get('ConfigMap', 'nextcloud-web').data['nginx.conf']).toMatch(/fastcgi_pass php-handler;/);
    expect(stack.get('ConfigMap', 'nextcloud-web').data['nginx.conf']).toMatch(/server 127\.0\.0\.1:9000;/);
  });
  it('runs background jobs in a long-lived container as www-data (uid 82), not a pod per run', () => {
    expect(cron.command).toEqual(['/bin/sh', '/homecloud/cron-loop.sh']);
    expect(cron.securityContext).toMatchObject({ runAsUser: 82, runAsGroup: 82, runAsNonRoot: true });
    const scheduled = stack.ofKind('CronJob').filter((c) => !c.spec.suspend).map((c) => c.metadata.name);
    expect(scheduled).toEqual(['backup', 'previews']);
  });
  it('gives the cron container the cache settings that config.php reads from the environment', () => {
    expect(envOf(cron, 'REDIS_HOST').value).toBe('cache');
    expect(envOf(cron, 'REDIS_HOST_PASSWORD').valueFrom.secretKeyRef.key).toBe('cache-password');
  });
  it('rolls the pod when nginx.conf changes', () => {
    const hash = (n: K8sObject) => n.spec.template.metadata.annotations['homecloud/config-hash'];
    const bigger = synthStack({ php: { uploadLimit: '4Gi' } }).get('Deployment', 'nextcloud');
    expect(hash(bigger)).not.toBe(hash(nextcloud));
    expect(hash(synthStack().get('Deployment', 'nextcloud'))).toBe(hash(nextcloud));
  });
  it('rolls the pod when a hook script changes', () => {
    const scripts = stack.get('ConfigMap', 'nextcloud-scripts');
    expect(Object.keys(scripts.data).sort()).toEqual(['cron-loop.sh', 'family-folders.sh', 'fpm-alive.sh', 'install-apps.sh', 'nginx-run.sh', 'occ-lib.sh', 'privacy.sh', 'push-run.sh', 'sync-settings.sh', 'wait-for-database.sh']);
    const chart = new Chart(new App(), 'c');
    const map = (script: string) => new k8s.KubeConfigMap(chart, script, { data: { 'install-apps.sh': script } });
    expect(configHash([map('echo a')])).not.toBe(configHash([map('echo b')]));
  });
  it('keeps the pod when only an environment value changes (Kubernetes rolls it anyway)', () => {
    const other = synthStack({ trustedDomains: ['localhost'] }).get('Deployment', 'nextcloud');
    expect(other.spec.template.metadata.annotations).toEqual(nextcloud.spec.template.metadata.annotations);
  });
  it('publishes only nginx, on ports 80 and 443, as a LoadBalancer (Docker Desktop puts it on the LAN)', () => {
    const svc = stack.get('Service', 'nextcloud');
    expect(svc.spec.type).toBe('LoadBalancer');
    expect(svc.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http' }, { name: 'https', port: 443, targetPort: 'https' }]);
  });
  it('publishes on another port when configured', () => {
    expect(synthStack({ httpPort: 8081 }).get('Service', 'nextcloud').spec.ports[0].port).toBe(8081);
  });
  it('exposes nothing else outside the cluster', () => {
    const external = stack.ofKind('Service').filter((s) => s.spec.type !== 'ClusterIP').map((s) => s.metadata.name);
    expect(external).toEqual(['nextcloud']);
  });
  it('sizes the php-fpm pool and PHP limits from the settings', () => {
    const php = stack.get('ConfigMap', 'nextcloud-php').data;
    expect(php['zz-homecloud-pool.conf']).toMatch(/pm.max_children = 5/);
    expect(envOf(fpm, 'PHP_MEMORY_LIMIT').value).toBe('512M');
    expect(envOf(fpm, 'PHP_UPLOAD_LIMIT').value).toBe('2048M');
  });
});

describe('backup CronJob', () => {
  const dump = backupContainer('database');
  const files = backupContainer('files');

  describe('off-disk copy', () => {
    const offsite = backupContainer('offsite');
    const template = backup.spec.jobTemplate.spec.template;
    it('runs restic from its pinned image, keyed by the recovery key in the Secret', () => {
      expect(offsite.image).toBe('restic/restic:0.18.1');
      expect(offsite.command).toEqual(['/bin/sh', '/homecloud/offsite.sh']);
      expect(offsite.env).toContainEqual({ name: 'RESTIC_PASSWORD', valueFrom: { secretKeyRef: { name: 'homecloud-credentials', key: 'backup-key' } } });
      expect(offsite.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 82 });
    });
    it('on kubeadm, mounts the folder on the PC and writes the copy itself', () => {
      expect(template.spec.volumes).toContainEqual({ name: 'offsite', hostPath: { path: '/run/desktop/mnt/host/c/Users/Anna/homecloud-backups', type: 'DirectoryOrCreate' } });
      expect(offsite.volumeMounts).toContainEqual({ name: 'offsite', mountPath: '/offsite' });
      expect(['OFFSITE_MODE', 'OFFSITE_FOLDER', 'OFFSITE_FOLDER_NAME'].map((n) => envOf(offsite, n).value))
        .toEqual(['cluster', '/offsite', 'C:\\Users\\Anna\\homecloud-backups']);
    });
    it('on kind, mounts nothing from the PC (it would be empty) and leaves the copy to the PC', () => {
      const kind = synthStack({ backup: { offsite: { clusterType: 'kind' } } }).get('CronJob', 'backup').spec.jobTemplate.spec.template.spec;
      const c = kind.containers.find((x: K8sObject) => x.name === 'offsite');
      expect(kind.volumes.filter((v: K8sObject) => v.hostPath)).toEqual([]);
      expect(envOf(c, 'OFFSITE_MODE').value).toBe('client');
      expect(c.env.find((e: K8sObject) => e.name === 'OFFSITE_FOLDER')).toBeUndefined();
    });
    it('passes the copy\'s own retention and scrub interval', () => {
      expect(['KEEP_DAILY', 'KEEP_WEEKLY', 'KEEP_MONTHLY', 'SCRUB_EVERY_DAYS'].map((n) => envOf(offsite, n).value)).toEqual(['7', '4', '12', '7']);
    });
    it('may use two idle cores, checks as many copied files at once as it has, and follows resources.offsite', () => {
      expect(offsite.resources.limits.cpu).toBe('2');
      expect(offsite.resources.requests.cpu).toBe('20m');
      expect(envOf(offsite, 'HASH_JOBS').value).toBe('2');
      const c = (cpuLimit: string) => synthStack({ resources: { offsite: { cpuLimit } } }).get('CronJob', 'backup').spec.jobTemplate.spec.template.spec.containers
        .find((x: K8sObject) => x.name === 'offsite');
      expect(envOf(c('500m'), 'HASH_JOBS').value).toBe('1');
      expect(envOf(c('3'), 'HASH_JOBS').value).toBe('3');
      expect(envOf(c('16'), 'HASH_JOBS').value).toBe('4');
    });
    it('says it runs after the other two, so the capacity check does not add its memory to theirs', () => {
      expect(template.metadata.annotations).toEqual({ 'homecloud.io/runs-last': 'offsite' });
    });
  });

  it('checksums two files at once where it reads whole libraries back (two spare cores at most), following resources.backup', () => {
    const restore = stack.get('CronJob', 'restore').spec.jobTemplate.spec.template.spec;
    expect(files.resources.limits.cpu).toBe('2');
    for (const c of [files, ...restore.initContainers.filter((x: K8sObject) => x.name === 'check'), ...restore.containers]) {
      expect([c.name, envOf(c, 'HASH_JOBS').value]).toEqual([c.name, '2']);
    }
    const one = synthStack({ resources: { backup: { cpuLimit: '1' } } }).get('CronJob', 'backup').spec.jobTemplate.spec.template.spec.containers
      .find((x: K8sObject) => x.name === 'files');
    expect(envOf(one, 'HASH_JOBS').value).toBe('1');
  });

  it('runs occ in the backup and restore jobs with Nextcloud\'s memory_limit of 512M, and room for it', () => {
    const restore = stack.get('CronJob', 'restore').spec.jobTemplate.spec.template.spec;
    for (const c of [files, ...restore.initContainers.filter((x: K8sObject) => x.name === 'check'), ...restore.containers]) {
      expect([c.name, envOf(c, 'PHP_MEMORY_LIMIT').value]).toEqual([c.name, '512M']);
      expect([c.name, c.resources.limits.memory]).toEqual([c.name, '576Mi']);
    }
  });

  it('runs nightly at the configured local time in the configured zone', () => {
    expect(backup.spec.schedule).toBe('30 2 * * *');
    expect(backup.spec.timeZone).toBe('Europe/Berlin');
  });
  it('never runs two at once and ends a hung run', () => {
    expect(backup.spec.concurrencyPolicy).toBe('Forbid');
    expect(backup.spec.jobTemplate.spec.activeDeadlineSeconds).toBe(3 * 3600);
  });
  it('catches up a run missed while the PC slept (not cdk8s-plus\'s 10 s)', () => {
    expect(backup.spec.startingDeadlineSeconds).toBeGreaterThanOrEqual(12 * 3600);
  });
  it('keeps a short history of jobs', () => {
    expect(backup.spec.successfulJobsHistoryLimit).toBe(3);
    expect(backup.spec.failedJobsHistoryLimit).toBe(3);
  });
  it('dumps with exactly the database image, because pg_dump refuses newer servers', () => {
    expect(dump.image).toBe(containerOf(database, 'postgres').image);
  });
  it('snapshots files with the Nextcloud image (occ for maintenance mode, rsync) and its cache settings', () => {
    expect(files.image).toBe(containerOf(nextcloud, 'nextcloud').image);
    expect(files.volumeMounts).toContainEqual({ name: 'html', mountPath: '/var/www/html' });
    expect(envOf(files, 'REDIS_HOST').value).toBe('cache');
    expect(envOf(files, 'MAINTENANCE_MODE').value).toBe('true');
  });
  it('passes retention to the script', () => {
    expect(['RETAIN_DAILY', 'RETAIN_WEEKLY', 'RETAIN_MONTHLY'].map((n) => envOf(files, n).value)).toEqual(['7', '4', '6']);
  });
  it('runs both halves as www-data without privileges, sharing a coordination folder', () => {
    for (const c of [dump, files]) {
      expect(c.securityContext).toMatchObject({ runAsUser: 82, runAsNonRoot: true, readOnlyRootFilesystem: true });
      expect(c.volumeMounts).toContainEqual({ name: 'coord', mountPath: '/coord' });
    }
  });
  it('writes to its own volume claim', () => {
    const vol = backupPod.volumes.find((v: K8sObject) => v.name === 'backup');
    expect(vol.persistentVolumeClaim.claimName).toBe('backup-data');
    expect(stack.get('PersistentVolumeClaim', 'backup-data').spec.resources.requests.storage).toBe('100Gi');
  });
  it('runs the backup scripts from their ConfigMap', () => {
    expect(files.command).toEqual(['/bin/sh', '/homecloud/backup.sh']);
    expect(dump.command).toEqual(['/bin/sh', '/homecloud/dump-database.sh']);
    expect(stack.get('ConfigMap', 'backup-scripts').data['dump-database.sh']).toMatch(/pg_dump --format=custom/);
  });
  it('offers restore and export as suspended templates that never fire on their own', () => {
    for (const name of ['restore', 'backup-export']) {
      expect(stack.get('CronJob', name).spec).toMatchObject({ suspend: true, schedule: '0 0 31 2 *' });
    }
  });
  it('restores in order: check, then database, then files', () => {
    const pod = stack.get('CronJob', 'restore').spec.jobTemplate.spec.template.spec;
    expect(pod.initContainers.map((c: K8sObject) => c.name)).toEqual(['check', 'database']);
    expect(pod.containers.map((c: K8sObject) => c.name)).toEqual(['files']);
    expect(envOf(pod.initContainers[0], 'NEXTCLOUD_IMAGE_MAJOR').value).toBe('34');
    expect(pod.initContainers[1].image).toBe(containerOf(database, 'postgres').image);
  });
  it('mounts the backup volume read-only for export', () => {
    const pod = stack.get('CronJob', 'backup-export').spec.jobTemplate.spec.template.spec;
    expect(pod.containers[0].volumeMounts).toEqual([{ name: 'backup', mountPath: '/backup', readOnly: true }]);
  });
  it('follows a custom schedule', () => {
    expect(synthStack({ backup: { time: '04:10' } }).get('CronJob', 'backup').spec.schedule).toBe('10 4 * * *');
  });
});

describe('network policies', () => {
  const from = (name: string) => stack.get('NetworkPolicy', name).spec.ingress[0].from
    .map((f: K8sObject) => f.podSelector.matchLabels['app.kubernetes.io/component']);

  it('lets only Nextcloud, the backup, the major upgrade\'s copy and the thumbnail job reach the database', () => expect(from('database-clients')).toEqual(['web', 'backup', 'database-upgrade', 'previews']));
  it('lets only Nextcloud, the backup and the thumbnail job (occ opens the cache) reach the cache', () => expect(from('cache-clients')).toEqual(['web', 'backup', 'previews']));
  it('admits LAN clients to nginx only', () => {
    const web = stack.get('NetworkPolicy', 'web-clients').spec;
    expect(web.ingress[0].from).toBeUndefined();
    expect(web.ingress[0].ports).toEqual([{ protocol: 'TCP', port: 80 }, { protocol: 'TCP', port: 443 }]);
  });
  it('admits every pod that is given a Service\'s name to that Service\'s pods', () => {
    const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
      Object.entries(selector).every(([k, v]) => labels?.[k] === v);
    const services = stack.ofKind('Service');
    const policies = stack.ofKind('NetworkPolicy').filter((p) => p.spec.policyTypes.includes('Ingress'));
    const refused: string[] = [];
    let pairs = 0;
    for (const { owner, template } of stack.podTemplates()) {
      for (const c of [...(template.spec.initContainers ?? []), ...template.spec.containers]) {
        for (const e of c.env ?? []) {
          const service = services.find((sv) => sv.metadata.name === e.value);
          if (!service) continue;
          pairs++;
          const policy = policies.find((p) => matches(p.spec.podSelector.matchLabels, service.spec.selector));
          const admitted = !policy || policy.spec.ingress.some((rule: K8sObject) => !rule.from
            || rule.from.some((f: K8sObject) => matches(f.podSelector.matchLabels, template.metadata.labels)));
          if (!admitted) refused.push(`${owner}/${c.name} → ${service.metadata.name} (${e.name})`);
        }
      }
    }
    expect(pairs).toBeGreaterThanOrEqual(8);
    expect(refused).toEqual([]);
  });
});

describe('every container', () => {
  it('sets no false booleans the server would drop (a client-side apply would show them as changed each time)', () => {
    const falses: string[] = [];
    const walk = (v: unknown, at: string) => {
      if (v === false && !/automountServiceAccountToken|enableServiceLinks|allowPrivilegeEscalation|runAsNonRoot|readOnlyRootFilesystem|suspend/.test(at)) falses.push(at);
      if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, `${at}.${k}`);
    };
    for (const o of stack.objects) walk(o, `${o.kind}/${o.metadata.name}`);
    expect(falses).toEqual([]);
  });
  it('names each environment variable once (server-side apply rejects duplicates)', () => {
    for (const { owner, container } of stack.containers()) {
      const names = (container.env ?? []).map((e: K8sObject) => e.name);
      expect([owner, container.name, names.filter((n: string, i: number) => names.indexOf(n) !== i)]).toEqual([owner, container.name, []]);
    }
  });
});

describe('privileges', () => {
  it('gives no pod a service account token or service-link variables, but the nightly job its right to the maintenance lock', () => {
    for (const { owner, template } of stack.podTemplates()) {
      expect([owner, template.spec.automountServiceAccountToken]).toEqual([owner, owner === 'CronJob/backup']);
      expect(template.spec.enableServiceLinks).toBe(false);
    }
    expect(stack.get('CronJob', 'backup').spec.jobTemplate.spec.template.spec.serviceAccountName).toBe('maintenance-lock');
    // That account may use the one Lease, and nothing else of the cluster.
    expect(stack.get('ServiceAccount', 'maintenance-lock').automountServiceAccountToken).toBe(false);
    expect(stack.get('Role', 'maintenance-lock').rules).toEqual([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['maintenance'], verbs: ['get', 'update', 'delete'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
    ]);
    expect(stack.get('RoleBinding', 'maintenance-lock').subjects).toEqual([{ kind: 'ServiceAccount', name: 'maintenance-lock', namespace: 'homecloud' }]);
  });
  it('applies seccomp RuntimeDefault to every container', () => {
    for (const { owner, container } of stack.containers()) {
      expect([owner, container.securityContext.seccompProfile]).toEqual([owner, { type: 'RuntimeDefault' }]);
    }
  });
  it('forbids privilege escalation and drops all capabilities everywhere', () => {
    for (const { container } of stack.containers()) {
      expect(container.securityContext.allowPrivilegeEscalation).toBe(false);
      expect(container.securityContext.capabilities.drop).toEqual(['ALL']);
    }
  });
  it('adds back only the capabilities a root-start entrypoint needs, and only where the image starts as root', () => {
    const rooted = stack.containers().filter(({ container }) => container.securityContext.capabilities.add);
    expect(rooted.map(({ owner, container }) => `${owner}/${container.name}`).sort())
      .toEqual(['CronJob/database-upgrade/upgrade', 'Deployment/database/postgres', 'Deployment/database/tidy', 'Deployment/egress/ledger-folder', 'Deployment/nextcloud/nextcloud']);
    for (const { owner, container } of rooted) {
      // The egress point's ledger folder is only handed to Squid's user: changing owners is all it may do.
      const needs = container.name === 'ledger-folder' ? ['CHOWN'] : ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'SETUID', 'SETGID'];
      expect([owner, container.securityContext.capabilities.add]).toEqual([owner, needs]);
    }
  });
  it('pulls an image only when it is missing, so pods restart while the PC is offline', () => {
    for (const { container } of stack.containers()) expect(container.imagePullPolicy).toBe('IfNotPresent');
  });
});
