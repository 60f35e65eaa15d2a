'use strict';
// `npm run synth` wall time against merely loading cdk8s + cdk8s-plus-27 in node.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { median, timeCommand, report } = require('./lib');

module.exports = function benchSynth({ runs }) {
  const root = path.join(__dirname, '..');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-bench-synth-'));
  const env = { ...process.env, HOMECLOUD_OUTDIR: path.join(dir, 'dist'), HOMECLOUD_CREDENTIALS: path.join(dir, 'c.json') };
  const baseline = timeCommand(process.execPath, ['-e', "require('cdk8s'); require('cdk8s-plus-27')"], { runs, cwd: root });
  const synth = timeCommand(process.execPath, [path.join(root, 'scripts', 'synth.js')], { runs, env, cwd: root });
  const b = median(baseline);
  const s = median(synth);
  report(`synth (median of ${runs} runs, whole process)`, [
    ['load cdk8s + cdk8s-plus-27 (baseline)', `${b.toFixed(3)} s`],
    ['npm run synth (node scripts/synth.js)', `${s.toFixed(3)} s`],
    ['ratio synth / baseline (target <= 2.0)', (s / b).toFixed(2)],
  ]);
  return { baselineSeconds: b, synthSeconds: s, ratio: s / b };
};
