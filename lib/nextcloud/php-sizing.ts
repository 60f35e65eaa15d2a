import { mebibytes } from '../config/quantity';

/**
 * How php-fpm and OPcache are sized from the container's memory limit.
 *
 * Shared memory (OPcache + its interned strings + APCu) and the fpm master are reserved
 * first. The rest holds the workers, sized by what Nextcloud workers really use, not by
 * PHP's memory_limit:
 *
 *     reserve + memory_limit + (maxChildren − 1) × TYPICAL_WORKER_MIB ≤ container memory limit
 *
 * i.e. one request may grow to memory_limit (a big preview, an app upgrade) while every other
 * worker is at a typical size. The evidence: busy Nextcloud workers (PHP 8.4, real Nextcloud,
 * WebDAV, PROPFIND, page loads) measured 60–120 MiB RSS each, 5–8× below memory_limit; the
 * image's default pool of 5 peaked at 273 MiB PSS in all. The old rule (every worker at
 * memory_limit at once) left 2 workers, and two slow downloads then stalled every other
 * request of the family for seconds (6.4 s page loads, issue #14).
 *
 * "One request at memory_limit at a time" is enforced where it matters: the requests that grow
 * that big are previews of big photos (Imagick decodes the whole image), and Nextcloud generates
 * at most `preview_concurrency_new` of them at once (a semaphore; see previewConcurrency below).
 *
 * If memory runs out anyway, what happens was measured on the real node (test/integration/
 * real-node-faults.test.ts): PHP stops any single request at memory_limit with an error, and the
 * worker lives. Beyond the container's limit the kernel's OOM killer acts in its cgroup: with
 * cgroup v1 (the test machine) it kills the biggest process, one worker (its request gets 502,
 * php-fpm starts another, nothing restarts); with cgroup v2 (Docker Desktop) the kubelet (≥ 1.28,
 * singleProcessOOMKill unset) has the kernel kill the container's processes together
 * (memory.oom.group): the php-fpm container restarts within seconds, the pod, nginx and the data
 * stay. Only a limit above maxChildren × memory_limit (2.7 GiB here) would rule that out, and it
 * would not fit beside the rest in a small PC's Docker Desktop.
 * Requests beyond maxChildren wait in php-fpm's listen queue; nginx buffers PHP's responses
 * (see nginx-conf.ts), so a slow phone holds nginx's buffer, not a worker.
 */
export interface PhpFpmSizing {
  readonly maxChildren: number;
  readonly memoryLimitMiB: number;
  readonly opcacheMiB: number;
  readonly internedStringsMiB: number;
  readonly apcuMiB: number;
  /** The fpm master process and PHP's own start-up allocations. */
  readonly masterMiB: number;
  readonly reserveMiB: number;
}

/** Fewer workers than this and one slow request (a big upload, a preview) stalls the web UI. */
export const MIN_PHP_WORKERS = 2;

/** A busy Nextcloud worker's memory with a margin (measured 60–120 MiB RSS; see above). */
export const TYPICAL_WORKER_MIB = 128;

export function phpFpmSizing(containerLimitBytes: number, phpMemoryLimitBytes: number): PhpFpmSizing {
  const limitMiB = mebibytes(containerLimitBytes);
  const memoryLimitMiB = mebibytes(phpMemoryLimitBytes);
  // Nextcloud's recommended OPcache sizes; halved on small budgets, where its setup check
  // only warns once the cache is nearly full.
  const opcacheMiB = limitMiB >= 1024 ? 128 : 64;
  const internedStringsMiB = limitMiB >= 1024 ? 16 : 8;
  const apcuMiB = 32; // the image's apc.shm_size default; APCu is Nextcloud's local cache
  const masterMiB = 32;
  const reserveMiB = opcacheMiB + internedStringsMiB + apcuMiB + masterMiB;
  const room = limitMiB - reserveMiB - memoryLimitMiB;
  const maxChildren = room < 0 ? 0 : 1 + Math.floor(room / TYPICAL_WORKER_MIB);
  return { maxChildren, memoryLimitMiB, opcacheMiB, internedStringsMiB, apcuMiB, masterMiB, reserveMiB };
}

/** The smallest container memory limit (MiB) that fits MIN_PHP_WORKERS at this memory_limit. */
export function minimumContainerMiB(phpMemoryLimitBytes: number): number {
  const probe = phpFpmSizing(1024 * 2 ** 20, phpMemoryLimitBytes);
  return probe.reserveMiB + probe.memoryLimitMiB + (MIN_PHP_WORKERS - 1) * TYPICAL_WORKER_MIB;
}

/**
 * How many previews Nextcloud makes at once (its preview_concurrency_new and _all settings).
 * New previews, one: the one request the sizing rule lets grow to memory_limit. Existing ones
 * are only read and sent: as many as there are workers.
 */
export function previewConcurrency(s: PhpFpmSizing): { readonly newPreviews: number; readonly allPreviews: number } {
  return { newPreviews: 1, allPreviews: Math.max(1, s.maxChildren) };
}

/** The php-fpm pool override, mounted after the image's www.conf so it wins. */
export function renderFpmPool(s: PhpFpmSizing): string {
  return [
    '; Rendered by homecloud (lib/nextcloud/php-sizing.ts) from the container memory limit.',
    '[www]',
    // ondemand: no idle workers holding memory while the family is asleep.
    'pm = ondemand',
    `pm.max_children = ${s.maxChildren}`,
    'pm.process_idle_timeout = 60s',
    // Recycle workers now and then so a slow leak in an app cannot grow without bound.
    'pm.max_requests = 500',
    '',
  ].join('\n');
}

/** OPcache and APCu sizes matching the reserve in the sizing rule. */
export function renderPhpIni(s: PhpFpmSizing): string {
  return [
    '; Rendered by homecloud (lib/nextcloud/php-sizing.ts); sizes are part of the memory reserve.',
    `opcache.memory_consumption=${s.opcacheMiB}`,
    `opcache.interned_strings_buffer=${s.internedStringsMiB}`,
    'opcache.max_accelerated_files=10000',
    'opcache.revalidate_freq=60',
    'opcache.save_comments=1',
    `apc.shm_size=${s.apcuMiB}M`,
    '',
  ].join('\n');
}
