import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { which } from './requirements';

const HERE = path.join(__dirname, '..', 'controlplane');

/**
 * Whether the control-plane tier can run: the binaries are cached, or Go is here to build
 * them (build.sh; minutes when cold), plus the tools the harness uses.
 */
export function controlPlaneAvailable(): { ok: boolean; reason: string } {
  if (process.platform === 'win32') return { ok: false, reason: 'the test control plane runs on Linux only' };
  const missing = ['bash', 'openssl', 'curl', 'python3', 'kubectl', 'setsid', 'tac'].filter((c) => !which(c));
  const cached = spawnSync('bash', [path.join(HERE, 'build.sh'), '--cached-only'], { encoding: 'utf8' }).status === 0;
  if (!cached && !which('go')) missing.push('go (to build the control plane once; or a cache from an earlier build)');
  return { ok: missing.length === 0, reason: `missing ${missing.join(', ')}` };
}

export interface ControlPlane {
  readonly dir: string;
  readonly kubeconfig: string;
  readonly startupSeconds: number;
  /** Runs kubectl against this cluster; throws with kubectl's stderr on failure. */
  kubectl(args: string[], input?: string): string;
  /**
   * The simulated node's folder for a pod (logs/, volumes/, root-<container>/), once it serves
   * exec and logs for it (pod-sim.py prepares each new pod within a second or two).
   */
  podFolder(namespace: string, pod: string): string;
  stop(): void;
}

/** Starts a fresh cluster (building it first if nothing is cached). Stops with the test process. */
export function startControlPlane(): ControlPlane {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-cluster-'));
  const up = spawnSync('bash', [path.join(HERE, 'cluster.sh'), 'up', dir, String(process.pid)], { encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'] });
  if (up.status !== 0) throw new Error(`the test control plane did not start:\n${up.stderr}`);
  const kubeconfig = path.join(dir, 'kubeconfig');
  const kubectl = (args: string[], input?: string) => {
    try {
      return execFileSync('kubectl', args, { env: { ...process.env, KUBECONFIG: kubeconfig }, encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (e) {
      const err = e as { stderr?: string; stdout?: string };
      throw new Error(`kubectl ${args.join(' ')} failed:\n${err.stderr ?? ''}${err.stdout ?? ''}`);
    }
  };
  const podFolder = (namespace: string, pod: string) => {
    const link = path.join(dir, 'pods', `${namespace}_${pod}`);
    for (let i = 0; i < 100 && !fs.existsSync(link); i++) spawnSync('sleep', ['0.2']);
    if (!fs.existsSync(link)) throw new Error(`the simulated node did not prepare pod ${namespace}/${pod} within 20 s; see ${dir}/pod-sim.log`);
    return fs.realpathSync(link);
  };
  return {
    dir,
    kubeconfig,
    podFolder,
    startupSeconds: Number(fs.readFileSync(path.join(dir, 'startup-seconds'), 'utf8')),
    kubectl,
    stop: () => {
      spawnSync('bash', [path.join(HERE, 'cluster.sh'), 'down', dir], { stdio: 'ignore' });
    },
  };
}
