'use strict';
// What installing costs a family (`npm ci --omit=dev`, the README's install step) beside a
// developer's full `npm ci`, in the same run: packages, megabytes on disk, seconds. Uses the
// npm cache like a second install on the same PC (--prefer-offline); a first install also
// downloads.
const { execFileSync, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { median, report } = require('./lib');

const ROOT = path.join(__dirname, '..');

function copyOfProject() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-bench-install-'));
  for (const f of execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.copyFileSync(path.join(ROOT, f), path.join(dir, f));
  }
  return dir;
}

function install(extra) {
  const dir = copyOfProject();
  const start = process.hrtime.bigint();
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--prefer-offline', ...extra], { cwd: dir, encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new Error(`npm ci ${extra.join(' ')} failed: ${r.stderr}`);
  const packages = spawnSync('npm', ['ls', '--all', '--parseable', ...extra], { cwd: dir, encoding: 'utf8' }).stdout.trim().split('\n').length - 1;
  const megabytes = Number(execFileSync('du', ['-sm', path.join(dir, 'node_modules')], { encoding: 'utf8' }).split('\t')[0]);
  fs.rmSync(dir, { recursive: true, force: true });
  return { seconds, packages, megabytes };
}

module.exports = async function benchInstall({ runs }) {
  const rounds = Math.max(1, Math.min(runs, 3));
  const family = [];
  const developer = [];
  for (let i = 0; i < rounds; i++) {
    family.push(install(['--omit=dev']));
    developer.push(install([]));
  }
  const m = (list, key) => median(list.map((r) => r[key]));
  report(`install (npm ci --prefer-offline, median of ${rounds})`, [
    ['family: npm ci --omit=dev — packages / MB / s', `${m(family, 'packages')} / ${m(family, 'megabytes')} / ${m(family, 'seconds').toFixed(1)}`],
    ['developer: npm ci — packages / MB / s', `${m(developer, 'packages')} / ${m(developer, 'megabytes')} / ${m(developer, 'seconds').toFixed(1)}`],
    ['family install time / developer install time', (m(family, 'seconds') / m(developer, 'seconds')).toFixed(2)],
  ]);
  return { family, developer };
};
