// The tests' own temporary files: one folder per run, removed at its end, and a stopped run's
// folder removed by the next (a full run left up to 1.5 GB of PostgreSQL clusters, control
// planes and snapshot trees in the temporary folder otherwise).
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const tmp: {
  PREFIX: string;
  staleRunFolders(base: string, isAlive?: (pid: number) => boolean, prefix?: string): string[];
  startRun(base: string, pid?: number, isAlive?: (pid: number) => boolean, prefix?: string): string;
  endRun(dir: string | undefined, keep?: boolean): string;
} = require('../support/test-tmp');

describe('the tests\' temporary folder', () => {
  let base: string;
  beforeEach(() => { base = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-test-tmp-')); });
  afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

  const run = (name: string, pid?: number, ageHours = 0) => {
    const dir = path.join(base, name);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'data'), 'x');
    if (pid !== undefined) fs.writeFileSync(path.join(dir, '.owner-pid'), String(pid));
    const t = new Date(Date.now() - ageHours * 3600e3);
    fs.utimesSync(dir, t, t);
    return dir;
  };

  it('this run\'s tests write under a folder of their own, which the next run can tell from a stopped one', () => {
    expect(process.env.HOMECLOUD_TEST_TMP).toBeDefined();
    expect(os.tmpdir()).toBe(process.env.HOMECLOUD_TEST_TMP);
    expect(path.basename(os.tmpdir()).startsWith(tmp.PREFIX)).toBe(true);
    const owner = Number(fs.readFileSync(path.join(os.tmpdir(), '.owner-pid'), 'utf8'));
    expect(() => process.kill(owner, 0)).not.toThrow();
    expect(tmp.staleRunFolders(path.dirname(os.tmpdir()))).not.toContain(os.tmpdir());
  });

  it('a folder whose run has ended is stale; a running one, a new one without owner and other folders are not', () => {
    const dead = run(`${tmp.PREFIX}dead`, 4001);
    run(`${tmp.PREFIX}alive`, 4002);
    run(`${tmp.PREFIX}starting`);
    const orphan = run(`${tmp.PREFIX}orphan`, undefined, 2);
    const garbled = run(`${tmp.PREFIX}garbled`);
    fs.writeFileSync(path.join(garbled, '.owner-pid'), 'not a pid');
    run('hc-pg-other', 4001);
    const bench = run('homecloud-bench-dead', 4001);
    const stale = tmp.staleRunFolders(base, (pid) => pid === 4002).sort();
    expect(stale).toEqual([dead, garbled, orphan].sort());
    // The benchmarks' runs (npm run bench) are told apart by their prefix.
    expect(tmp.staleRunFolders(base, (pid) => pid === 4002, 'homecloud-bench-')).toEqual([bench]);
    const benchRun = tmp.startRun(base, 4005, (pid) => pid === 4002, 'homecloud-bench-');
    expect(path.basename(benchRun).startsWith('homecloud-bench-')).toBe(true);
    expect(fs.existsSync(bench)).toBe(false);
    expect(fs.existsSync(dead)).toBe(true);
  });

  it('a new run removes the stale folders and gets a fresh one that the PostgreSQL user may use', () => {
    const dead = run(`${tmp.PREFIX}dead`, 4001);
    const alive = run(`${tmp.PREFIX}alive`, 4002);
    const dir = tmp.startRun(base, 4003, (pid) => pid === 4002);
    expect(fs.existsSync(dead)).toBe(false);
    expect(fs.existsSync(path.join(alive, 'data'))).toBe(true);
    expect(fs.statSync(dir).mode & 0o7777).toBe(0o1777);
    expect(fs.readFileSync(path.join(dir, '.owner-pid'), 'utf8')).toBe('4003');
  });

  const asRoot = process.getuid?.() === 0 ? it : it.skip;
  asRoot('a file system a stopped drill left mounted in the folder is detached, not emptied through, and the folder goes', () => {
    const dir = tmp.startRun(base);
    const outside = fs.mkdtempSync(path.join(base, 'outside-'));
    fs.writeFileSync(path.join(outside, 'keep-me'), 'x');
    const bound = path.join(dir, 'hc-x', 'bound');
    const small = path.join(dir, 'hc-x', 'small');
    fs.mkdirSync(bound, { recursive: true });
    fs.mkdirSync(small);
    execFileSync('mount', ['--bind', outside, bound]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', small]);
    try {
      expect(tmp.endRun(dir)).toBe('');
      expect(fs.existsSync(dir)).toBe(false);
      expect(fs.readFileSync(path.join(outside, 'keep-me'), 'utf8')).toBe('x');
    } finally {
      spawnSync('umount', ['-l', bound]);
      spawnSync('umount', ['-l', small]);
    }
  });

  it('the end of a run removes its folder, or keeps it when asked and says where', () => {
    const dir = tmp.startRun(base);
    fs.mkdirSync(path.join(dir, 'hc-pg-x', 'data'), { recursive: true });
    expect(tmp.endRun(dir, true)).toBe(`test files kept in ${dir} (KEEP_TEST_FILES)`);
    expect(fs.existsSync(dir)).toBe(true);
    expect(tmp.endRun(dir)).toBe('');
    expect(fs.existsSync(dir)).toBe(false);
    expect(tmp.endRun(dir)).toBe('');
    expect(tmp.endRun(undefined)).toBe('');
  });
});
