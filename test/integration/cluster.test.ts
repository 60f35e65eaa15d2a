import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { MANIFEST_FILE, synth } from '../../lib/stack/synth';
import { ControlPlane, controlPlaneAvailable, startControlPlane } from '../support/control-plane';
import { describeWhen } from '../support/requirements';
import { HOST } from '../support/stack';

const ROOT = path.join(__dirname, '..', '..');

// The real thing a user runs: kubectl against a real API server, with the synthesized files.
// What only a node decides (Deployments available, claims bound, Services' endpoints, Jobs
// completing, exec/cp/logs into containers) runs on a real node: real-node.test.ts.
describeWhen(controlPlaneAvailable(), 'kubectl apply -f dist/ on a real control plane', () => {
  let cluster: ControlPlane;
  let work: string;
  let outdir: string;
  const ns = ['-n', 'homecloud'];

  beforeAll(() => {
    cluster = startControlPlane();
    process.stderr.write(`control plane ready in ${cluster.startupSeconds}s\n`);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-apply-'));
    outdir = path.join(work, 'dist');
    // What `npm run synth` writes (test/unit/synth.test.ts runs that entry point), for a
    // fixed PC so the later settings change is the only difference.
    if (synth({}, HOST, { outdir, credentials: path.join(work, 'credentials.json') }, () => undefined) !== 0) throw new Error('synth failed');
  }, 30 * 60_000);

  afterAll(() => cluster?.stop());

  it('starts from cached binaries in well under 30 s', () => {
    expect(cluster.startupSeconds).toBeLessThan(30);
  });

  it('creates everything in one `kubectl apply -f dist/` on a fresh cluster', () => {
    const out = cluster.kubectl(['apply', '-f', outdir]).trim().split('\n');
    expect(out.length).toBe(fs.readFileSync(path.join(outdir, MANIFEST_FILE), 'utf8').split(/^---$/m).length);
    expect(out.filter((l) => !l.endsWith(' created'))).toEqual([]);
  });

  it('reports no changes on a second apply', () => {
    const out = cluster.kubectl(['apply', '-f', outdir]).trim().split('\n');
    expect(out.filter((l) => !l.endsWith(' unchanged'))).toEqual([]);
  });

  it('follows the README: synth, bom, then `kubectl apply -f dist/` and `kubectl diff -f dist/` still take the folder', () => {
    const bom = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'bom.js')], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, HOMECLOUD_OUTDIR: outdir } });
    expect(bom.status).toBe(0);
    expect(fs.existsSync(path.join(outdir, 'bom', 'bom.cdx.json'))).toBe(true);
    const out = cluster.kubectl(['apply', '-f', outdir]).trim().split('\n');
    expect(out.filter((l) => !l.endsWith(' unchanged'))).toEqual([]);
    const diff = spawnSync('kubectl', ['diff', '-f', outdir], { env: { ...process.env, KUBECONFIG: cluster.kubeconfig }, encoding: 'utf8' });
    expect([diff.status, diff.stderr]).toEqual([0, '']);
  });

  it('accepts every object in a server-side dry run', () => {
    const out = cluster.kubectl(['apply', '--server-side', '--force-conflicts', '--dry-run=server', '-f', outdir]).trim().split('\n');
    expect(out.filter((l) => !l.endsWith('serverside-applied (server dry run)'))).toEqual([]);
  });

  // The simulator the client tier's tests run on must behave as a node does in what they use.
  describe('exec, cp and logs on the simulated node (kwok Exec/Logs, see test/controlplane/pod-sim.py)', () => {
    const pod = () => cluster.kubectl(['get', 'pods', ...ns, '-l', 'app.kubernetes.io/component=web', '-o', 'jsonpath={.items[0].metadata.name}']).trim();
    beforeAll(() => {
      cluster.kubectl(['wait', ...ns, '--for=condition=Available', 'deployment/nextcloud', '--timeout=120s']);
    });

    it('runs `kubectl exec` in the container\'s own file system, with the pod\'s volumes shared between its containers', () => {
      cluster.podFolder('homecloud', pod());
      cluster.kubectl(['exec', ...ns, pod(), '-c', 'nextcloud', '--', 'sh', '-c', 'echo "from php-fpm" > /var/www/html/hello.txt']);
      expect(cluster.kubectl(['exec', ...ns, pod(), '-c', 'cron', '--', 'cat', '/var/www/html/hello.txt'])).toBe('from php-fpm\n');
      // The host's own /var/www/html is not the pod's.
      expect(fs.existsSync('/var/www/html/hello.txt')).toBe(false);
    });

    it('mounts ConfigMaps where the pod spec says, read-only', () => {
      const script = JSON.parse(cluster.kubectl(['get', 'configmap', 'nextcloud-scripts', ...ns, '-o', 'json'])).data['cron-loop.sh'];
      expect(cluster.kubectl(['exec', ...ns, pod(), '-c', 'cron', '--', 'cat', '/homecloud/cron-loop.sh'])).toBe(script);
      expect(() => cluster.kubectl(['exec', ...ns, pod(), '-c', 'cron', '--', 'touch', '/homecloud/x'])).toThrow(/Read-only file system/);
    });

    it('copies both ways with `kubectl cp`, names with umlauts and spaces intact', () => {
      const local = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-cp-'));
      const src = path.join(local, 'src');
      fs.mkdirSync(path.join(src, 'Fotos 2026'), { recursive: true });
      fs.writeFileSync(path.join(src, 'Fotos 2026', 'Geburtstag Müller.jpg'), crypto.randomBytes(300_000));
      fs.writeFileSync(path.join(src, '-leading dash.txt'), 'dash\n');
      const run = (args: string[]) => spawnSync('kubectl', args, { cwd: local, env: { ...process.env, KUBECONFIG: cluster.kubeconfig }, encoding: 'utf8' });
      expect(run(['cp', 'src', `homecloud/${pod()}:/var/www/html/copied`, '-c', 'nextcloud']).status).toBe(0);
      expect(run(['cp', `homecloud/${pod()}:/var/www/html/copied`, 'back', '-c', 'cron']).status).toBe(0);
      const tree = (dir: string): Record<string, string> => Object.fromEntries(fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })
        .filter((f) => fs.statSync(path.join(dir, f)).isFile())
        .map((f) => [f, crypto.createHash('sha256').update(fs.readFileSync(path.join(dir, f))).digest('hex')]));
      expect(tree(path.join(local, 'back'))).toEqual(tree(src));
      expect(Object.keys(tree(src))).toHaveLength(2);
    });

    it('serves `kubectl logs` (and --previous) from what the runtime wrote', () => {
      const logs = path.join(cluster.podFolder('homecloud', pod()), 'logs');
      fs.appendFileSync(path.join(logs, 'nextcloud.log'), '2026-11-27T06:00:00.000000000Z stdout F NOTICE: ready to handle connections\n');
      fs.appendFileSync(path.join(logs, 'nextcloud.log.previous'), '2026-11-27T05:00:00.000000000Z stderr F Allowed memory size exhausted\n');
      expect(cluster.kubectl(['logs', ...ns, pod(), '-c', 'nextcloud'])).toBe('NOTICE: ready to handle connections\n');
      expect(cluster.kubectl(['logs', ...ns, pod(), '-c', 'nextcloud', '--previous'])).toBe('Allowed memory size exhausted\n');
    });
  });

  it('accepts the backup CronJob with its time zone', () => {
    const spec = JSON.parse(cluster.kubectl(['get', 'cronjob', 'backup', ...ns, '-o', 'json'])).spec;
    expect(spec).toMatchObject({ schedule: '30 2 * * *', timeZone: 'Europe/Berlin', concurrencyPolicy: 'Forbid' });
  });

  it('updates in place after a settings change, without immutable-field errors', () => {
    expect(synth({ backup: { time: '04:10' }, maintenanceWindowStart: 21, resources: { database: { memoryLimit: '768Mi' } } }, HOST,
      { outdir, credentials: path.join(work, 'credentials.json') }, () => undefined)).toBe(0);
    const out = cluster.kubectl(['apply', '-f', path.join(outdir, MANIFEST_FILE)]).trim().split('\n');
    // The PostgreSQL upgrade template runs with the database's own resources, so it follows them;
    // the thumbnail job starts an hour after the backup, so it follows the backup's time.
    expect(out.filter((l) => l.endsWith(' configured')).sort()).toEqual([
      'cronjob.batch/backup configured', 'cronjob.batch/database-upgrade configured', 'cronjob.batch/previews configured', 'deployment.apps/database configured',
    ]);
    expect(cluster.kubectl(['get', 'cronjob', 'backup', ...ns, '-o', 'jsonpath={.spec.schedule}'])).toBe('10 4 * * *');
    expect(cluster.kubectl(['get', 'cronjob', 'previews', ...ns, '-o', 'jsonpath={.spec.schedule}'])).toBe('10 5 * * *');
  });

  it('removes everything, volumes included, with `kubectl delete namespace homecloud`', () => {
    cluster.kubectl(['delete', 'namespace', 'homecloud', '--wait=true', '--timeout=120s']);
    expect(cluster.kubectl(['get', 'namespaces', '-o', 'name'])).not.toMatch(/namespace\/homecloud/);
    // The claims went with the namespace; with reclaim policy Delete their volumes follow.
    cluster.kubectl(['wait', '--for=delete', 'pv', '-l', 'homecloud-test/binder=true', '--timeout=60s']);
  });
});
