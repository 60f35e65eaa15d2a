import { randomBytes } from 'crypto';
import * as path from 'path';
import { RealNode, realNodeAvailable, realNodeLeftovers, startRealNode } from '../support/real-node';
import { FamilyCloud, MINUTES, until } from '../support/real-node-family';
import { describeWhen } from '../support/requirements';

const NS = ['-n', 'homecloud'];
const POWER = path.join(__dirname, '..', 'realnode', 'power.sh');

/**
 * Faults with real processes (kubelet, containerd, PostgreSQL, php-fpm), on a real node with
 * Docker Desktop's kubeadm-mode storage. Each fault is made to land at the moment it is about:
 * the test waits for that moment (a lock the dump waits on, an upgrade that has begun), never
 * for a time.
 */
describeWhen(realNodeAvailable(), 'faults on a real node', () => {
  let node: RealNode;
  let family: FamilyCloud;
  let saved: { tables: Record<string, string>; files: string };
  const healthy = () => {
    const r = family.homecloud(['status']);
    expect(r.out).toMatch(/Your home cloud is healthy/);
    expect(r.code).toBe(0);
  };
  const backupSucceeds = () => {
    const r = family.homecloud(['backup']);
    expect(r.all).not.toMatch(/FAILED|damaged/i);
    expect(r.code).toBe(0);
  };
  const dataIntact = () => {
    expect(family.tableDigests()).toEqual(saved.tables);
    expect(family.fileSums()).toBe(saved.files);
  };
  const webPod = () => node.kubectl(['get', 'pods', ...NS, '-l', 'app.kubernetes.io/component=web', '-o', 'jsonpath={.items[0].metadata.name}']).trim();
  const occ = (...args: string[]) => family.exec('deploy/nextcloud', 'cron', ['php', '/var/www/html/occ', ...args]);

  beforeAll(() => {
    // (80 minutes: another test file's node may hold the machine's one node for most of an hour)
    node = startRealNode('hostpath');
    family = new FamilyCloud(node);
  }, 80 * MINUTES);
  afterAll(() => {
    node?.stop();
    family?.remove();
    expect(realNodeLeftovers()).toBe('');
  });

  it('starts from a deployed home cloud with the family\'s data and a first backup', () => {
    const r = family.homecloud(['deploy']);
    expect(r.code).toBe(0);
    family.psql("CREATE TABLE family_notes (id serial PRIMARY KEY, body text); INSERT INTO family_notes (body) SELECT 'Notiz ' || g FROM generate_series(1, 300) g");
    family.writeFamilyFile('Fotos/Urlaub.jpg', randomBytes(2 * 1024 * 1024));
    occ('files:scan', '--all');
    saved = { tables: family.tableDigests(), files: family.fileSums() };
    backupSucceeds();
  });

  it('kill -9 of PostgreSQL during the backup\'s dump: the backup fails and says why, the database recovers by itself, the next backup succeeds', async () => {
    const before = family.restarts()['database/postgres'];
    // The moment: pg_dump waits for a table another session holds locked, so it is certainly
    // inside the dump when the database dies.
    const holder = family.background(['kubectl', 'exec', ...NS, 'deploy/database', '-c', 'postgres', '--',
      'psql', '-X', '-U', 'nextcloud', '-d', 'nextcloud', '-c', 'BEGIN; LOCK TABLE family_notes IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(3600)']);
    await until('the lock holder', 120, () => family.psql("SELECT count(*) FROM pg_locks WHERE relation = 'family_notes'::regclass AND granted").trim() !== '0');
    const backup = family.homecloudInBackground(['backup']);
    await until('pg_dump waiting inside the dump', 600, () =>
      family.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pg_dump' AND wait_event_type = 'Lock'").trim() !== '0');
    // Every PostgreSQL process of the database container (the node's pid namespace holds only this run's).
    expect(node.run(['pkill', '-9', '-x', 'postgres']).status).toBe(0);

    const r = await backup.done;
    await holder.done;
    expect(r.code).not.toBe(0);
    expect(r.all).toMatch(/FAILED/);
    expect(r.all).toMatch(/server closed the connection unexpectedly/);
    // The kubelet restarted the container; PostgreSQL replayed its log and has every row.
    await until('the database container restarted', 300, () => family.restarts()['database/postgres'] > before);
    family.ready();
    dataIntact();
    healthy(); // Nextcloud is out of maintenance mode again
    backupSucceeds(); // and it verified the earlier snapshot before building on it
  }, 20 * MINUTES);

  it('the PC switched off in the middle of the day and on again: every pod comes back, data intact, no snapshot damaged', async () => {
    const before = family.restarts();
    const off = node.run(['bash', POWER, node.dir, 'off']);
    expect(off.stderr).toBe('');
    expect(off.status).toBe(0);
    const on = node.run(['bash', POWER, node.dir, 'on'], { timeout: 10 * MINUTES });
    expect(on.status).toBe(0);
    // Until the kubelet has seen every container gone and started it again, the API still shows the old state.
    await until('every container restarted', 600, () => {
      const now = family.restarts();
      return Object.keys(before).every((c) => (now[c] ?? 0) > before[c]);
    });
    family.ready();
    healthy();
    dataIntact();
    backupSucceeds();
  }, 20 * MINUTES);

  it('a PHP request that outgrows its memory: PHP stops the request, or the kernel one worker, never the family\'s cloud', async () => {
    const deployment = JSON.parse(node.kubectl(['get', 'deployment/nextcloud', ...NS, '-o', 'json']));
    const fpm = deployment.spec.template.spec.containers.find((c: { name: string }) => c.name === 'nextcloud');
    const containerMiB = Number(/^(\d+)Mi$/.exec(fpm.resources.limits.memory)![1]);
    const phpMiB = Number(/^(\d+)M$/.exec(fpm.env.find((e: { name: string }) => e.name === 'PHP_MEMORY_LIMIT').value)![1]);
    const ip = node.kubectl(['get', 'pod', ...NS, webPod(), '-o', 'jsonpath={.status.podIP}']).trim();
    // The stand-in's memory-hungry page (a preview of a big photo): N MiB held for S seconds.
    const ask = (mib: number, hold = 0) => family.background(['curl', '-sk', '-w', '\n%{http_code}',
      `https://${ip}/index.php/apps/standin/allocate?mib=${mib}&hold=${hold}`]);
    const before = family.restarts();

    // One request beyond memory_limit: PHP's own limit ends it; the worker stays.
    const one = await ask(phpMiB + 16).done;
    expect(one.out).toMatch(/Allowed memory size of \d+ bytes exhausted/);

    // Requests each within memory_limit, together beyond the container's limit.
    const each = phpMiB - 100;
    const count = Math.ceil(containerMiB / each) + 1;
    const answers = await Promise.all(Array.from({ length: count }, () => ask(each, 20).done));
    const codes = answers.map((a) => a.out.trim().split('\n').pop());
    const fpmLog = node.run(['kubectl', 'logs', ...NS, webPod(), '-c', 'nextcloud']).stdout;
    const cgroup2 = node.run(['stat', '-fc', '%T', '/sys/fs/cgroup']).stdout.trim() === 'cgroup2fs';
    if (cgroup2) {
      // Docker Desktop's case: the kubelet sets memory.oom.group; the php-fpm container restarts as a whole.
      await until('php-fpm restarted', 300, () => family.restarts()['web/nextcloud'] > before['web/nextcloud']);
    } else {
      // cgroup v1 (this machine): the kernel kills the biggest process, a worker; php-fpm starts another.
      expect(fpmLog).toMatch(/child \d+ exited on signal 9 \(SIGKILL\)/);
      expect(family.restarts()['web/nextcloud']).toBe(before['web/nextcloud']);
    }
    expect(codes).toContain('502');
    expect(codes.filter((c) => c === '200').length).toBeGreaterThan(0);
    // Neither nginx nor any other part of the home cloud noticed.
    const after = family.restarts();
    for (const c of Object.keys(before).filter((k) => k !== 'web/nextcloud')) expect([c, after[c]]).toEqual([c, before[c]]);
    family.ready();
    healthy();
  }, 20 * MINUTES);

  it('a Nextcloud upgrade that outlasts the liveness probe\'s patience is never restarted by it', async () => {
    const spec = JSON.parse(node.kubectl(['get', 'deployment/nextcloud', ...NS, '-o', 'json'])).spec.template.spec.containers
      .find((c: { name: string }) => c.name === 'nextcloud').livenessProbe;
    const patience = spec.periodSeconds * spec.failureThreshold;
    // The stand-in's `occ upgrade` takes this long (a big instance's migrations can take an
    // hour); older code in the volume makes the next start upgrade.
    const seconds = patience + 90;
    occ('config:system:set', 'standin_upgrade_seconds', '--type=integer', `--value=${seconds}`);
    family.exec('deploy/nextcloud', 'cron', ['sh', '-c',
      "sed -i 's/^\\$OC_Version = .*/$OC_Version = array(33, 0, 9, 1);/' /var/www/html/version.php && grep -q '33, 0, 9' /var/www/html/version.php"]);
    node.kubectl(['delete', 'pod', ...NS, webPod(), '--wait=false']);

    let pod = '';
    const logs = () => node.run(['kubectl', 'logs', ...NS, pod, '-c', 'nextcloud']).stdout;
    await until('the upgrade begun', 300, () => {
      const p = webPod();
      if (!p) return false;
      pod = p;
      return /Updating database schema/.test(logs());
    });
    const began = Date.now();
    const midway = family.homecloud(['status']);
    expect(midway.out).toMatch(/is upgrading itself to 34\.0\.0 .*leave the PC on/);
    await until('the upgrade finished', seconds + 600, () => /Initializing finished/.test(logs()));
    const lasted = (Date.now() - began) / 1000;
    family.ready();
    const nextcloud = JSON.parse(node.kubectl(['get', 'pod', ...NS, pod, '-o', 'json'])).status.containerStatuses
      .find((c: { name: string }) => c.name === 'nextcloud');
    expect({ restarts: nextcloud.restartCount, outlastedThePatience: lasted > patience }).toEqual({ restarts: 0, outlastedThePatience: true });
    expect(occ('status', '--output=json')).toMatch(/"versionstring":"34\.0\.0"/);
    occ('config:system:delete', 'standin_upgrade_seconds');
    healthy();
    dataIntact();
  }, 20 * MINUTES);
});
