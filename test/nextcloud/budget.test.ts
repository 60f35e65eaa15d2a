import { RUNS_LAST_ANNOTATION, WAITS_FOR_ANNOTATION } from '../../lib/config/labels';
import { TYPICAL_WORKER_MIB, phpFpmSizing, minimumContainerMiB } from '../../lib/nextcloud/php-sizing';
import { postgresTuning, postgresWorstCaseMiB } from '../../lib/database/postgres-config';
import { sizeToBytes } from '../../lib/config/quantity';
import { K8sObject, containerOf, synthStack } from '../support/stack';

// Everything here is read back from the synthesized manifests, not from the settings.
const stack = synthStack();
const MiB = 2 ** 20;
const bytes = (q: string) => sizeToBytes(q)!;
// What can run at once: the Deployments and the nightly backup. The restore and the PostgreSQL
// major upgrade run only while Nextcloud is scaled to zero, and the export holds almost nothing.
const ON_DEMAND = ['CronJob/restore', 'CronJob/backup-export', 'CronJob/backup-import', 'CronJob/database-upgrade'];
// The nightly job's offsite container (restic) waits until the other two have exited (it reads
// the coordination folder for backup.sh's exit), so the job's peak is the larger of the two
// phases. The pod template says which container that is.
// The thumbnail job waits for the backup's lock (files and database steps), so it works at most
// beside the offsite step: the pod template names the job it waits for.
const SEQUENTIAL = stack.get('CronJob', 'backup').spec.jobTemplate.spec.template.metadata.annotations[RUNS_LAST_ANNOTATION];
const AFTER_BACKUP = stack.podTemplates().filter(({ template }) => template.metadata?.annotations?.[WAITS_FOR_ANNOTATION] === 'backup').map(({ owner }) => owner);
const sum = (field: 'requests' | 'limits') => {
  // Init containers finish before the others start (Kubernetes counts the larger of the two
  // phases); the Nextcloud pod's one is no larger than its app containers.
  const running = stack.podTemplates().filter(({ owner }) => !ON_DEMAND.includes(owner))
    .flatMap(({ owner, template }) => template.spec.containers.map((container: K8sObject) => ({ owner, container })));
  const memory = (c: { container: K8sObject }) => bytes(c.container.resources[field].memory);
  if (field === 'requests') return running.reduce((t, c) => t + memory(c), 0); // reserved while they wait, too
  const last = (c: { owner: string; container: K8sObject }) => c.container.name === SEQUENTIAL || AFTER_BACKUP.includes(c.owner);
  const concurrent = running.filter((c) => !last(c)).reduce((t, c) => t + memory(c), 0);
  const backupPhase = running.filter((c) => c.owner === 'CronJob/backup' && !last(c)).reduce((t, c) => t + memory(c), 0);
  const lastPhase = running.filter(last).reduce((t, c) => t + memory(c), 0);
  return concurrent - backupPhase + Math.max(backupPhase, lastPhase);
};

describe('resource budget', () => {
  it('gives every container CPU and memory requests and limits', () => {
    for (const { owner, container } of stack.containers()) {
      expect([owner, container.name, Object.keys(container.resources.requests).sort(), Object.keys(container.resources.limits).sort()])
        .toEqual([owner, container.name, ['cpu', 'memory'], ['cpu', 'memory']]);
    }
  });

  it('requests at most 1 GiB of memory for the whole stack', () => {
    expect(sum('requests')).toBeLessThanOrEqual(1024 * MiB);
  });

  it('limits the whole stack to about 3⅓ GiB, backup included', () => {
    // 3328 MiB before Client Push's 32 MiB, 3360 MiB before the egress point's 48 MiB.
    expect(sum('limits')).toBeLessThanOrEqual(3.33 * 1024 * MiB);
  });
});

describe('php-fpm sizing rule', () => {
  const nextcloud = stack.get('Deployment', 'nextcloud');
  const fpm = containerOf(nextcloud, 'nextcloud');
  const php = stack.get('ConfigMap', 'nextcloud-php').data;
  const env = (name: string) => fpm.env.find((e: K8sObject) => e.name === name).value as string;
  const maxChildren = Number(/pm\.max_children = (\d+)/.exec(php['zz-homecloud-pool.conf'])![1]);
  const opcache = Number(/opcache\.memory_consumption=(\d+)/.exec(php['zz-homecloud.ini'])![1]);
  const interned = Number(/opcache\.interned_strings_buffer=(\d+)/.exec(php['zz-homecloud.ini'])![1]);
  const apcu = Number(/apc\.shm_size=(\d+)M/.exec(php['zz-homecloud.ini'])![1]);
  const memoryLimitMiB = Number(/^(\d+)M$/.exec(env('PHP_MEMORY_LIMIT'))![1]);

  it('fits one worker at PHP\'s memory_limit, the others at a busy worker\'s measured size, and shared memory', () => {
    const master = 32;
    const expected = opcache + interned + apcu + master + memoryLimitMiB + (maxChildren - 1) * TYPICAL_WORKER_MIB;
    expect(expected * MiB).toBeLessThanOrEqual(bytes(fpm.resources.limits.memory));
    expect((expected + TYPICAL_WORKER_MIB) * MiB).toBeGreaterThan(bytes(fpm.resources.limits.memory));
  });

  // The rule above lets one request grow to memory_limit at a time. Previews of big photos are
  // the requests that do: Nextcloud generates at most this many at once (a semaphore), so two
  // cannot outgrow the container together. (On Docker Desktop's cgroup v2 the kernel would kill
  // the whole php-fpm container, not one worker: see php-sizing.ts.)
  it('lets Nextcloud generate one new preview at a time, and serve as many as there are workers', () => {
    expect(env('HOMECLOUD_PREVIEWS_NEW_AT_ONCE')).toBe('1');
    expect(env('HOMECLOUD_PREVIEWS_AT_ONCE')).toBe(String(maxChildren));
  });

  it('runs five workers by default: four slow downloads and a page load at once', () => expect(maxChildren).toBe(5));

  it('uses Nextcloud\'s recommended memory_limit of 512 MiB', () => expect(memoryLimitMiB).toBe(512));

  it('grows the pool with the container limit', () => {
    const big = synthStack({ resources: { nextcloud: { memoryLimit: '4Gi' } } }).get('ConfigMap', 'nextcloud-php').data;
    expect(big['zz-homecloud-pool.conf']).toMatch(/pm.max_children = 27/);
  });

  it('gives the cron container room for one PHP run at memory_limit', () => {
    const cron = containerOf(nextcloud, 'cron');
    expect(bytes(cron.resources.limits.memory)).toBeGreaterThanOrEqual((memoryLimitMiB + apcu) * MiB);
  });

  it.each([[1280, 512, 5], [1408, 512, 6], [2048, 512, 11], [1024, 256, 5], [768, 256, 3], [600, 512, 0], [720, 512, 1]])(
    'gives a %i MiB container with memory_limit %i MiB %i workers', (limit, memory, workers) => {
      expect(phpFpmSizing(limit * MiB, memory * MiB).maxChildren).toBe(workers);
    });

  it('names the smallest container that fits two workers', () => {
    expect(phpFpmSizing(minimumContainerMiB(1024 * MiB) * MiB, 1024 * MiB).maxChildren).toBe(2);
    expect(phpFpmSizing((minimumContainerMiB(1024 * MiB) - 1) * MiB, 1024 * MiB).maxChildren).toBe(1);
  });
});

describe('PostgreSQL tuning', () => {
  const pg = containerOf(stack.get('Deployment', 'database'), 'postgres');
  const setting = (name: string) => {
    const arg = pg.args.find((a: string) => a.startsWith(`${name}=`));
    return arg.slice(name.length + 1) as string;
  };

  it('sets shared_buffers to a quarter of the container limit', () => {
    expect(bytes(setting('shared_buffers').replace('MB', 'Mi')) * 4).toBe(bytes(pg.resources.limits.memory));
  });

  it('keeps its worst case (buffers + every connection\'s work_mem) inside the limit', () => {
    const t = {
      sharedBuffersMiB: parseInt(setting('shared_buffers'), 10),
      maintenanceWorkMemMiB: parseInt(setting('maintenance_work_mem'), 10),
      workMemMiB: parseInt(setting('work_mem'), 10),
      maxConnections: Number(setting('max_connections')),
      effectiveCacheSizeMiB: 0,
    };
    expect(postgresWorstCaseMiB(t) * MiB).toBeLessThan(bytes(pg.resources.limits.memory));
  });

  it.each([256, 512, 1024, 4096])('stays inside a %i MiB limit', (limit) => {
    expect(postgresWorstCaseMiB(postgresTuning(limit * MiB))).toBeLessThan(limit);
  });
});
