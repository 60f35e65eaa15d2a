'use strict';
// One temporary folder per `npm test`, removed when the run ends. The tests make a folder of
// their own under os.tmpdir() for every PostgreSQL, control plane, snapshot tree and kill drill
// (up to 1.5 GB at once in a full run); pointing TMPDIR at this run's folder before the workers
// start lets them keep doing that without each remembering to clean up, and a run that was
// stopped (Ctrl-C, a killed CI job) is cleaned up by the next one.
// KEEP_TEST_FILES=1 keeps the folder, to read a failed run's logs (pod-sim.log, PostgreSQL's log).
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const PREFIX = 'homecloud-tests-';
const OWNER = '.owner-pid';

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/** Run folders under `base` whose run has ended without removing them (its process is gone). */
function staleRunFolders(base, isAlive = alive, prefix = PREFIX) {
  let names;
  try {
    names = fs.readdirSync(base);
  } catch {
    return [];
  }
  return names.filter((n) => n.startsWith(prefix)).map((n) => path.join(base, n)).filter((dir) => {
    let pid;
    try {
      pid = Number(fs.readFileSync(path.join(dir, OWNER), 'utf8'));
    } catch {
      // No owner yet: a run that is just starting, or one killed before it wrote it. Old enough: stale.
      try {
        return Date.now() - fs.statSync(dir).mtimeMs > 3600e3;
      } catch {
        return false;
      }
    }
    return !(Number.isInteger(pid) && pid > 0 && isAlive(pid));
  });
}

/**
 * Detaches what a stopped test left mounted under `dir` (the full-disk and read-only drills
 * mount small file systems there): removing the folder would otherwise fail on the mount
 * point, or reach through a mount into what it shows.
 */
function unmountUnder(dir) {
  let mounts;
  try {
    mounts = fs.readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    return;
  }
  const inside = mounts.split('\n').map((l) => (l.split(' ')[1] || '').replace(/\\040/g, ' '))
    .filter((m) => m.startsWith(`${dir}/`)).sort((a, b) => b.length - a.length);
  for (const m of inside) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
}

function remove(dir) {
  unmountUnder(dir);
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * Makes this run's folder under `base` (after removing stale ones) and returns it. `prefix`
 * tells the tests' runs from the benchmarks' (`npm run bench` uses the same, see scripts/bench.js).
 */
function startRun(base, pid = process.pid, isAlive = alive, prefix = PREFIX) {
  for (const dir of staleRunFolders(base, isAlive, prefix)) remove(dir);
  const dir = fs.mkdtempSync(path.join(base, prefix));
  // Like /tmp itself: the PostgreSQL tests run the server as the postgres user inside it.
  fs.chmodSync(dir, 0o1777);
  fs.writeFileSync(path.join(dir, OWNER), String(pid));
  return dir;
}

/** Removes the run's folder unless `keep`; returns what it says about it, or '' to say nothing. */
function endRun(dir, keep = false) {
  if (!dir || !fs.existsSync(dir)) return '';
  if (keep) return `test files kept in ${dir} (KEEP_TEST_FILES)`;
  remove(dir);
  return '';
}

module.exports = { PREFIX, staleRunFolders, startRun, endRun };
