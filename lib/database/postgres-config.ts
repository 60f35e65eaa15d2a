import { mebibytes } from '../config/quantity';

/**
 * Days an earlier major's data folder stays on the database volume after a move to a new
 * PostgreSQL major (`npm run rollback` goes back to it), before tidy-old-majors.sh removes it.
 */
export const KEEP_OLD_MAJOR_DAYS = 14;

/** Where a PostgreSQL major keeps its data inside the official image. */
export interface PostgresLayout {
  /** Where the volume is mounted. */
  readonly mountPath: string;
  /** PGDATA: a subdirectory, so a fresh volume's lost+found never confuses initdb. */
  readonly pgdata: string;
  /** Whether each major has its own folder on the volume, so a new major can be filled beside the old. */
  readonly sharesVolume: boolean;
}

/**
 * 18+ images keep PGDATA at /var/lib/postgresql/<major>/docker and expect the volume at
 * /var/lib/postgresql (so pg_upgrade --link can see old and new side by side);
 * 17 and older expect the volume at /var/lib/postgresql/data.
 */
export function postgresLayout(major: number): PostgresLayout {
  return major >= 18
    ? { mountPath: '/var/lib/postgresql', pgdata: `/var/lib/postgresql/${major}/docker`, sharesVolume: true }
    : { mountPath: '/var/lib/postgresql/data', pgdata: '/var/lib/postgresql/data/pgdata', sharesVolume: false };
}

export interface PostgresTuning {
  readonly sharedBuffersMiB: number;
  readonly effectiveCacheSizeMiB: number;
  readonly workMemMiB: number;
  readonly maintenanceWorkMemMiB: number;
  readonly maxConnections: number;
}

/** Per-connection overhead beyond work_mem (backend process, catalog caches). */
const CONNECTION_OVERHEAD_MIB = 3;

/**
 * Sized from the container memory limit: a quarter for shared_buffers (PostgreSQL's own
 * advice), and few connections (Nextcloud's workers, cron and a backup need well under 30),
 * so shared_buffers + connections × (work_mem + overhead) stays under the limit.
 */
export function postgresTuning(memoryLimitBytes: number): PostgresTuning {
  const limit = mebibytes(memoryLimitBytes);
  const sharedBuffersMiB = Math.max(16, Math.floor(limit / 4));
  const workMemMiB = limit >= 1024 ? 8 : 4;
  const maxConnections = Math.max(10, Math.min(30, Math.floor((limit * 0.6 - sharedBuffersMiB) / (workMemMiB + CONNECTION_OVERHEAD_MIB))));
  return {
    sharedBuffersMiB,
    effectiveCacheSizeMiB: Math.floor(limit / 2),
    workMemMiB,
    maintenanceWorkMemMiB: Math.max(16, Math.floor(limit / 16)),
    maxConnections,
  };
}

/** Worst-case memory the tuning allows, in MiB (what the tests hold against the limit). */
export function postgresWorstCaseMiB(t: PostgresTuning): number {
  return t.sharedBuffersMiB + t.maintenanceWorkMemMiB + t.maxConnections * (t.workMemMiB + CONNECTION_OVERHEAD_MIB);
}

/** Server settings as `postgres -c` arguments (not secrets: safe in the pod spec). */
export function postgresArgs(t: PostgresTuning): string[] {
  const settings: Record<string, string> = {
    shared_buffers: `${t.sharedBuffersMiB}MB`,
    effective_cache_size: `${t.effectiveCacheSizeMiB}MB`,
    work_mem: `${t.workMemMiB}MB`,
    maintenance_work_mem: `${t.maintenanceWorkMemMiB}MB`,
    max_connections: String(t.maxConnections),
    // Parallel workers use /dev/shm, which a container caps at 64 MiB.
    max_parallel_workers_per_gather: '0',
    // A desktop's disk is shared with everything else: spread checkpoint writes out.
    checkpoint_completion_target: '0.9',
  };
  return ['postgres', ...Object.entries(settings).flatMap(([k, val]) => ['-c', `${k}=${val}`])];
}
