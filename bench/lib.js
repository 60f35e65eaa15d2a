'use strict';
// Shared helpers for the benchmarks: wall-clock timing of whole processes, medians.
const { spawnSync } = require('child_process');

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs a command `runs` times (after one warm-up) and returns the wall times in seconds. */
function timeCommand(cmd, args, { runs = 7, env = process.env, cwd } = {}) {
  const once = () => {
    const start = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { env, cwd, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
    return Number(process.hrtime.bigint() - start) / 1e9;
  };
  once();
  return Array.from({ length: runs }, once);
}

function report(title, rows) {
  console.log(`\n## ${title}`);
  for (const [name, value] of rows) console.log(`${name.padEnd(48)} ${value}`);
}

module.exports = { median, timeCommand, report };
