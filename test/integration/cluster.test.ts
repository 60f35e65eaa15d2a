import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { MANIFEST_FILE, synth } from '../../lib/synth';
import { ControlPlane, controlPlaneAvailable, startControlPlane } from '../support/control-plane';
import { describeWhen } from '../support/requirements';
import { HOST } from '../support/stack';

// The real thing a user runs: kubectl against a real API server, with the synthesized files.
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

  it('accepts every object in a server-side dry run', () => {
    const out = cluster.kubectl(['apply', '--server-side', '--force-conflicts', '--dry-run=server', '-f', outdir]).trim().split('\n');
    expect(out.filter((l) => !l.endsWith('serverside-applied (server dry run)'))).toEqual([]);
  });

  it('gets every Deployment Available on the simulated node', () => {
    cluster.kubectl(['wait', ...ns, '--for=condition=Available', 'deployment', '--all', '--timeout=120s']);
    const available = cluster.kubectl(['get', 'deployments', ...ns, '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.availableReplicas} {end}']);
    expect(available.trim().split(' ').sort()).toEqual(['cache=1', 'database=1', 'nextcloud=1']);
  });

  it('labels the running pods the way the client selects them', () => {
    const pods = JSON.parse(cluster.kubectl(['get', 'pods', ...ns, '-l', 'app.kubernetes.io/part-of=homecloud', '-o', 'json'])).items;
    const components = pods.map((p: { metadata: { labels: Record<string, string> } }) => p.metadata.labels['app.kubernetes.io/component']).sort();
    expect(components).toEqual(['cache', 'database', 'web']);
  });

  it('binds every volume claim (through the stand-in provisioner)', () => {
    cluster.kubectl(['wait', ...ns, '--for=jsonpath={.status.phase}=Bound', 'pvc', '--all', '--timeout=60s']);
  });

  it('gives every Service a ready endpoint', () => {
    for (const svc of ['database', 'cache', 'nextcloud']) {
      const ready = cluster.kubectl(['get', 'endpointslices', ...ns, '-l', `kubernetes.io/service-name=${svc}`,
        '-o', 'jsonpath={.items[*].endpoints[?(@.conditions.ready==true)].addresses[0]}']).trim();
      expect([svc, ready]).toEqual([svc, expect.stringMatching(/^\d+\.\d+\.\d+\.\d+/)]);
    }
  });

  it('accepts the backup CronJob with its time zone', () => {
    const spec = JSON.parse(cluster.kubectl(['get', 'cronjob', 'backup', ...ns, '-o', 'json'])).spec;
    expect(spec).toMatchObject({ schedule: '30 2 * * *', timeZone: 'Europe/Berlin', concurrencyPolicy: 'Forbid' });
  });

  it('completes a Job created from the CronJob (`kubectl create job --from=cronjob/backup`)', () => {
    cluster.kubectl(['create', 'job', ...ns, 'backup-now', '--from=cronjob/backup']);
    cluster.kubectl(['wait', ...ns, '--for=condition=Complete', 'job/backup-now', '--timeout=60s']);
  });

  it('updates in place after a settings change, without immutable-field errors', () => {
    expect(synth({ backup: { time: '04:10' }, resources: { database: { memoryLimit: '768Mi' } } }, HOST,
      { outdir, credentials: path.join(work, 'credentials.json') }, () => undefined)).toBe(0);
    const out = cluster.kubectl(['apply', '-f', path.join(outdir, MANIFEST_FILE)]).trim().split('\n');
    expect(out.filter((l) => l.endsWith(' configured')).sort()).toEqual(['cronjob.batch/backup configured', 'deployment.apps/database configured']);
    expect(cluster.kubectl(['get', 'cronjob', 'backup', ...ns, '-o', 'jsonpath={.spec.schedule}'])).toBe('10 4 * * *');
    cluster.kubectl(['rollout', 'status', ...ns, 'deployment/database', '--timeout=120s']);
  });

  it('removes everything, volumes included, with `kubectl delete namespace homecloud`', () => {
    cluster.kubectl(['delete', 'namespace', 'homecloud', '--wait=true', '--timeout=120s']);
    expect(cluster.kubectl(['get', 'namespaces', '-o', 'name'])).not.toMatch(/namespace\/homecloud/);
    // The claims went with the namespace; with reclaim policy Delete their volumes follow.
    cluster.kubectl(['wait', '--for=delete', 'pv', '-l', 'homecloud-test/binder=true', '--timeout=60s']);
  });
});
