import { mebibytes } from './quantity';

/**
 * How php-fpm and OPcache are sized from the container's memory limit.
 *
 * The rule: shared memory (OPcache + its interned strings + APCu) and the fpm master are
 * reserved first; every worker may then grow to PHP's memory_limit, so
 *
 *     reserve + maxChildren × memory_limit ≤ container memory limit
 *
 * holds even when every worker hits memory_limit at once. Ordinary load therefore cannot get
 * the container OOM-killed: PHP stops a runaway request with an error before the kernel would.
 * Requests beyond maxChildren wait in php-fpm's queue instead of starting new processes.
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
  const maxChildren = Math.max(0, Math.floor((limitMiB - reserveMiB) / Math.max(1, memoryLimitMiB)));
  return { maxChildren, memoryLimitMiB, opcacheMiB, internedStringsMiB, apcuMiB, masterMiB, reserveMiB };
}

/** The smallest container memory limit (MiB) that fits MIN_PHP_WORKERS at this memory_limit. */
export function minimumContainerMiB(phpMemoryLimitBytes: number): number {
  const probe = phpFpmSizing(1024 * 2 ** 20, phpMemoryLimitBytes);
  return probe.reserveMiB + MIN_PHP_WORKERS * probe.memoryLimitMiB;
}

/** The php-fpm pool override, mounted after the image's www.conf so it wins. */
export function renderFpmPool(s: PhpFpmSizing): string {
  return [
    '; Rendered by homecloud (lib/php-sizing.ts) from the container memory limit.',
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
    '; Rendered by homecloud (lib/php-sizing.ts); sizes are part of the memory reserve.',
    `opcache.memory_consumption=${s.opcacheMiB}`,
    `opcache.interned_strings_buffer=${s.internedStringsMiB}`,
    'opcache.max_accelerated_files=10000',
    'opcache.revalidate_freq=60',
    'opcache.save_comments=1',
    `apc.shm_size=${s.apcuMiB}M`,
    '',
  ].join('\n');
}
