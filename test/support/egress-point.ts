import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { scriptPath } from '../../lib/config/container-scripts';
import { Destination } from '../../lib/privacy/privacy-settings';
import { renderSquidConf } from '../../lib/privacy/squid-conf';
import { which } from './requirements';

/**
 * The egress point on this machine: Debian's Squid (test/privacy/squid.sh, unpacked from its
 * package) run by the container's own script (egress-run.sh) under dash, the image's /bin/sh,
 * with squid.conf rendered as synth renders it, on a port the system picks.
 */
export interface TestEgress {
  readonly port: number;
  readonly logDir: string;
  readonly output: () => string;
  /** Sends the script a signal (SIGHUP turns the ledger over). */
  signal(sig: NodeJS.Signals): void;
  /** Stops it the way the kubelet does (SIGTERM); resolves with the script's exit code. */
  stop(): Promise<number | null>;
}

const ROOT = path.join(__dirname, '..', '..');

/** Where the unpacked Squid is, or why there is none. */
export function squidAvailable(): { ok: boolean; reason: string; dir?: string } {
  if (!which('dash')) return { ok: false, reason: 'missing dash (apt-get install dash)' };
  try {
    const dir = execFileSync(path.join(ROOT, 'test', 'privacy', 'squid.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    return { ok: fs.existsSync(path.join(dir, 'x', 'usr', 'sbin', 'squid')), reason: `no squid in ${dir}`, dir };
  } catch (e) {
    return { ok: false, reason: `Debian's squid package could not be fetched (test/privacy/squid.sh: ${(e as Error).message.split('\n')[0]})` };
  }
}

export async function freePort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Starts the egress point admitting `destinations`; `hosts` resolves names for it (host → address). */
export async function startEgress(o: {
  destinations: Destination[]; httpsPorts: number[]; hosts: Record<string, string>;
  /** A pid file naming a live process, as a container restarted after a power cut finds it (pids repeat). */
  stalePidFile?: boolean;
}): Promise<TestEgress> {
  const squidDir = squidAvailable().dir!;
  const x = path.join(squidDir, 'x');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-egress-'));
  fs.chmodSync(dir, 0o755);
  const logDir = path.join(dir, 'log');
  const runDir = path.join(dir, 'run');
  const share = path.join(dir, 'share');
  for (const d of [logDir, runDir]) fs.mkdirSync(d, { mode: 0o777 });
  fs.chmodSync(logDir, 0o777);
  fs.chmodSync(runDir, 0o777);
  // Squid reads its pages after it drops to its user, who cannot read root's cache folder.
  fs.cpSync(path.join(x, 'usr', 'share', 'squid-langpack', 'templates'), path.join(share, 'errors'), { recursive: true, dereference: true });
  fs.cpSync(path.join(x, 'usr', 'share', 'squid', 'mime.conf'), path.join(share, 'mime.conf'));
  fs.cpSync(path.join(x, 'usr', 'share', 'squid', 'icons'), path.join(share, 'icons'), { recursive: true, dereference: true });
  fs.writeFileSync(path.join(dir, 'hosts'), Object.entries(o.hosts).map(([h, ip]) => `${ip} ${h}`).join('\n') + '\n');
  execFileSync('chmod', ['-R', 'a+rX', share, path.join(dir, 'hosts')]);
  const port = await freePort();
  const conf = path.join(dir, 'squid.conf');
  fs.writeFileSync(conf, renderSquidConf({
    port, destinations: o.destinations, httpsPorts: o.httpsPorts, logDir, runDir,
    paths: {
      errorDirectory: path.join(share, 'errors'), mimeTable: path.join(share, 'mime.conf'), iconDirectory: path.join(share, 'icons'), hostsFile: path.join(dir, 'hosts'),
      unlinkd: path.join(x, 'usr', 'lib', 'squid', 'unlinkd'),
      // As root (CI), Squid drops to this user, as the image's proxy user runs it.
      ...(process.getuid?.() === 0 ? { effectiveUser: 'nobody' } : {}),
    },
  }));
  const squid = path.join(dir, 'squid');
  fs.writeFileSync(squid, `#!/bin/sh\nLD_LIBRARY_PATH="${x}/usr/lib/x86_64-linux-gnu" exec "${x}/usr/sbin/squid" "$@"\n`, { mode: 0o755 });
  if (o.stalePidFile) fs.writeFileSync(path.join(runDir, 'squid.pid'), `${process.pid}\n`);
  let out = '';
  const proc: ChildProcess = spawn(which('env')!, ['--default-signal', which('dash')!, scriptPath('privacy/egress-run.sh')], {
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', EGRESS_CONF: conf, SQUID: squid, EGRESS_TICK: '1', LANG: 'C' },
  });
  proc.stdout?.on('data', (d) => { out += d; });
  proc.stderr?.on('data', (d) => { out += d; });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  // Ready when it accepts connections; no fixed wait.
  for (let tries = 0; ; tries++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) break;
    if (proc.exitCode !== null || tries > 600) throw new Error(`the egress point did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port, logDir, output: () => out,
    signal: (sig) => { proc.kill(sig); },
    stop: async () => { proc.kill('SIGTERM'); return exited; },
  };
}
