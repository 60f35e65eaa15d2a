'use strict';
// The copy outside Docker Desktop (offsite.sh: restic backup + retention + check + mirror.sh):
//  (1) the second night of an unchanged 20,000-file tree: bytes written to the folder, and wall
//      time against a bare `rsync -a` of the same unchanged tree to a folder;
//  (2) the first night of >= 1 GB of files against a bare `restic backup` of it (and against
//      `restic init` + `backup`: a first restic backup needs its repository);
//  (3) bringing a snapshot back from the copy (import.sh) against a bare copy of the snapshot.
// Medians over several rounds; each ratio's baseline runs in the same round.
// The scripts run under this machine's busybox. Current Alpine, which the images build on, ships
// 1.37, and from 1.36 on busybox's sha256sum uses the CPU's SHA instructions: with
// BENCH_BUSYBOX=/path/to/busybox (bench/fetch-busybox.sh gets Debian's build of 1.37) the first
// night's copy and the import are timed under it as well; without, the copy under OpenSSL's sha256.
require('../scripts/ts-register');
const { spawn, spawnSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { median, report } = require('./lib');
const { applets } = require('../test/support/busybox.ts');

const SCRIPTS = path.join(__dirname, '..', 'lib', 'backup', 'scripts');
const KEY = 'bench-key';

function timed(fn) {
  const start = process.hrtime.bigint();
  const out = fn();
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, out };
}

function run(cmd, args, env, cwd) {
  const r = spawnSync(cmd, args, { env, cwd, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stdout}${r.stderr}`);
  return r;
}

/** A snapshot folder as backup.sh leaves it (files + the small checksum files offsite.sh and import.sh read). */
function snapshotOf(backupDir, name, makeFiles) {
  const dir = path.join(backupDir, 'snapshots', name);
  fs.mkdirSync(path.join(dir, 'files'), { recursive: true });
  makeFiles(path.join(dir, 'files'));
  const dump = Buffer.from('dump');
  fs.writeFileSync(path.join(dir, 'database.dump'), dump);
  fs.writeFileSync(path.join(dir, 'database.sha256'), `${crypto.createHash('sha256').update(dump).digest('hex')}  database.dump\n`);
  fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify({ snapshot: name }));
  const manifest = run('busybox', ['sh', '-c', `cd files && find . -type f -print0 | sh ${SCRIPTS}/manifest.sh sum .`], { PATH: `${applets()}:/usr/bin:/bin` }, dir);
  fs.writeFileSync(path.join(dir, 'MANIFEST'), manifest.stdout);
  return dir;
}

/** PATH with busybox's applets (what the restic image's shell has); `first` goes before them. */
const busyboxPath = (first) => [first, applets(), '/usr/bin', '/bin'].filter(Boolean).join(':');

/**
 * The other way to hash for the first night's copy: BENCH_BUSYBOX's busybox (its applets first
 * on PATH, so the copy's workers run under it too), else a sha256sum that is OpenSSL's.
 */
function fasterHashing(work) {
  const dir = path.join(work, 'faster-hash');
  fs.mkdirSync(dir);
  const bin = process.env.BENCH_BUSYBOX;
  if (bin) {
    const version = /BusyBox (v[0-9.]+)/.exec(spawnSync(bin, [], { encoding: 'utf8' }).stdout || '');
    if (!version) throw new Error(`BENCH_BUSYBOX=${bin} is not a busybox binary: point it at a busybox of the image's version (1.37)`);
    run(bin, ['--install', '-s', dir]);
    return { bin, dir, label: `busybox ${version[1]}'s sha256sum (BENCH_BUSYBOX)` };
  }
  if (spawnSync('openssl', ['version']).status !== 0) return undefined;
  fs.writeFileSync(path.join(dir, 'sha256sum'), '#!/bin/sh\nexec openssl dgst -sha256 -r "$@"\n', { mode: 0o755 });
  return { bin: 'busybox', dir, label: 'sha256sum with SHA instructions (OpenSSL)' };
}

/** A night's folder shared with backup.sh, and offsite.sh's environment for it. */
function nightSetup(backupDir, folder, mode) {
  const coord = fs.mkdtempSync(path.join(backupDir, '..', 'coord-'));
  // A scrub only every 7 days: not part of a normal night.
  fs.writeFileSync(path.join(backupDir, 'scrub.json'), `{"epoch":${Math.floor(Date.now() / 1000)}}\n`);
  const env = { PATH: busyboxPath(), HOME: os.tmpdir(), BACKUP_DIR: backupDir, COORD_DIR: coord, RESTIC_PASSWORD: KEY,
    OFFSITE_MODE: mode, OFFSITE_FOLDER: folder, TERMINATION_LOG: path.join(coord, 'term'), TZ: 'UTC' };
  return { coord, env };
}

function night(backupDir, folder, name, { mode = 'cluster' } = {}) {
  const { coord, env } = nightSetup(backupDir, folder, mode);
  fs.writeFileSync(path.join(coord, 'backup.exit'), `0 ${name}\n`);
  const t = timed(() => run('busybox', ['sh', path.join(SCRIPTS, 'offsite.sh')], env));
  const result = JSON.parse(fs.readFileSync(path.join(backupDir, 'offsite.json'), 'utf8'));
  if (result.result !== 'success') throw new Error(`offsite.sh: ${result.error}`);
  return { seconds: t.seconds, bytes: result.copy.bytes };
}

/**
 * A first night as the pod runs it: offsite.sh starts beside backup.sh and creates the
 * repository while the snapshot is made. backup.sh's part is stood in for by the least it does
 * on a first night, `rsync -a` of every file into the snapshot; then offsite.sh is timed from
 * the moment the snapshot is ready (if creating the repository outlasted the stand-in, that
 * shows here). Returns that time, the stand-in's and when the repository was ready.
 */
async function firstNight(backupDir, folder, name, snap) {
  const { coord, env } = nightSetup(backupDir, folder, 'client');
  fs.rmSync(path.join(backupDir, 'snapshots', name, 'summary.json')); // not made yet
  const started = Date.now();
  const child = spawn('busybox', ['sh', path.join(SCRIPTS, 'offsite.sh')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const standIn = timed(() => run('rsync', ['-a', `${snap}/files/`, path.join(backupDir, '..', 'backup-stand-in')])).seconds;
  fs.writeFileSync(path.join(snap, 'summary.json'), JSON.stringify({ snapshot: name }));
  fs.writeFileSync(path.join(coord, 'backup.exit'), `0 ${name}\n`);
  const t = process.hrtime.bigint();
  const code = await exited;
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  if (code !== 0) throw new Error(`offsite.sh (${code}): ${out}`);
  const ready = (fs.statSync(path.join(backupDir, 'repository', 'config')).mtimeMs - started) / 1000;
  return { seconds, standIn, ready };
}

/** The off-disk transfer alone (what a night does after restic): mirror.sh copy. */
function mirror(backupDir, folder, hashing) {
  const t = timed(() => run(hashing ? hashing.bin : 'busybox', ['sh', path.join(SCRIPTS, 'mirror.sh'), 'copy', path.join(backupDir, 'repository'), folder],
    { PATH: busyboxPath(hashing && hashing.dir), HOME: os.tmpdir() }));
  const summary = Object.fromEntries(t.out.stdout.trim().split('\n').pop().split(' ').map((kv) => kv.split('=')));
  return { seconds: t.seconds, bytes: Number(summary.bytes) };
}

const stamp = (i) => `2026-11-${String(10 + i).padStart(2, '0')}T013000Z`;

module.exports = async function benchOffsite({ runs }) {
  const tools = spawnSync('sh', ['-c', 'command -v busybox && command -v rsync && command -v restic']).status === 0;
  if (!tools) {
    console.log('\n## offsite: skipped (busybox, rsync or restic missing: apt-get install busybox rsync restic)');
    return undefined;
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-bench-offsite-'));
  const rounds = Math.max(3, Math.min(runs, 5));
  try {
    // --- (1) 20,000 files, second night unchanged
    const smallTree = (dir) => {
      for (let d = 0; d < 200; d++) {
        const sub = path.join(dir, 'data', 'alice', 'files', `folder-${d}`);
        fs.mkdirSync(sub, { recursive: true });
        for (let f = 0; f < 100; f++) fs.writeFileSync(path.join(sub, `Foto ${f} Müller.jpg`), crypto.randomBytes(2048));
      }
    };
    const ours = [];
    const transfer = [];
    const bare = [];
    const written = [];
    for (let r = 0; r < rounds; r++) {
      const backupDir = path.join(work, `small-${r}`, 'backup');
      const folder = path.join(work, `small-${r}`, 'windows');
      fs.mkdirSync(folder, { recursive: true });
      const first = snapshotOf(backupDir, stamp(0), smallTree);
      night(backupDir, folder, stamp(0));
      // Night 2: backup.sh hard-links every unchanged file into the new snapshot. Its two halves
      // are timed apart: restic (+ retention), then the transfer to the folder.
      run('cp', ['-al', first, path.join(backupDir, 'snapshots', stamp(1))]);
      const inRepo = night(backupDir, folder, stamp(1), { mode: 'client' });
      const copied = mirror(backupDir, folder);
      ours.push(inRepo.seconds + copied.seconds);
      transfer.push(copied.seconds);
      written.push(copied.bytes);
      // Baseline: rsync -a of the same (unchanged) tree into a folder that already has it.
      const target = path.join(work, `small-${r}`, 'rsync');
      run('rsync', ['-a', `${first}/`, `${target}/`]);
      bare.push(timed(() => run('rsync', ['-a', `${first}/`, `${target}/`])).seconds);
      fs.rmSync(path.join(work, `small-${r}`), { recursive: true, force: true });
    }
    report('offsite: second night of an unchanged 20,000-file tree', [
      ['bytes written to the folder (median)', `${median(written)} B`],
      ['transfer to the folder (mirror.sh copy)', `${median(transfer).toFixed(2)} s`],
      ['whole night (restic + retention + transfer)', `${median(ours).toFixed(2)} s`],
      ['bare rsync -a of the unchanged tree', `${median(bare).toFixed(2)} s`],
      ['ratio transfer / rsync', `${(median(transfer) / median(bare)).toFixed(2)}x`],
      ['ratio whole night / rsync', `${(median(ours) / median(bare)).toFixed(2)}x`],
    ]);

    // --- (2) first night of >= 1 GB, and (3) bringing it back
    const bigTree = (dir) => {
      const sub = path.join(dir, 'data', 'alice', 'files', 'Videos');
      fs.mkdirSync(sub, { recursive: true });
      for (let f = 0; f < 256; f++) fs.writeFileSync(path.join(sub, `clip-${f}.mp4`), crypto.randomBytes(4 * 2 ** 20));
    };
    // Debian 12's busybox 1.35, which the plain rows use, hashes about 8x slower than 1.37.
    const faster = fasterHashing(work);
    const firstRestic = [];
    const firstStandIn = [];
    const firstReady = [];
    const firstCopy = [];
    const firstCopyFast = [];
    const firstBare = [];
    const firstBareInit = [];
    const importOurs = [];
    const importBare = [];
    const importFast = [];
    const importRotten = [];
    for (let r = 0; r < rounds; r++) {
      const root = path.join(work, `big-${r}`);
      const backupDir = path.join(root, 'backup');
      const folder = path.join(root, 'windows');
      fs.mkdirSync(folder, { recursive: true });
      const snap = snapshotOf(backupDir, stamp(0), bigTree);
      run('sync', []);
      const first = await firstNight(backupDir, folder, stamp(0), snap);
      firstRestic.push(first.seconds);
      firstStandIn.push(first.standIn);
      firstReady.push(first.ready);
      firstCopy.push(mirror(backupDir, folder).seconds);
      if (faster) {
        fs.rmSync(path.join(folder, 'repository'), { recursive: true });
        run('sync', []);
        firstCopyFast.push(mirror(backupDir, folder, faster).seconds);
      }
      const bareRepo = path.join(root, 'bare-repo');
      const env = { PATH: '/usr/bin:/bin', HOME: os.tmpdir(), RESTIC_PASSWORD: KEY, RESTIC_CACHE_DIR: path.join(root, 'cache') };
      // A first backup with restic alone creates its repository too (its key derivation is
      // calibrated then, about a second); both are timed, and reported apart.
      run('sync', []);
      firstBareInit.push(timed(() => run('restic', ['-r', bareRepo, 'init'], env)).seconds);
      run('sync', []);
      firstBare.push(timed(() => run('restic', ['-r', bareRepo, 'backup', '--quiet', snap], env)).seconds);
      fs.rmSync(bareRepo, { recursive: true });
      // (3) a new PC: import.sh from the copy, against a bare copy of the snapshot folder.
      const fresh = path.join(root, 'fresh');
      fs.mkdirSync(fresh);
      importOurs.push(timed(() => run('busybox', ['sh', path.join(SCRIPTS, 'import.sh'), path.join(folder, 'repository')],
        { PATH: busyboxPath(), HOME: os.tmpdir(), BACKUP_DIR: fresh, RESTIC_PASSWORD: KEY })).seconds);
      importBare.push(timed(() => run('cp', ['-a', snap, path.join(root, 'bare-copy')])).seconds);
      // The same copy with one bit flipped in one index file: import.sh rebuilds the index from
      // the packs on a working copy (the folder, as a kubeadm cluster mounts it, stays as it is).
      const rotten = path.join(root, 'rotten');
      fs.mkdirSync(rotten);
      run('cp', ['-a', path.join(folder, 'repository'), rotten]);
      const index = path.join(rotten, 'repository', 'index', fs.readdirSync(path.join(rotten, 'repository', 'index'))[0]);
      fs.chmodSync(index, 0o644);
      const bytes = fs.readFileSync(index);
      bytes[bytes.length >> 1] ^= 0x01;
      fs.writeFileSync(index, bytes);
      const freshRotten = path.join(root, 'fresh-rotten');
      fs.mkdirSync(freshRotten);
      run('sync', []);
      importRotten.push(timed(() => run('busybox', ['sh', path.join(SCRIPTS, 'import.sh'), path.join(rotten, 'repository')],
        { PATH: busyboxPath(), HOME: os.tmpdir(), BACKUP_DIR: freshRotten, RESTIC_PASSWORD: KEY })).seconds);
      if (faster) {
        const again = path.join(root, 'fresh-again');
        fs.mkdirSync(again);
        importFast.push(timed(() => run(faster.bin, ['sh', path.join(SCRIPTS, 'import.sh'), path.join(folder, 'repository')],
          { PATH: busyboxPath(faster.dir), HOME: os.tmpdir(), BACKUP_DIR: again, RESTIC_PASSWORD: KEY })).seconds);
      }
      fs.rmSync(root, { recursive: true, force: true });
    }
    const whole = median(firstRestic) + median(firstCopy);
    const fastWhole = median(firstRestic) + median(firstCopyFast);
    const bareFirst = median(firstBareInit) + median(firstBare);
    report('offsite: first night of 1 GiB of files (256 x 4 MiB, incompressible)', [
      ['repository created while backup.sh runs, ready after', `${median(firstReady).toFixed(2)} s`],
      ['backup.sh\'s stand-in (rsync -a of the files into the snapshot)', `${median(firstStandIn).toFixed(2)} s`],
      ['restic backup + retention once the snapshot is made (offsite.sh)', `${median(firstRestic).toFixed(2)} s`],
      ['transfer with read-back check (mirror.sh copy)', `${median(firstCopy).toFixed(2)} s`],
      ['the night\'s off-disk part, from snapshot made to copy done', `${whole.toFixed(2)} s`],
      ['bare restic backup', `${median(firstBare).toFixed(2)} s`],
      ['bare restic init + backup', `${bareFirst.toFixed(2)} s`],
      ['ratio (off-disk part / restic backup)', `${(whole / median(firstBare)).toFixed(2)}x`],
      ['ratio (off-disk part / restic init + backup)', `${(whole / bareFirst).toFixed(2)}x`],
      ...(faster ? [
        [`transfer, ${faster.label}`, `${median(firstCopyFast).toFixed(2)} s`],
        ['ratio with it (/ restic backup)', `${(fastWhole / median(firstBare)).toFixed(2)}x`],
        ['ratio with it (/ restic init + backup)', `${(fastWhole / bareFirst).toFixed(2)}x`],
      ] : []),
    ]);
    report('offsite: bringing that snapshot back from the copy (restore --from\'s import)', [
      ['import.sh (restore + verify every checksum + adopt the repository)', `${median(importOurs).toFixed(2)} s`],
      ['bare cp -a of the snapshot folder', `${median(importBare).toFixed(2)} s`],
      ['ratio (ours / cp -a)', `${(median(importOurs) / median(importBare)).toFixed(2)}x`],
      ['import.sh of the same copy with one rotten index file (rebuilt on a working copy)', `${median(importRotten).toFixed(2)} s`],
      ['ratio rotten / intact (target <= 1.5)', `${(median(importRotten) / median(importOurs)).toFixed(2)}x`],
      ...(faster ? [
        [`import.sh, ${faster.label}`, `${median(importFast).toFixed(2)} s`],
        ['ratio with it (/ cp -a)', `${(median(importFast) / median(importBare)).toFixed(2)}x`],
      ] : []),
    ]);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  return undefined;
};
