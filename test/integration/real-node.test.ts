import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { RealNode, StorageMode, realNodeAvailable, realNodeLeftovers, startRealNode } from '../support/real-node';
import { FamilyCloud, MINUTES } from '../support/real-node-family';
import { describeWhen } from '../support/requirements';

const NS = ['-n', 'homecloud'];

/** Names a family's files really have: accents, emoji, quotes, an ampersand, spaces. */
const HARD_NAME = 'Fotos/Sommer 2026/Ärger & "Glück" – Kind #1 🙂.jpg';

/**
 * The README's path on a real node (kubelet + containerd, the stand-in images of
 * test/realnode/README.md), in each of Docker Desktop's storage modes: deploy → status →
 * family data → backup (real pods, the copy in a PC folder) → restore → namespace deleted and
 * restore --from the folder → uninstall; and the plain `kubectl apply -f dist/` path.
 */
describe.each<StorageMode>(['hostpath', 'local-path'])('the README path on a real node (%s storage)', (storage) => {
  describeWhen(realNodeAvailable(), `a real node with ${storage} storage`, () => {
    let node: RealNode;
    let family: FamilyCloud;
    let saved: { tables: Record<string, string>; files: string };
    const homecloud = (args: string[], timeout?: number) => family.homecloud(args, timeout);
    const exec = (target: string, container: string, cmd: string[], input?: string | Buffer) => family.exec(target, container, cmd, input);
    const psql = (sql: string) => family.psql(sql);
    const waitGone = (args: string[]) => node.kubectl(['wait', '--for=delete', ...args, '--timeout=600s']);
    /** Volumes and the provisioner's folders for them (its own root folder stays, as on Docker Desktop). */
    const volumesLeft = () => {
      const root = path.join(node.dir, 'storage', storage === 'hostpath' ? 'k8s-pvs' : '');
      return { pvs: node.kubectl(['get', 'pv', '-o', 'name']).trim(), folders: fs.existsSync(root) ? fs.readdirSync(root) : [] };
    };
    /** What is left once the provisioner had up to a minute to delete the released volumes. */
    const volumesLeftAfterCleanup = () => {
      let left = volumesLeft();
      for (let i = 0; i < 60 && (left.pvs || left.folders.length); i++) {
        node.run(['sleep', '1']);
        left = volumesLeft();
      }
      return left;
    };

    beforeAll(() => {
      // (80 minutes: another test file's node may hold the machine's one node for most of an hour)
    node = startRealNode(storage);
      family = new FamilyCloud(node);
      // Both forms of reference the manifests carry: kind mode runs pinned by digest (as after
      // `npm run update`), kubeadm mode by tag.
      if (storage === 'local-path') family.pinImagesByDigest();
    }, 80 * MINUTES);
    afterAll(() => {
      node?.stop();
      family?.remove();
      expect(realNodeLeftovers()).toBe('');
    });

    it('npm run deploy waits until every part is ready and says so', () => {
      const r = homecloud(['deploy']);
      expect(r.all).toMatch(/ready/i);
      expect(r.code).toBe(0);
      const pods = JSON.parse(node.kubectl(['get', 'pods', ...NS, '-o', 'json'])).items as Array<{
        spec: { containers: Array<{ image: string }> };
        status: { containerStatuses: Array<{ name: string; ready: boolean; containerID: string; restartCount: number }> };
      }>;
      const containers = pods.flatMap((p) => p.status.containerStatuses);
      expect(containers.map((c) => c.name).sort()).toEqual(['certificates', 'cron', 'egress', 'nextcloud', 'postgres', 'push', 'valkey', 'web']);
      for (const c of containers) expect([c.name, c.ready, c.containerID.split(':')[0]]).toEqual([c.name, true, 'containerd']);
      const images = pods.flatMap((p) => p.spec.containers.map((c) => c.image));
      expect(images.every((i) => /@sha256:[0-9a-f]{64}$/.test(i))).toBe(storage === 'local-path');
    });

    it('runs every container as the user the image contract says, on the files it owns', () => {
      expect(exec('deploy/nextcloud', 'web', ['id', '-u']).trim()).toBe('101');
      expect(exec('deploy/nextcloud', 'cron', ['id', '-u']).trim()).toBe('82');
      expect(exec('deploy/cache', 'valkey', ['id', '-u']).trim()).toBe('999');
      expect(exec('deploy/egress', 'egress', ['id', '-u']).trim()).toBe('13');
      expect(exec('deploy/database', 'postgres', ['stat', '-c', '%u %a', '/var/lib/postgresql/18/docker']).trim()).toBe('70 700');
      expect(exec('deploy/nextcloud', 'nextcloud', ['stat', '-c', '%u', '/var/www/html/config/config.php']).trim()).toBe('82');
      // The web container's root file system is read-only.
      expect(node.run(['kubectl', 'exec', ...NS, 'deploy/nextcloud', '-c', 'web', '--', 'touch', '/etc/x']).status).not.toBe(0);
    });

    // The Nextcloud image's stop signal is SIGQUIT (php-fpm's): the loops homecloud runs in it
    // as a container's first process must end on it, or every stop waits out the grace period.
    it('stops the loops in the Nextcloud image with that image\'s stop signal', () => {
      // The container may end before `kill` returns, taking the exec session with it (exit 137):
      // what counts is how the container ended, read below.
      for (const c of ['cron', 'certificates', 'push']) node.run(['kubectl', 'exec', ...NS, 'deploy/nextcloud', '-c', c, '--', 'kill', '-QUIT', '1']);
      const restarted = () => JSON.parse(node.kubectl(['get', 'pods', ...NS, '-l', 'app.kubernetes.io/component=web', '-o', 'json'])).items[0]
        .status.containerStatuses.filter((c: { name: string }) => ['cron', 'certificates', 'push'].includes(c.name))
        .map((c: { name: string; lastState: { terminated?: { exitCode: number } } }) => [c.name, c.lastState.terminated?.exitCode]);
      for (let i = 0; i < 60 && restarted().some(([, code]: [string, number | undefined]) => code === undefined); i++) node.run(['sleep', '1']);
      expect(restarted()).toEqual([['certificates', 0], ['cron', 0], ['push', 0]]);
      family.ready();
    });

    it('npm run status says the home cloud is healthy, from real probes', () => {
      const r = homecloud(['status']);
      expect(r.out).toMatch(/Your home cloud is healthy/);
      for (const part of ['Nextcloud', 'Database', 'Cache', 'Way out']) expect(r.out).toMatch(new RegExp(`✔ ${part}\\s+is ready`));
      expect(r.code).toBe(0);
    });

    it('lets Nextcloud out only through the egress point, which refuses what the settings do not allow, and status lists it', () => {
      // Nextcloud's config.php, as the privacy hook left it: its requests go to the egress Service.
      const config = exec('deploy/nextcloud', 'cron', ['php', '-r', 'include "/var/www/html/config/config.php"; echo json_encode([$CONFIG["proxy"], $CONFIG["updatechecker"], $CONFIG["lookup_server"]]);']);
      expect(JSON.parse(config)).toEqual(['egress:3128', false, '']);
      // A request from the Nextcloud pod, through the proxy it names, for a host nobody allowed.
      const tried = exec('deploy/nextcloud', 'cron', ['sh', '-c', 'http_proxy=http://egress:3128 wget -q -O /dev/null http://tracker.example.org/collect 2>&1; echo "exit $?"']);
      expect(tried).toMatch(/403|Forbidden/);
      const r = homecloud(['status']);
      expect(r.out).toMatch(/Outside the home \(last 7 days, through the egress point\):[\s\S]*refused: tracker\.example\.org 1× by the home cloud \(not allowed/);
      const json = JSON.parse(homecloud(['status', '--output', 'json']).out);
      // This node's kube-proxy masquerades all Service traffic (node.sh), so the egress point sees the
      // node's address, not the Nextcloud pod's: the ledger says "the home cloud" rather than guess.
      expect(json.egress.refused).toEqual([expect.objectContaining({ host: 'tracker.example.org', count: 1, by: ['the home cloud'] })]);
    });

    it('keeps the family\'s rows and files', () => {
      const admin = family.admin();
      psql("CREATE TABLE family_notes (id serial PRIMARY KEY, body text, photo bytea); INSERT INTO family_notes (body, photo) SELECT 'Notiz ' || g || ' – Grüße 🙂', decode(md5(g::text), 'hex') FROM generate_series(1, 500) g");
      family.writeFamilyFile(HARD_NAME, randomBytes(3 * 1024 * 1024));
      family.writeFamilyFile('Documents/Steuer 2025.pdf', randomBytes(200 * 1024));
      exec('deploy/nextcloud', 'cron', ['php', '/var/www/html/occ', 'files:scan', '--all']);
      saved = { tables: family.tableDigests(), files: family.fileSums() };
      expect(saved.tables.family_notes).toMatch(/^500 /);
      expect(saved.files).toContain(`./${admin}/files/${HARD_NAME}`);
    });

    it('npm run backup runs the nightly job in real pods: dump, snapshot and the copy in the PC folder', () => {
      const r = homecloud(['backup']);
      expect(r.all).not.toMatch(/FAILED/);
      expect(r.code).toBe(0);
      // The Job asks the API server who holds the maintenance lock (lease.sh, with its own token).
      // This test cluster's API server listens on the host's loopback, which no pod reaches
      // (Docker Desktop's does: the in-cluster address): the backup goes on without the lock
      // and says so, as a family's night does when the API server does not answer. (Reaching
      // it is tested against the real API server: test/integration/maintenance.test.ts.)
      const job = node.kubectl(['get', 'jobs', '-n', 'homecloud', '-o', 'name']).split('\n').filter((j) => /backup-manual-/.test(j)).pop()!;
      const log = node.kubectl(['logs', '-n', 'homecloud', job, '-c', 'files']);
      expect(log).toMatch(/backup: backing up without the maintenance lock: [\s\S]*the maintenance lock could not be read \(HTTP 000\)\n[\s\S]*backup: done/);
      expect(fs.existsSync(path.join(family.pcFolder, 'repository', 'config'))).toBe(storage === 'hostpath');
    });

    it('npm run restore puts back the newest snapshot', () => {
      psql('DELETE FROM family_notes WHERE id <= 100');
      exec('deploy/nextcloud', 'cron', ['rm', `/var/www/html/data/${family.admin()}/files/${HARD_NAME}`]);
      const r = homecloud(['restore', '--yes']);
      expect(r.code).toBe(0);
      family.ready();
      expect(family.tableDigests()).toEqual(saved.tables);
      expect(family.fileSums()).toBe(saved.files);
    });

    it('after the namespace is deleted, restore --from the PC folder brings everything back', () => {
      if (storage === 'local-path') {
        // kind mode: the PC makes the copy (npm run offsite), not the cluster.
        const copy = homecloud(['offsite']);
        expect(copy.code).toBe(0);
      }
      node.kubectl(['delete', 'namespace', 'homecloud', '--wait=false']);
      waitGone(['namespace/homecloud']);
      const r = homecloud(['restore', '--from', family.pcFolder, '--yes']);
      expect(r.code).toBe(0);
      family.ready();
      expect(family.tableDigests()).toEqual(saved.tables);
      expect(family.fileSums()).toBe(saved.files);
    });

    it('npm run uninstall leaves no pod, claim, volume or provisioner folder behind', () => {
      const r = homecloud(['uninstall', '--yes', '--timeout', '600']);
      expect(r.code).toBe(0);
      expect(node.kubectl(['get', 'pods,pvc', '-A', '-o', 'name']).split('\n').filter((l) => /homecloud/.test(l))).toEqual([]);
      expect(volumesLeftAfterCleanup()).toEqual({ pvs: '', folders: [] });
      expect(fs.readdirSync(family.pcFolder).length).toBeGreaterThan(0); // the copy outside stays
    });

    it('the plain path works too: npm run synth, kubectl apply -f dist/, kubectl delete namespace', () => {
      const synth = node.run(['npm', 'run', 'synth'], { cwd: family.app, timeout: 5 * MINUTES });
      expect(synth.status).toBe(0);
      node.kubectl(['apply', '-f', path.join(family.app, 'dist')]);
      node.kubectl(['wait', '--for=condition=Available', 'deployment', '--all', ...NS, '--timeout=900s']);
      const ready = node.kubectl(['get', 'pods', ...NS, '-o', 'jsonpath={range .items[*]}{.status.containerStatuses[*].ready}{" "}{end}']);
      expect(ready.split(/\s+/).filter(Boolean).every((v) => v === 'true')).toBe(true);
      const available = node.kubectl(['get', 'deployments', ...NS, '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.availableReplicas} {end}']);
      expect(available.trim().split(' ').sort()).toEqual(['cache=1', 'database=1', 'egress=1', 'nextcloud=1']);
      for (const svc of ['database', 'cache', 'nextcloud', 'egress']) {
        const endpoint = node.kubectl(['get', 'endpointslices', ...NS, '-l', `kubernetes.io/service-name=${svc}`,
          '-o', 'jsonpath={.items[*].endpoints[?(@.conditions.ready==true)].addresses[0]}']).trim();
        expect([svc, endpoint]).toEqual([svc, expect.stringMatching(/^10\.244\.\d+\.\d+/)]);
      }
      // The README's other way to run a backup now. The PC folder still holds the earlier
      // install's copy (uninstall keeps it, and the credentials): the new install's first night
      // goes on from it (kubeadm) or leaves it to npm run offsite (kind); never replaces it.
      const snapshotsDir = path.join(family.pcFolder, 'repository', 'snapshots');
      const earlier = fs.readdirSync(snapshotsDir);
      expect(earlier.length).toBeGreaterThan(0);
      node.kubectl(['create', 'job', ...NS, 'backup-now', '--from=cronjob/backup']);
      // (node.kubectl gives a command two minutes; the job's copy reads the repository back.)
      const job = node.run(['kubectl', 'wait', ...NS, '--for=condition=Complete', 'job/backup-now', '--timeout=900s'], { timeout: 16 * MINUTES });
      const logs = node.run(['kubectl', 'logs', ...NS, 'job/backup-now', '-c', 'offsite', '--tail=40']).stdout;
      if (job.status !== 0) throw new Error(`the backup Job did not complete (exit ${job.status}):\n${job.stderr}${job.stdout}\n${logs}`);
      expect(logs).not.toMatch(/DAMAGED|FAILED/);
      const after = fs.readdirSync(snapshotsDir);
      expect(after).toEqual(expect.arrayContaining(earlier));
      expect(after.length).toBe(earlier.length + (storage === 'hostpath' ? 1 : 0));
      if (storage === 'hostpath') expect(logs).toMatch(/holds this family's earlier backups .*: going on from them/);
      // The nightly thumbnail job's pod runs too: Nextcloud's volume, the backup's read-only (its
      // lock), the previewgenerator app the hooks installed; the stand-in makes no previews.
      node.kubectl(['create', 'job', ...NS, 'previews-now', '--from=cronjob/previews']);
      const previews = node.run(['kubectl', 'wait', ...NS, '--for=condition=Complete', 'job/previews-now', '--timeout=300s'], { timeout: 6 * MINUTES });
      const said = node.kubectl(['get', 'pods', ...NS, '-l', 'job-name=previews-now', '-o', 'jsonpath={.items[0].status.containerStatuses[0].state.terminated.message}']);
      if (previews.status !== 0) throw new Error(`the thumbnail Job did not complete:\n${previews.stderr}${node.run(['kubectl', 'logs', ...NS, 'job/previews-now']).stdout}`);
      expect(JSON.parse(said)).toMatchObject({ result: 'done', caughtUp: true });
      node.kubectl(['delete', 'namespace', 'homecloud', '--wait=false']);
      waitGone(['namespace/homecloud']);
      expect(volumesLeftAfterCleanup()).toEqual({ pvs: '', folders: [] });
    });
  });
});
