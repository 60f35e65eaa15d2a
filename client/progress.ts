import * as fs from 'fs';
import * as path from 'path';
import { Io } from './io';

/** How often a long upload or restore says how far it is. */
export const PROGRESS_EVERY_MS = 30_000;

const MB = 1e6;
/** Elapsed time as "1m05s". */
export function elapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/**
 * Waits for `work`, and every `everyMs` while it runs says what `progress` reports (an upload
 * or a restore of a family's library takes long enough to look hung otherwise).
 */
export async function withProgress<T>(work: Promise<T>, io: Io, everyMs: number, progress: (spentMs: number) => Promise<string | undefined>): Promise<T> {
  const start = io.now().getTime();
  let next = start + everyMs;
  let finished = false;
  const done = work.finally(() => { finished = true; });
  for (;;) {
    // Short sleeps: the one still pending when the work ends keeps the program from exiting.
    const first = await Promise.race([done.then(() => 'done' as const), io.sleep(Math.min(1000, everyMs)).then(() => 'tick' as const)]);
    if (first === 'done' || finished) return done;
    if (io.now().getTime() < next) continue;
    next += everyMs;
    const line = await progress(io.now().getTime() - start).catch(() => undefined);
    if (line && !finished) io.err(`${line}\n`);
  }
}

/** Bytes in the files below a folder (or of a file). */
export function treeBytes(local: string): number {
  const st = fs.statSync(local);
  if (!st.isDirectory()) return st.size;
  return fs.readdirSync(local).reduce((sum, name) => sum + treeBytes(path.join(local, name)), 0);
}

/** "uploaded 1200 of 5000 MB (24%), 10m00s": from the size that arrived in the pod so far. Pure. */
export function uploadProgress(arrivedKiB: number, totalBytes: number, spentMs: number): string {
  const arrived = Math.min(arrivedKiB * 1024, totalBytes);
  const percent = totalBytes > 0 ? Math.floor((100 * arrived) / totalBytes) : 100;
  return `uploaded ${(arrived / MB).toFixed(0)} of ${(totalBytes / MB).toFixed(0)} MB (${percent}%), ${elapsed(spentMs)}`;
}
