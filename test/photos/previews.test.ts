import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Duration } from 'cdk8s';
import { resolveSettings } from '../../lib/config/resolve-settings';
import { calls, fakeCommand, runScript, startScript } from '../support/busybox';
import { TestPostgres, postgresAvailable, startPostgres } from '../support/postgres';
import { commands, describeWhen, phpExtensions } from '../support/requirements';
import { HOST, K8sObject, synthStack } from '../support/stack';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'hc-previews-'));
const envOf = (c: K8sObject) => Object.fromEntries(c.env.map((e: K8sObject) => [e.name, e.value]));

describe('the nightly thumbnail job in the manifests', () => {
  const stack = synthStack();
  const cron = stack.get('CronJob', 'previews');
  const job = cron.spec.jobTemplate.spec;
  const pod = job.template.spec;
  const c = pod.containers[0];

  it('starts an hour after the backup, in the family\'s time zone, never twice at once, and skips a night the PC slept through', () => {
    expect(stack.get('CronJob', 'backup').spec.schedule).toBe('30 2 * * *');
    expect(cron.spec).toMatchObject({ schedule: '30 3 * * *', timeZone: 'Europe/Berlin', concurrencyPolicy: 'Forbid', startingDeadlineSeconds: 3600 });
  });

  it('has a CPU limit of one core and a time limit: the script stops itself at 2 h, Kubernetes 5 minutes later', () => {
    expect(c.resources.limits).toEqual({ cpu: '1', memory: '384Mi' });
    expect(envOf(c)).toMatchObject({ TIME_LIMIT_SECONDS: '7200', PHP_MEMORY_LIMIT: '320M', BACKUP_DIR: '/backup' });
    expect(job.activeDeadlineSeconds).toBe(7200 + 300);
    // ImageMagick's own memory (HEIC) is not PHP's: past 64 MiB it works in /tmp, which has room.
    expect(envOf(c)).toMatchObject({ MAGICK_MEMORY_LIMIT: '64MiB', MAGICK_MAP_LIMIT: '128MiB', MAGICK_TEMPORARY_PATH: '/tmp' });
    expect(pod.volumes.find((v: K8sObject) => v.name === 'tmp').emptyDir.sizeLimit).toBe('1Gi');
    expect(job.backoffLimit).toBe(0);
  });

  it('sees the backup volume read-only (only its lock), and may reach the database and the cache', () => {
    expect(c.volumeMounts).toContainEqual({ name: 'backup', mountPath: '/backup', readOnly: true });
    expect(pod.volumes.find((v: K8sObject) => v.name === 'backup').persistentVolumeClaim).toEqual({ claimName: 'backup-data', readOnly: true });
    const labels = job.template.metadata.labels;
    for (const policy of ['database-clients', 'cache-clients']) {
      const from = stack.get('NetworkPolicy', policy).spec.ingress[0].from.map((f: K8sObject) => f.podSelector.matchLabels);
      expect(from.some((m: Record<string, string>) => Object.entries(m).every(([k, v]) => labels[k] === v))).toBe(true);
    }
  });

  it('installs the previewgenerator app with the family\'s apps, and neither when switched off', () => {
    const apps = (s: K8sObject) => envOf(s.get('Deployment', 'nextcloud').spec.template.spec.containers.find((x: K8sObject) => x.name === 'nextcloud')).HOMECLOUD_APPS;
    expect(apps(stack)).toBe('contacts calendar tasks notes previewgenerator notify_push');
    const off = synthStack({ previews: { makeAhead: false } });
    expect(apps(off)).toBe('contacts calendar tasks notes notify_push');
    expect(off.objects.some((o: K8sObject) => o.kind === 'CronJob' && o.metadata.name === 'previews')).toBe(false);
  });

  it('refuses a time limit that would reach the next backup, and a quality or size out of range, naming the setting', () => {
    const problems = (previews: object) => {
      try { resolveSettings({ previews } as never, HOST); return ''; } catch (e) { return (e as Error).message; }
    };
    expect(problems({ time: '23:00', timeLimit: Duration.hours(4) })).toMatch(/previews\.timeLimit.*starting at 23:00, the thumbnail job would still run when the backup starts at 02:30; shorten it to under 3\.5 h/);
    expect(problems({ quality: 0 })).toMatch(/previews\.quality.*1 to 100/);
    expect(problems({ maxSize: 100000 })).toMatch(/previews\.maxSize.*512 to 8192/);
    expect(problems({ time: '3:30' })).toMatch(/previews\.time.*HH:MM/);
    expect(problems({ time: '04:00', timeLimit: Duration.hours(3) })).toBe('');
  });
});

/** A Nextcloud web root with photos, an occ double and a stand-in for the waiting count. */
function fixture(o: { generateAll?: 'finishes' | 'never-ends' | 'fails'; status?: string; waiting?: string } = {}) {
  const root = tmp();
  const webroot = path.join(root, 'html');
  const photos = path.join(webroot, 'data', 'alice', 'files', 'Photos');
  fs.mkdirSync(path.join(webroot, 'config'), { recursive: true });
  fs.mkdirSync(photos, { recursive: true });
  for (const n of ['a.jpg', 'b.heic', 'c.jpg']) fs.writeFileSync(path.join(photos, n), `photo ${n} `.repeat(1000));
  const backupDir = path.join(root, 'backup');
  fs.mkdirSync(backupDir);
  const previews = path.join(webroot, 'data', 'appdata_x', 'preview');
  fs.mkdirSync(previews, { recursive: true });
  const statusJson = o.status ?? '{"installed":true,"version":"34.0.1.2","maintenance":false,"needsDbUpgrade":false}';
  const generateAll = {
    finishes: `for f in ${photos}/*; do echo preview > "${previews}/$(basename "$f").jpg"; done`,
    // Makes previews one by one and never ends: the time limit has to stop it.
    'never-ends': `for f in ${photos}/*; do echo preview > "${previews}/$(basename "$f").jpg"; done; exec sleep 1000`,
    fails: 'echo "Doctrine error" >&2; exit 3',
  }[o.generateAll ?? 'finishes'];
  const occLog = fakeCommand(root, 'occ', `
case "$1" in
  status) echo '${statusJson}' ;;
  preview:pre-generate) : ;;
  preview:generate-all) ${generateAll} ;;
esac`);
  fakeCommand(root, 'count-waiting', `echo ${o.waiting ?? '3'}`);
  const env = (extra: Record<string, string> = {}) => ({
    OCC: path.join(root, 'occ'), NEXTCLOUD_WEBROOT: webroot, BACKUP_DIR: backupDir, TIME_LIMIT_SECONDS: '600',
    TERMINATION_LOG: path.join(root, 'termination-log'), COUNT_WAITING: path.join(root, 'count-waiting'), POLL_SECONDS: '1', ...extra,
  });
  const summary = () => JSON.parse(fs.readFileSync(path.join(root, 'termination-log'), 'utf8'));
  const occCalls = () => calls(occLog).filter((l) => l.startsWith('preview:'));
  const photoHashes = () => fs.readdirSync(photos).map((n) => createHash('sha256').update(fs.readFileSync(path.join(photos, n))).digest('hex'));
  return { root, webroot, backupDir, env, summary, occCalls, photoHashes };
}

describeWhen(commands(['busybox'], 'apt-get install busybox'), 'previews.sh under busybox sh', () => {
  it('makes the previews of new photos, goes through the library once, and says how many photos wait', () => {
    const f = fixture();
    const run = runScript('photos/previews.sh', { env: f.env() });
    expect([run.status, run.stderr]).toEqual([0, '']);
    expect(f.occCalls()).toEqual(['preview:pre-generate', 'preview:generate-all']);
    expect(f.summary()).toMatchObject({ result: 'done', waiting: 3, caughtUp: true });
    expect(run.stdout).toMatch(/the whole library has its previews/);
    // The nights after: new photos only.
    runScript('photos/previews.sh', { env: f.env() });
    expect(f.occCalls()).toEqual(['preview:pre-generate', 'preview:generate-all', 'preview:pre-generate']);
  });

  it('stops at its time limit without touching a photo, and goes on through the library the next night', () => {
    const f = fixture({ generateAll: 'never-ends' });
    const before = f.photoHashes();
    const run = runScript('photos/previews.sh', { env: f.env({ TIME_LIMIT_SECONDS: '2' }) });
    expect(run.status).toBe(0);
    expect(f.summary()).toMatchObject({ result: 'stopped', reason: expect.stringMatching(/time limit.*tomorrow night/), caughtUp: false });
    expect(f.photoHashes()).toEqual(before);
    expect(fs.existsSync(path.join(f.webroot, '.homecloud-previews-caught-up'))).toBe(false);
    // The next night (a library that now finishes in time) goes on and is caught up.
    fs.writeFileSync(path.join(f.root, 'occ'), fs.readFileSync(path.join(f.root, 'occ'), 'utf8').replace('exec sleep 1000', ':'));
    runScript('photos/previews.sh', { env: f.env() });
    expect(f.summary()).toMatchObject({ result: 'done', caughtUp: true });
    expect(f.occCalls().filter((c) => c === 'preview:generate-all')).toHaveLength(2);
  });

  it('waits while the night\'s backup runs, and starts when it ends', async () => {
    const f = fixture();
    const lock = path.join(f.backupDir, '.lock');
    fs.mkdirSync(lock);
    fs.writeFileSync(path.join(lock, 'beat'), String(Math.floor(Date.now() / 1000)));
    const child = startScript('photos/previews.sh', { env: f.env() });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    const ended = new Promise<number | null>((resolve) => child.on('exit', resolve));
    while (!out.includes('waiting for it to end')) await new Promise((r) => setTimeout(r, 50));
    expect(f.occCalls()).toEqual([]);
    fs.rmSync(lock, { recursive: true });
    expect(await ended).toBe(0);
    expect(f.occCalls()[0]).toBe('preview:pre-generate');
  });

  it('does not wait for the lock of a backup that was killed (no beat for ten minutes)', () => {
    const f = fixture();
    fs.mkdirSync(path.join(f.backupDir, '.lock'));
    fs.writeFileSync(path.join(f.backupDir, '.lock', 'beat'), String(Math.floor(Date.now() / 1000) - 700));
    const run = runScript('photos/previews.sh', { env: f.env() });
    expect(run.stdout).not.toMatch(/backup is running/);
    expect(f.summary().result).toBe('done');
  });

  it('skips the night when the backup outlasts its time limit', () => {
    const f = fixture();
    fs.mkdirSync(path.join(f.backupDir, '.lock'));
    fs.writeFileSync(path.join(f.backupDir, '.lock', 'beat'), String(Math.floor(Date.now() / 1000) + 3600));
    const run = runScript('photos/previews.sh', { env: f.env({ TIME_LIMIT_SECONDS: '2' }) });
    expect(run.status).toBe(0);
    expect(f.summary()).toMatchObject({ result: 'skipped', reason: expect.stringMatching(/backup was still running/) });
    expect(f.occCalls()).toEqual([]);
  });

  it('skips while Nextcloud is in maintenance mode (an upgrade, a restore) or not installed yet', () => {
    for (const [status, why] of [
      ['{"installed":true,"maintenance":true}', /maintenance mode/],
      ['{"installed":false}', /not installed yet/],
    ] as const) {
      const f = fixture({ status });
      expect(runScript('photos/previews.sh', { env: f.env() }).status).toBe(0);
      expect(f.summary()).toMatchObject({ result: 'skipped', reason: expect.stringMatching(why) });
      expect(f.occCalls()).toEqual([]);
    }
  });

  it('fails the job, saying so, when occ fails', () => {
    const f = fixture({ generateAll: 'fails' });
    const run = runScript('photos/previews.sh', { env: f.env() });
    expect(run.status).toBe(1);
    expect(f.summary()).toMatchObject({ result: 'failed', reason: expect.stringMatching(/generate-all failed \(exit code 3\)/) });
  });
});

const pgReady = (() => {
  const pg = postgresAvailable();
  const php = phpExtensions(['pdo_pgsql'], 'apt-get install php-cli php-pgsql');
  return { ok: pg.ok && php.ok, reason: [pg.ok ? '' : pg.reason, php.ok ? '' : php.reason].filter(Boolean).join('; ') };
})();

describeWhen(pgReady, 'the count of photos waiting for thumbnails (previews-waiting.php, real PostgreSQL)', () => {
  let pg: TestPostgres;
  beforeAll(async () => { pg = await startPostgres(); });
  afterAll(() => pg?.stop());

  it('counts the family\'s photos without a preview: not other files, not the trash, not external storage', () => {
    // The columns of Nextcloud's tables that the count reads.
    pg.psql(`
      CREATE TABLE oc_storages (numeric_id bigint PRIMARY KEY, id varchar(64));
      CREATE TABLE oc_mimetypes (id bigint PRIMARY KEY, mimetype varchar(255));
      CREATE TABLE oc_filecache (fileid bigint PRIMARY KEY, storage bigint, path varchar(4000), mimetype bigint);
      CREATE TABLE oc_previews (id bigint PRIMARY KEY, file_id bigint, width int, height int);
      INSERT INTO oc_storages VALUES (1, 'home::alice'), (2, 'home::bob'), (3, 'local::/mnt/usb/');
      INSERT INTO oc_mimetypes VALUES (10, 'image/jpeg'), (11, 'image/heic'), (12, 'application/pdf'), (13, 'image/png'), (14, 'video/mp4');
      INSERT INTO oc_filecache VALUES
        (100, 1, 'files/Photos/a.jpg', 10), (101, 1, 'files/Photos/b.heic', 11), (102, 1, 'files_trashbin/files/c.jpg', 10),
        (103, 1, 'files/letter.pdf', 12), (104, 2, 'files/SMS/d.png', 13), (105, 3, 'files/e.jpg', 10), (106, 2, 'files/v.mp4', 14),
        (107, 1, 'files_versions/Photos/a.jpg.v1', 10);
      INSERT INTO oc_previews VALUES (1, 100, 256, 256), (2, 100, 2048, 1536);`);
    const dir = tmp();
    const config = path.join(dir, 'config.php');
    fs.writeFileSync(config, `<?php\n$CONFIG = ['dbtype' => 'pgsql', 'dbhost' => '127.0.0.1:${pg.port}', 'dbname' => 'postgres', 'dbuser' => '${pg.user}', 'dbpassword' => '${pg.password}', 'dbtableprefix' => 'oc_'];\n`);
    const script = path.join(__dirname, '..', '..', 'lib', 'photos', 'scripts', 'previews-waiting.php');
    const r = spawnSync('php', [script, config], { encoding: 'utf8' });
    expect([r.status, r.stderr, r.stdout]).toEqual([0, '', '2\n']); // b.heic and d.png
    // The job's summary carries that count.
    const f = fixture();
    fs.copyFileSync(config, path.join(f.webroot, 'config', 'config.php'));
    runScript('photos/previews.sh', { env: f.env({ COUNT_WAITING: `php ${script}` }) });
    expect(f.summary().waiting).toBe(2);
  });
});

const heicReady = (() => {
  const php = phpExtensions(['imagick', 'gd'], 'apt-get install php-imagick php-gd');
  const enc = commands(['heif-enc'], 'apt-get install libheif-examples');
  const heic = php.ok && spawnSync('php', ['-r', 'echo in_array("HEIC", Imagick::queryFormats()) ? "yes" : "no";'], { encoding: 'utf8' }).stdout === 'yes';
  return {
    ok: php.ok && enc.ok && heic,
    reason: [php.ok ? '' : php.reason, enc.ok ? '' : enc.reason, !php.ok || heic ? '' : "this ImageMagick has no HEIC module (Debian's libmagickcore-6.q16-6-extra)"].filter(Boolean).join('; '),
  };
})();

describeWhen(heicReady, 'iPhone photos (HEIC) get thumbnails through PHP\'s imagick', () => {
  it('reads a real HEIC file and makes the 2048 px preview and the 256 px thumbnails, with the photo\'s colours', () => {
    const dir = tmp();
    // A photo-like picture: a left half red, a right half blue, 1600 x 1200, then HEIC as an iPhone saves it.
    const jpeg = path.join(dir, 'IMG_0001.jpg');
    spawnSync('php', ['-r', `$i = new Imagick(); $i->newPseudoImage(1200, 1600, "gradient:red-blue"); $i->rotateImage("white", -90); $i->setImageFormat("jpeg"); $i->writeImage("${jpeg}");`]);
    const heic = path.join(dir, 'IMG_0001.heic');
    const enc = spawnSync('heif-enc', ['-q', '50', '-o', heic, jpeg], { encoding: 'utf8' });
    expect(enc.status).toBe(0);
    expect(fs.readFileSync(heic).subarray(4, 12).toString('latin1')).toBe('ftypheic');
    const out = path.join(dir, 'out');
    fs.mkdirSync(out);
    const make = path.join(__dirname, '..', '..', 'bench', 'previews', 'make-previews.php');
    const r = spawnSync('php', [make, out, '2048', '70', '64s,256s,256', heic], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const made = JSON.parse(r.stdout);
    expect(Object.keys(made.bytes).sort()).toEqual(['256', '256s', '64s', 'max']);
    const probe = (file: string) => JSON.parse(spawnSync('php', ['-r', `$i = imagecreatefromjpeg("${file}"); $w = imagesx($i); $h = imagesy($i);
      $l = imagecolorsforindex($i, imagecolorat($i, 2, (int) ($h / 2))); $r = imagecolorsforindex($i, imagecolorat($i, $w - 3, (int) ($h / 2)));
      echo json_encode([$w, $h, $l["red"] > 150 && $l["blue"] < 100, $r["blue"] > 150 && $r["red"] < 100]);`], { encoding: 'utf8' }).stdout);
    // Not upscaled (the photo is smaller than 2048), and the colours of the photo on each side.
    expect(probe(path.join(out, 'IMG_0001.heic-max.jpg'))).toEqual([1600, 1200, true, true]);
    expect(probe(path.join(out, 'IMG_0001.heic-256.jpg'))).toEqual([256, 192, true, true]);
    expect(probe(path.join(out, 'IMG_0001.heic-256s.jpg'))).toEqual([256, 256, true, true]);
  });
});
