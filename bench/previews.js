'use strict';
// Photo previews (#33): what our settings (previews.maxSize 2048, quality 70) cost against
// Nextcloud's defaults (4096, 80), measured with real GD and Imagick on photo-like pictures of
// an iPhone's and an Android phone's size (12 megapixels, HEIC and JPEG):
//   - thumbnails made per second on one core (a photo's max preview and the sizes the nightly
//     job makes: 64 and 256 square, 256 fit), and the previews folder per 1,000 photos;
//   - a folder of 200 photos listed with thumbnails (256 px, six at a time as a browser asks)
//     through our nginx.conf and php-fpm pool: made on demand vs made ahead of time.
// Nextcloud itself does not run here: bench/previews/preview-lib.php does its preview steps,
// and the endpoint stands in for its preview route (it lacks Nextcloud's ~20 ms of start-up per
// request, which adds to both sides of the ratio).
require('../scripts/ts-register');
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { median, report } = require('./lib');
const { startWebStack, synthesizedWeb, webStackAvailable } = require('../test/support/web-stack.ts');

const HERE = path.join(__dirname, 'previews');
const SETTINGS = { ours: { max: 2048, quality: 70 }, defaults: { max: 4096, quality: 80 } };
const SIZES = '64s,256s,256';

function missing() {
  const php = spawnSync('php', ['-r', 'echo extension_loaded("gd") && extension_loaded("imagick") && in_array("HEIC", Imagick::queryFormats()) ? "ok" : "no";'], { encoding: 'utf8' });
  if (php.stdout !== 'ok') return 'PHP with gd and imagick (HEIC) is needed: apt-get install php-gd php-imagick';
  if (spawnSync('sh', ['-c', 'command -v heif-enc']).status !== 0) return 'heif-enc is needed: apt-get install libheif-examples';
  return undefined;
}

/** Two photo-like 12-megapixel pictures per format: JPEG as Android saves them, HEIC as iPhones do. */
function makePhotos(dir) {
  const photos = [];
  for (let i = 0; i < 2; i++) {
    const jpeg = path.join(dir, `android-${i}.jpg`);
    const r = spawnSync('php', ['-r', `$p = new Imagick(); $p->newPseudoImage(4032, 3024, "plasma:fractal"); $p->blurImage(0, 1.5);
      $p->setOption("attenuate", "0.12"); $p->addNoiseImage(Imagick::NOISE_GAUSSIAN); $p->setImageFormat("jpeg");
      $p->setImageCompressionQuality(88); $p->writeImage("${jpeg}");`]);
    if (r.status !== 0) throw new Error(`could not make a test photo: ${r.stderr}`);
    const heic = path.join(dir, `iphone-${i}.heic`);
    const e = spawnSync('heif-enc', ['-q', '45', '-o', heic, jpeg], { encoding: 'utf8' });
    if (e.status !== 0) throw new Error(`heif-enc failed: ${e.stderr}`);
    photos.push(jpeg, heic);
  }
  return photos;
}

/** Seconds per photo and bytes per photo, per format, for one setting, on CPU 0. */
function makeAll(photos, s, out) {
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out);
  const r = spawnSync('taskset', ['-c', '0', 'php', '-d', 'memory_limit=1G', path.join(HERE, 'make-previews.php'), out, String(s.max), String(s.quality), SIZES, ...photos], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make-previews.php failed: ${r.stderr}`);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  const of = (ext) => lines.filter((l) => l.photo.endsWith(ext));
  const sum = (o) => Object.values(o).reduce((a, b) => a + b, 0);
  const avg = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    jpeg: { seconds: avg(of('.jpg').map((l) => sum(l.seconds))), bytes: avg(of('.jpg').map((l) => sum(l.bytes))) },
    heic: { seconds: avg(of('.heic').map((l) => sum(l.seconds))), bytes: avg(of('.heic').map((l) => sum(l.bytes))) },
  };
}

/** Lists 200 photos' thumbnails through the stack, six at a time; seconds of wall time. */
function listFolder(web, caFile, names) {
  const urls = names.map((n) => `${web.baseUrl}/index.php/core/preview?file=${n}`);
  const start = process.hrtime.bigint();
  const r = web.inside('curl', ['-sS', '--fail', '--cacert', caFile, '-Z', '--parallel-max', '6', ...urls.flatMap((u) => ['-o', '/dev/null', u])]);
  if (r.status !== 0) throw new Error(`listing the folder failed: ${r.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function listing(photos, rounds, tmp) {
  const ready = await webStackAvailable();
  if (!ready.ok || spawnSync('sh', ['-c', 'command -v curl']).status !== 0) return { skipped: ready.ok ? 'curl is missing' : ready.reason };
  const webroot = fs.mkdtempSync(path.join(tmp, 'hc-bench-previews-web-'));
  fs.chmodSync(webroot, 0o755); // nginx and php-fpm run unprivileged
  fs.cpSync(path.join(__dirname, '..', 'test', 'web', 'standin'), webroot, { recursive: true });
  fs.copyFileSync(path.join(HERE, 'endpoint.php'), path.join(webroot, 'index.php'));
  fs.copyFileSync(path.join(HERE, 'preview-lib.php'), path.join(webroot, 'preview-lib.php'));
  fs.mkdirSync(path.join(webroot, 'bench-photos'));
  // 200 names over the four pictures, half of each format: a family album (each name is made anew).
  const names = Array.from({ length: 200 }, (_, i) => `IMG_${String(i).padStart(4, '0')}${path.extname(photos[i % photos.length])}`);
  for (const p of photos) fs.copyFileSync(p, path.join(webroot, 'bench-photos', path.basename(p)));
  // Each name is a photo of its own to Nextcloud (previews are per file); the pixels are one of the four.
  const originals = Object.fromEntries(names.map((n, i) => [n, path.basename(photos[i % photos.length])]));
  fs.writeFileSync(path.join(webroot, 'preview-bench.json'), JSON.stringify({ photos: '/var/www/html/bench-photos', cache: '/run/homecloud-test/bench-cache', originals, ...SETTINGS.ours }));
  const synthesized = synthesizedWeb({});
  const caFile = path.join(tmp, 'bench-ca.crt');
  fs.writeFileSync(caFile, synthesized.site.ca.certPem);
  const web = await startWebStack(synthesized.conf, { uploadLimit: '2048M', memoryLimit: '512M', pool: synthesized.pool }, { site: synthesized.site, webroot });
  // The web root is read-only, as in the pod; the stack's own folder is writable (test/web/serve.sh).
  const cache = path.join(path.dirname(web.runDir), 'bench-cache');
  const results = { onDemand: [], ahead: [] };
  try {
    for (let i = 0; i < rounds; i++) {
      fs.rmSync(cache, { recursive: true, force: true });
      fs.mkdirSync(cache, { mode: 0o777 });
      fs.chmodSync(cache, 0o777);
      results.onDemand.push(listFolder(web, caFile, names));
      // Now every thumbnail exists, as after a night of the thumbnail job.
      results.ahead.push(listFolder(web, caFile, names));
    }
  } finally {
    await web.stop();
  }
  return results;
}

module.exports = async function benchPreviews({ runs }) {
  const why = missing();
  if (why) {
    console.log(`\n## previews: skipped (${why})`);
    return undefined;
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-bench-previews-'));
  const photos = makePhotos(tmp);
  const rounds = Math.max(3, Math.min(runs, 5));
  const made = { ours: [], defaults: [] };
  for (let i = 0; i < rounds; i++) {
    for (const name of ['ours', 'defaults']) made[name].push(makeAll(photos, SETTINGS[name], path.join(tmp, `out-${name}`)));
  }
  const m = (name, kind, field) => median(made[name].map((r) => r[kind][field]));
  const perSecond = (name, kind) => 1 / m(name, kind, 'seconds');
  const perThousand = (name) => ((m(name, 'jpeg', 'bytes') + m(name, 'heic', 'bytes')) / 2) * 1000 / 2 ** 20;
  const list = await listing(photos, Math.min(rounds, 3), tmp);
  const rows = [
    ['JPEG photos/s, one core: ours (2048 px, q 70)', perSecond('ours', 'jpeg').toFixed(2)],
    ['JPEG photos/s, one core: Nextcloud (4096, q 80)', perSecond('defaults', 'jpeg').toFixed(2)],
    ['HEIC photos/s, one core: ours', perSecond('ours', 'heic').toFixed(2)],
    ['HEIC photos/s, one core: Nextcloud\'s defaults', perSecond('defaults', 'heic').toFixed(2)],
    ['previews folder per 1,000 photos: ours', `${perThousand('ours').toFixed(0)} MiB`],
    ['previews folder per 1,000 photos: defaults', `${perThousand('defaults').toFixed(0)} MiB`],
    ['folder size ratio ours/defaults', (perThousand('ours') / perThousand('defaults')).toFixed(3)],
  ];
  let ratio;
  if (list.skipped) rows.push(['200-photo folder listing', `skipped (${list.skipped})`]);
  else {
    ratio = median(list.ahead) / median(list.onDemand);
    rows.push(
      ['200 photos listed, thumbnails made on demand', `${median(list.onDemand).toFixed(2)} s`],
      ['200 photos listed, thumbnails made ahead of time', `${median(list.ahead).toFixed(2)} s`],
      ['ratio ahead/on demand (target <= 0.2)', ratio.toFixed(4)],
    );
  }
  report(`previews (a photo = its max preview + 64 and 256 square + 256 fit; median of ${rounds} runs; listing: median of ${Math.min(rounds, 3)})`, rows);
  return { made, list, ratio };
};
