import { execFileSync, spawn, spawnSync, SpawnSyncReturns } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { scriptPath } from '../../lib/config/container-scripts';
import { which } from './requirements';

/**
 * Runs container scripts the way the Alpine images do: under busybox `sh`, with busybox's
 * own date, grep, sleep, timeout, sha256sum… first on PATH, so a GNU-only flag fails here too.
 */
let appletDir: string | undefined;

/** A folder of busybox applet links (sh, date, sha256sum, …), made once per process. */
export function applets(): string {
  if (!appletDir) {
    appletDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-busybox-'));
    execFileSync(which('busybox')!, ['--install', '-s', appletDir]);
  }
  return appletDir;
}

export interface ScriptRun {
  readonly env?: Record<string, string>;
  /** Folders put on PATH ahead of busybox (test doubles, PostgreSQL's tools). */
  readonly path?: string[];
  readonly cwd?: string;
  /** The script's own arguments. */
  readonly args?: string[];
}

function environment(run: ScriptRun): NodeJS.ProcessEnv {
  return {
    PATH: [...(run.path ?? []), applets(), '/usr/bin', '/bin'].join(':'),
    HOME: os.tmpdir(),
    LANG: 'C',
    // The Nextcloud hooks' shared functions, where the pod mounts them beside the hook folders.
    HOMECLOUD_OCC_LIB: scriptPath('nextcloud/occ-lib.sh'),
    ...run.env,
  };
}

/** Runs lib/<concern>/scripts/<file> (named "<concern>/<file>") under busybox sh and waits for it. */
export function runScript(script: string, run: ScriptRun = {}): SpawnSyncReturns<string> {
  return spawnSync(which('busybox')!, ['sh', scriptPath(script), ...(run.args ?? [])], {
    env: environment(run), cwd: run.cwd, encoding: 'utf8', timeout: 120_000,
  });
}

/**
 * Starts lib/<concern>/scripts/<file> under busybox sh without waiting (for long-running loops).
 * Every signal starts at its default action, as in a container (a shell started in the
 * background of a non-interactive shell inherits SIGINT and SIGQUIT ignored, and cannot trap them).
 */
export function startScript(script: string, run: ScriptRun = {}) {
  return spawn(which('env')!, ['--default-signal', which('busybox')!, 'sh', scriptPath(script)], { env: environment(run), cwd: run.cwd });
}

/**
 * A test double for a command: a shell script that appends its arguments to `log`
 * and then runs `body` (sh code with "$@" available).
 */
export function fakeCommand(dir: string, name: string, body: string): string {
  const log = path.join(dir, `${name}.calls`);
  fs.writeFileSync(path.join(dir, name), `#!/bin/sh\necho "$*" >> "${log}"\n${body}\n`, { mode: 0o755 });
  return log;
}

export function calls(log: string): string[] {
  return fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) : [];
}
