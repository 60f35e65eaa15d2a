import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as path from 'path';

const BIN = path.join(__dirname, '..', '..', 'bin', 'homecloud.js');

/**
 * Kill tests choose their moment: the client, run with HOMECLOUD_TEST_PAUSE_AT=STEP, stops once
 * it has recorded STEP in the maintenance lock and says "paused at STEP"; only then is it killed
 * (killed() below). A loaded machine only makes the wait longer. Its lock lasts `leaseSeconds`,
 * so the next command need not wait the usual minute for it to run out.
 */
export function pausedAt(args: string[], env: NodeJS.ProcessEnv, step: string, leaseSeconds = 4): Promise<ChildProcess & { said: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args, '--context', 'homecloud-test'],
      { env: { ...env, HOMECLOUD_TEST_PAUSE_AT: step, HOMECLOUD_LEASE_SECONDS: String(leaseSeconds) } });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
      if (err.includes(`paused at ${step}\n`)) resolve(Object.assign(child, { said: () => err }));
    });
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} ended (exit ${code}) before step "${step}":\n${err}`)));
  });
}

/** SIGKILL, as a PC switched off or a closed window ends the client: no cleanup runs. */
export function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.on('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** The maintenance Lease as the API server has it, or undefined. */
export function leaseOf(env: NodeJS.ProcessEnv, namespace = 'homecloud'): { spec: { holderIdentity?: string; renewTime: string; leaseDurationSeconds: number }; metadata: { annotations: Record<string, string> } } | undefined {
  const r = spawnSync('kubectl', ['get', 'lease', 'maintenance', '-n', namespace, '-o', 'json'], { env, encoding: 'utf8' });
  return r.status === 0 ? JSON.parse(r.stdout) : undefined;
}

/** Waits until a killed holder's lock has run out: its last renewal plus its length. */
export async function leaseExpiry(env: NodeJS.ProcessEnv, namespace = 'homecloud'): Promise<void> {
  const l = leaseOf(env, namespace);
  if (!l) return;
  const end = Date.parse(l.spec.renewTime) + l.spec.leaseDurationSeconds * 1000 + 200;
  await new Promise((r) => setTimeout(r, Math.max(0, end - Date.now())));
}
