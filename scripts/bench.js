#!/usr/bin/env node
// `npm run bench [-- NAME ...] [--runs N]`: runs the benchmarks in bench/ (all by default)
// and prints medians and ratios against a baseline measured in the same invocation.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { startRun, endRun } = require('../test/support/test-tmp');

const args = process.argv.slice(2);
if (args.includes('--help')) {
  console.log('usage: npm run bench [-- [NAME ...] [--runs N]]\nbenchmarks: ' + available().join(', '));
  process.exit(0);
}
const runsAt = args.indexOf('--runs');
const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 7;
const names = args.filter((a, i) => !a.startsWith('--') && i !== runsAt + 1);

function available() {
  return fs.readdirSync(path.join(__dirname, '..', 'bench')).filter((f) => f.endsWith('.js') && f !== 'lib.js').map((f) => f.replace(/\.js$/, ''));
}

(async () => {
  // The benchmarks' trees, clusters and stacks, in one folder removed at the end (as the tests').
  const tmp = startRun(os.tmpdir(), process.pid, undefined, 'homecloud-bench-');
  process.env.TMPDIR = tmp;
  process.on('exit', () => endRun(tmp));
  const chosen = names.length ? names : available();
  const unknown = chosen.filter((n) => !available().includes(n));
  if (unknown.length) {
    console.error(`unknown benchmark(s): ${unknown.join(', ')}; available: ${available().join(', ')}`);
    process.exit(2);
  }
  for (const name of chosen) await require(path.join(__dirname, '..', 'bench', `${name}.js`))({ runs });
})().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
