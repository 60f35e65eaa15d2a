'use strict';
// The whole family at once: latency of an ordinary PHP request while 0, 2, 4 and 8 phones
// download slowly, with homecloud's pool and nginx.conf beside the image's default pool
// (pm = dynamic, 5 children) and beside homecloud's previous settings (2 workers, responses
// not buffered), all in this one run; plus small-request throughput and php-fpm's memory.
require('../scripts/ts-register');
const fs = require('fs');
const { median, report } = require('./lib');
const { startWebStack, webStackAvailable, synthesizedWeb } = require('../test/support/web-stack.ts');
const { latencies, percentile, slowDownload } = require('../test/support/slow-clients.ts');

const MiB = 2 ** 20;
const STEPS = [0, 2, 4, 8];
const IMAGE_DEFAULT_POOL = '[www]\npm = dynamic\npm.max_children = 5\npm.start_servers = 2\npm.min_spare_servers = 1\npm.max_spare_servers = 3\n';
const PREVIOUS_POOL = '[www]\npm = ondemand\npm.max_children = 2\npm.process_idle_timeout = 60s\npm.max_requests = 500\n';

/** Sum of the proportional set size of php-fpm's master and workers, in MiB. */
function fpmPssMiB(web) {
  let kib = 0;
  for (const pid of web.fpmPids()) {
    try { kib += Number(/^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))[1]); } catch { /* exited */ }
  }
  return kib / 1024;
}

function wrkRequests(web, seconds) {
  const r = web.inside('wrk', ['-t2', '-c4', `-d${seconds}s`, `${web.baseUrl}/status.php`]);
  if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr}`);
  return Number(/Requests\/sec:\s+([0-9.]+)/.exec(r.stdout)[1]);
}

async function measure(conf, pool, php) {
  // Over HTTPS, as the family's phones connect.
  const web = await startWebStack(conf, { ...php, pool }, { site: php.site });
  const steps = {};
  try {
    for (const n of STEPS) {
      // Files larger than nginx's buffer, so each download also holds a PHP worker for a while.
      const downloads = Array.from({ length: n }, () => slowDownload(web.endpoint, `/remote.php/dav/files/a/video.mp4?stream=${512 * MiB}`, 2 * MiB));
      await new Promise((r) => setTimeout(r, 1500));
      const ms = await latencies(web.endpoint, '/status.php', 10, 2000);
      steps[n] = { p50: percentile(ms, 50), p95: percentile(ms, 95), pss: fpmPssMiB(web) };
      downloads.forEach((d) => d.stop());
      await new Promise((r) => setTimeout(r, 500));
    }
    steps.rps = wrkRequests(web, 3);
  } finally {
    await web.stop();
  }
  return steps;
}

module.exports = async function benchSlowClients({ runs }) {
  const ready = await webStackAvailable();
  if (!ready.ok) {
    console.log(`\n## slow clients: skipped (${ready.reason})`);
    return undefined;
  }
  const ours = synthesizedWeb();
  const previousConf = ours.conf.replace(/fastcgi_max_temp_file_size \d+;/, 'fastcgi_max_temp_file_size 0;');
  const configs = [['homecloud', ours.conf, ours.pool], ['image default pool', ours.conf, IMAGE_DEFAULT_POOL], ['previous homecloud', previousConf, PREVIOUS_POOL]];
  const rounds = Math.max(1, Math.min(runs, 3));
  const results = Object.fromEntries(configs.map(([name]) => [name, []]));
  for (let i = 0; i < rounds; i++) {
    for (const [name, conf, pool] of configs) results[name].push(await measure(conf, pool, ours));
  }
  const m = (name, n, key) => median(results[name].map((r) => (n === undefined ? r[key] : r[n][key])));
  const rows = [];
  for (const n of STEPS) {
    for (const [name] of configs) {
      rows.push([`${n} slow downloads, ${name}: p50 / p95 ms`, `${m(name, n, 'p50').toFixed(1)} / ${m(name, n, 'p95').toFixed(1)}  (php-fpm ${m(name, n, 'pss').toFixed(0)} MiB PSS)`]);
    }
  }
  const idle = m('homecloud', 0, 'p50');
  rows.push(['homecloud p50 with 4 downloads / idle (target <= 3)', (m('homecloud', 4, 'p50') / idle).toFixed(2)]);
  rows.push(['small requests/s at 4 clients, homecloud', m('homecloud', undefined, 'rps').toFixed(0)]);
  rows.push(['small requests/s at 4 clients, image default pool', m('image default pool', undefined, 'rps').toFixed(0)]);
  rows.push(['throughput ratio homecloud / image default (target >= 1.0)', (m('homecloud', undefined, 'rps') / m('image default pool', undefined, 'rps')).toFixed(3)]);
  report(`slow clients (stand-in PHP; downloads of 512 MiB at 2 MiB/s; 10 requests per step, 2 s timeout; median of ${rounds} rounds)`, rows);
  return results;
};
