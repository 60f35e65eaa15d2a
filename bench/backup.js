'use strict';
// Backups: (1) our database step (dump + full read-back verification + checksum) against a
// bare `pg_dump -Fc` of the same >= 1 GB database; (2) a second files snapshot of an
// unchanged tree of 20,000 files: wall time and the new space it takes.
require('../scripts/ts-register');
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { median, report } = require('./lib');
const { postgresAvailable, startPostgres } = require('../test/support/postgres.ts');
const { applets } = require('../test/support/busybox.ts');

const SCRIPTS = path.join(__dirname, '..', 'lib', 'backup', 'scripts');

function timed(fn) {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}


function run(cmd, args, env) {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stdout}${r.stderr}`);
  return r;
}

module.exports = async function benchBackup({ runs }) {
  const pgOk = postgresAvailable();
  const bb = spawnSync('sh', ['-c', 'command -v busybox && command -v rsync']).status === 0;
  if (!pgOk.ok || !bb) {
    console.log(`\n## backup: skipped (${pgOk.ok ? 'busybox or rsync missing' : pgOk.reason})`);
    return undefined;
  }
  const pg = await startPostgres();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-bench-backup-'));
  const bbDir = applets();
  try {
    // --- database: build a >= 1 GB database
    pg.psql('CREATE DATABASE nextcloud');
    const created = timed(() => pg.psql(`CREATE TABLE oc_filecache AS
      SELECT g AS fileid, 'files/' || md5(g::text) || '/' || md5((g * 7)::text) || '.jpg' AS path,
             md5((g * 3)::text) || md5((g * 5)::text) || md5((g * 11)::text) AS etag, g::bigint * 1024 AS size
      FROM generate_series(1, 5000000) g;`, 'nextcloud'));
    const bytes = Number(pg.psql("SELECT pg_database_size('nextcloud')"));
    const env = { ...process.env, ...pg.env, PGDATABASE: 'nextcloud' };
    const rounds = Math.max(3, Math.min(runs, 5));
    const bare = [];
    const ours = [];
    for (let i = 0; i < rounds; i++) {
      const out = path.join(work, 'bare.dump');
      bare.push(timed(() => run(path.join(pg.bin, 'pg_dump'), ['-Fc', `--file=${out}`], env)));
      fs.rmSync(out);
      const coord = fs.mkdtempSync(path.join(work, 'coord-'));
      const target = fs.mkdtempSync(path.join(work, 'snap-'));
      fs.writeFileSync(path.join(coord, 'start'), target);
      ours.push(timed(() => run('busybox', ['sh', path.join(SCRIPTS, 'dump-database.sh')],
        { ...env, COORD_DIR: coord, PATH: [pg.bin, bbDir, '/usr/bin', '/bin'].join(':') })));
      fs.rmSync(target, { recursive: true });
    }
    report(`backup: database step on a ${(bytes / 2 ** 30).toFixed(2)} GiB database (built in ${created.toFixed(0)} s), median of ${rounds}`, [
      ['bare pg_dump -Fc', `${median(bare).toFixed(1)} s`],
      ['dump-database.sh (dump + full verify + sha256)', `${median(ours).toFixed(1)} s`],
      ['ratio ours / bare (target <= 2.0)', (median(ours) / median(bare)).toFixed(2)],
    ]);

    // --- files: 20,000 files, then a second snapshot of the unchanged tree
    const webroot = path.join(work, 'html');
    for (let d = 0; d < 200; d++) {
      const dir = path.join(webroot, 'data', 'alice', 'files', `album-${d}`);
      fs.mkdirSync(dir, { recursive: true });
      for (let f = 0; f < 100; f++) fs.writeFileSync(path.join(dir, `photo-${f}.jpg`), `photo ${d}/${f} `.repeat(64));
    }
    fs.mkdirSync(path.join(webroot, 'config'));
    fs.writeFileSync(path.join(webroot, 'config', 'config.php'), '<?php');
    pg.psql('CREATE DATABASE small');
    const doubles = path.join(work, 'bin');
    fs.mkdirSync(doubles);
    fs.writeFileSync(path.join(doubles, 'occ'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    // HASH_JOBS as the files container gets it (2, from its CPU limit), and one at a time as the
    // baseline in the same run.
    const nightly = (backupDir, hashJobs) => {
      const coord = fs.mkdtempSync(path.join(work, 'coord-'));
      const base = { LANG: 'C', HOME: work, BACKUP_DIR: backupDir, COORD_DIR: coord, NEXTCLOUD_WEBROOT: webroot,
        OCC: path.join(doubles, 'occ'), DUMP_WAIT_SECONDS: '600', HASH_JOBS: hashJobs };
      const db = require('child_process').spawn('busybox', ['sh', path.join(SCRIPTS, 'dump-database.sh')],
        { env: { ...base, ...pg.env, PGDATABASE: 'small', PATH: [pg.bin, bbDir, '/usr/bin', '/bin'].join(':') }, stdio: 'ignore' });
      const seconds = timed(() => run('busybox', ['sh', path.join(SCRIPTS, 'backup.sh')], { ...base, PATH: [doubles, bbDir, '/usr/bin', '/bin'].join(':') }));
      return new Promise((resolve) => db.on('exit', () => resolve(seconds)));
    };
    const twoNights = async (hashJobs) => {
      const backupDir = path.join(work, `backup-${hashJobs}`);
      const first = await nightly(backupDir, hashJobs);
      await new Promise((r) => setTimeout(r, 1100));
      const second = await nightly(backupDir, hashJobs);
      const snaps = fs.readdirSync(path.join(backupDir, 'snapshots')).sort();
      return { first, second, summary: JSON.parse(fs.readFileSync(path.join(backupDir, 'snapshots', snaps[snaps.length - 1], 'summary.json'), 'utf8')) };
    };
    const serial = await twoNights('1');
    const { first, second, summary } = await twoNights('2');
    report('backup: files snapshot of 20,000 unchanged files (one run each)', [
      ['first snapshot (full copy), 2 checksums at once', `${first.toFixed(1)} s`],
      ['second snapshot (unchanged tree, incl. verifying the first), 2 at once', `${second.toFixed(1)} s`],
      ['the same, one checksum at a time (HASH_JOBS=1)', `${serial.first.toFixed(1)} s / ${serial.second.toFixed(1)} s`],
      ['ratio 2 at once / 1 at a time (first / second)', `${(first / serial.first).toFixed(2)}x / ${(second / serial.second).toFixed(2)}x`],
      ['files changed in the second', String(summary.files.changed)],
      ['new space taken by the second (folders only)', `${summary.files.newKib} KiB of ${summary.files.kib} KiB`],
    ]);
    return { bare, ours, first, second, serial, summary };
  } finally {
    pg.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
};
