import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { calls, fakeCommand, runScript, startScript } from '../support/busybox';
import { commands, describeWhen, which } from '../support/requirements';
import { synthStack } from '../support/stack';

// occ is Nextcloud's own CLI and cannot run here: these tests use a double that records
// its calls and keeps trusted_domains in a small file, as config.php would.
function fakeOcc(dir: string, initialDomains: string[] = [], listed = '{"enabled":{},"disabled":{}}', failInstall = ''): string {
  const state = path.join(dir, 'domains');
  fs.writeFileSync(state, initialDomains.map((d, i) => `${i} ${d}`).join('\n') + (initialDomains.length ? '\n' : ''));
  return fakeCommand(dir, 'occ', `
state="${state}"
case "$1" in
  app:list) echo '${listed}' ;;
  app:install) [ "$2" = "${failInstall}" ] && { echo "App Store unreachable" >&2; exit 1; }; echo "$2 installed" ;;
  config:system:get) grep -q "^$3 " "$state" || exit 1; grep "^$3 " "$state" | cut -d' ' -f2 ;;
  config:system:set)
    if [ "$2" = trusted_domains ]; then
      v=$(echo "$4" | sed 's/^--value=//'); grep -v "^$3 " "$state" > "$state.new" || true; echo "$3 $v" >> "$state.new"; mv "$state.new" "$state"
    fi ;;
  config:system:delete) grep -v "^$3 " "$state" > "$state.new" || true; mv "$state.new" "$state" ;;
esac
exit 0`);
}

function domains(dir: string): string[] {
  return fs.readFileSync(path.join(dir, 'domains'), 'utf8').trim().split('\n').filter(Boolean).sort().map((l) => l.split(' ')[1]);
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'hc-hooks-'));

describeWhen(commands(['busybox'], 'apt-get install busybox'), 'Nextcloud hooks under busybox sh', () => {
  describe('sync-settings.sh', () => {
    it('sets trusted_domains to exactly the configured list', () => {
      const dir = tmp();
      fakeOcc(dir, ['localhost', 'old-name', '10.0.0.9', 'stale']);
      const run = runScript('nextcloud/sync-settings.sh', { env: { OCC: path.join(dir, 'occ'), HOMECLOUD_TRUSTED_DOMAINS: 'localhost familypc 192.168.1.20' } });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(domains(dir)).toEqual(['localhost', 'familypc', '192.168.1.20']);
    });

    it('sets the phone region and switches background jobs to cron', () => {
      const dir = tmp();
      const log = fakeOcc(dir);
      runScript('nextcloud/sync-settings.sh', { env: { OCC: path.join(dir, 'occ'), HOMECLOUD_TRUSTED_DOMAINS: 'localhost', HOMECLOUD_PHONE_REGION: 'DE' } });
      expect(calls(log)).toEqual(expect.arrayContaining(['config:system:set default_phone_region --value=DE', 'background:cron']));
    });

    it('leaves the phone region alone when none is configured', () => {
      const dir = tmp();
      const log = fakeOcc(dir);
      runScript('nextcloud/sync-settings.sh', { env: { OCC: path.join(dir, 'occ'), HOMECLOUD_TRUSTED_DOMAINS: 'localhost', HOMECLOUD_PHONE_REGION: '' } });
      expect(calls(log).filter((c) => c.includes('phone'))).toEqual([]);
    });

    it('fails (stopping the start) when occ fails, rather than running with stale domains', () => {
      const dir = tmp();
      fakeCommand(dir, 'occ', 'exit 3');
      const run = runScript('nextcloud/sync-settings.sh', { env: { OCC: path.join(dir, 'occ'), HOMECLOUD_TRUSTED_DOMAINS: 'localhost' } });
      expect(run.status).not.toBe(0);
    });
  });

  describe('family-folders.sh', () => {
    /** A data folder with accounts, and an occ that lists them and records its scans. */
    function accounts(dir: string, users: Record<string, boolean>, listFails = false): string {
      const data = path.join(dir, 'data');
      for (const [user, loggedIn] of Object.entries(users)) fs.mkdirSync(path.join(data, user, loggedIn ? 'files' : 'cache'), { recursive: true });
      const listing = Object.keys(users).map((u) => `  - ${u}: ${u.toUpperCase()}: the display name may hold colons`).join('\n');
      return fakeCommand(dir, 'occ', `
case "$1" in
  config:system:get) [ "$2" = datadirectory ] && echo "${data}" ;;
  user:list) ${listFails ? 'exit 1' : `printf '%s\\n' '${listing.replace(/\n/g, "' '")}'`} ;;
  files:scan) [ -d "${data}/$(echo "$2" | sed 's|^--path=/||')" ] || { echo "no such folder: $2" >&2; exit 1; } ;;
esac
exit 0`);
    }

    it('makes the SMS folder in every account that has logged in, scanned so Nextcloud sees it, and only once', () => {
      const dir = tmp();
      const log = accounts(dir, { alice: true, 'anna maria': true, bob: false });
      fs.mkdirSync(path.join(dir, 'data', 'alice', 'files', 'SMS'));
      const env = { OCC: path.join(dir, 'occ'), HOMECLOUD_FAMILY_FOLDERS: 'SMS' };
      const run = runScript('nextcloud/family-folders.sh', { env });
      expect([run.status, run.stderr]).toEqual([0, '']);
      expect(run.stdout).toBe('homecloud: made the SMS folder for anna maria\n');
      expect(fs.existsSync(path.join(dir, 'data', 'anna maria', 'files', 'SMS'))).toBe(true);
      // bob never logged in: Nextcloud makes his home at his first login, and the next start his folder.
      expect(fs.existsSync(path.join(dir, 'data', 'bob', 'files'))).toBe(false);
      expect(calls(log).filter((c) => c.startsWith('files:scan'))).toEqual(['files:scan --path=/anna maria/files/SMS']);
      expect(runScript('nextcloud/family-folders.sh', { env }).stdout).toBe('');
      expect(calls(log).filter((c) => c.startsWith('files:scan'))).toHaveLength(1);
    });

    it('never stops the start when Nextcloud cannot list its accounts', () => {
      const dir = tmp();
      accounts(dir, { alice: true }, true);
      const run = runScript('nextcloud/family-folders.sh', { env: { OCC: path.join(dir, 'occ'), HOMECLOUD_FAMILY_FOLDERS: 'SMS' } });
      expect(run.status).toBe(0);
      expect(fs.existsSync(path.join(dir, 'data', 'alice', 'files', 'SMS'))).toBe(false);
    });

    it('runs on every start with the folder the phone pages name', () => {
      const fpm = synthStack().get('Deployment', 'nextcloud').spec.template.spec.containers.find((c: { name: string }) => c.name === 'nextcloud');
      expect(fpm.volumeMounts.map((m: { mountPath: string }) => m.mountPath)).toContain('/docker-entrypoint-hooks.d/before-starting/40-family-folders.sh');
      expect(fpm.env).toContainEqual({ name: 'HOMECLOUD_FAMILY_FOLDERS', value: 'SMS' });
    });
  });

  describe('push-run.sh (Client Push beside php-fpm)', () => {
    /** A web root whose notify_push app is (not yet) installed, with a stand-in server binary. */
    function pushRoot() {
      const root = tmp();
      const webroot = path.join(root, 'html');
      fs.mkdirSync(path.join(webroot, 'config'), { recursive: true });
      fs.writeFileSync(path.join(webroot, 'config', 'config.php'), "<?php\n$CONFIG = array (\n  'installed' => true,\n);\n");
      const bin = path.join(webroot, 'custom_apps', 'notify_push', 'bin', 'x86_64', 'notify_push');
      const runs = path.join(root, 'runs');
      // Unpacked by PHP: no execute bit. Records its arguments, port and version, then serves forever.
      const install = (version: string) => {
        fs.mkdirSync(path.dirname(bin), { recursive: true });
        fs.writeFileSync(bin, `#!/bin/sh\necho "${version} $PORT $*" >> "${runs}"\nexec sleep 1000\n${'#'.repeat(version.length * 10)}\n`, { mode: 0o644 });
      };
      const tmpDir = path.join(root, 'tmp');
      fs.mkdirSync(tmpDir);
      const env = { NEXTCLOUD_WEBROOT: webroot, PUSH_ARCH: 'x86_64', POLL_SECONDS: '0.2', PORT: '7867', TMPDIR: tmpDir };
      return { root, webroot, bin, install, runs: () => calls(runs), env };
    }
    const until = async (what: () => boolean) => { while (!what()) await new Promise((r) => setTimeout(r, 50)); };

    it('waits for the app, starts the app\'s own binary with config.php, restarts it after an app update or a crash, and stops with the pod', async () => {
      const p = pushRoot();
      const loop = startScript('nextcloud/push-run.sh', { env: p.env });
      let out = '';
      loop.stdout.on('data', (d) => { out += d; });
      const ended = new Promise<number | null>((resolve) => loop.on('exit', resolve));
      await until(() => out.includes('waiting for the notify_push app'));
      expect(p.runs()).toEqual([]);
      p.install('1.0');
      await until(() => p.runs().length === 1);
      expect(p.runs()[0]).toBe(`1.0 7867 ${p.webroot}/config/config.php`);
      // An app update replaces the binary: the server restarts with the new version.
      p.install('1.1.0');
      await until(() => p.runs().length === 2);
      expect(p.runs()[1]).toMatch(/^1\.1\.0 /);
      expect(out).toMatch(/the notify_push app was updated; restarting its server/);
      // The server stops by itself: started again.
      const server = Number(/started notify_push \(pid (\d+)\)[^\n]*\n(?![\s\S]*started notify_push)/.exec(out)![1]);
      process.kill(server, 'SIGKILL');
      await until(() => p.runs().length === 3);
      expect(out).toMatch(/notify_push stopped \(exit code 137\); starting it again/);
      const last = Number(/started notify_push \(pid (\d+)\)[^\n]*\n(?![\s\S]*started notify_push)/.exec(out)![1]);
      loop.kill('SIGQUIT'); // the image's stop signal
      expect(await ended).toBe(0);
      expect(() => process.kill(last, 0)).toThrow();
    });
  });

  describe('install-apps.sh', () => {
    it('installs only the apps that are not there yet', () => {
      const dir = tmp();
      const log = fakeOcc(dir, [], '{"enabled":{"contacts":"7.0.1"},"disabled":{"notes":"4.11.0"}}');
      const run = runScript('nextcloud/install-apps.sh', { env: { OCC: path.join(dir, 'occ'), HOMECLOUD_APPS: 'contacts calendar tasks notes' } });
      expect(run.status).toBe(0);
      expect(calls(log).filter((c) => c.startsWith('app:install'))).toEqual(['app:install calendar', 'app:install tasks']);
    });

    it('logs a failed install (offline) and carries on', () => {
      const dir = tmp();
      const log = fakeOcc(dir, [], '{}', 'calendar');
      const run = runScript('nextcloud/install-apps.sh', { env: { OCC: path.join(dir, 'occ'), HOMECLOUD_APPS: 'calendar tasks' } });
      expect(run.status).toBe(0);
      expect(run.stderr).toMatch(/could not install the calendar app now \(is the PC offline\?\)/);
      expect(calls(log)).toContain('app:install tasks');
    });
  });

  describeWhen(commands(['php'], 'apt-get install php-cli'), 'sync-settings.sh with PHP', () => {
    const sync = (env: Record<string, string>) => {
      const dir = tmp();
      const log = fakeOcc(dir);
      const run = runScript('nextcloud/sync-settings.sh', { env: { OCC: path.join(dir, 'occ'), HOMECLOUD_TRUSTED_DOMAINS: 'localhost', ...env } });
      return { run, calls: calls(log) };
    };

    it('sets overwrite.cli.url to the address the family uses, and tells Nextcloud it is served over HTTPS', () => {
      const { run, calls: c } = sync({ HOMECLOUD_CLI_URL: 'https://familypc' });
      expect(run.status).toBe(0);
      expect(c).toContain('config:system:set overwrite.cli.url --value=https://familypc');
      expect(c).toContain('config:system:set overwriteprotocol --value=https');
    });

    it('limits how many previews Nextcloud makes at once, as php-sizing.ts decided', () => {
      const { run, calls: c } = sync({ HOMECLOUD_PREVIEWS_NEW_AT_ONCE: '1', HOMECLOUD_PREVIEWS_AT_ONCE: '5' });
      expect(run.status).toBe(0);
      expect(c).toContain('config:system:set preview_concurrency_new --type=integer --value=1');
      expect(c).toContain('config:system:set preview_concurrency_all --type=integer --value=5');
    });

    it('sets up photo previews in config.php as synth decided: HEIC beside Nextcloud\'s own providers, 2048 px, quality 70', () => {
      const fpm = synthStack().get('Deployment', 'nextcloud').spec.template.spec.containers.find((c: { name: string }) => c.name === 'nextcloud');
      const env = Object.fromEntries(fpm.env.filter((e: { name: string }) => e.name.startsWith('HOMECLOUD_PREVIEW_')).map((e: { name: string; value: string }) => [e.name, e.value]));
      expect(Object.keys(env).sort()).toEqual(['HOMECLOUD_PREVIEW_MAX', 'HOMECLOUD_PREVIEW_PROVIDERS', 'HOMECLOUD_PREVIEW_QUALITY']);
      // A config.php with an earlier, longer provider list: the hook leaves exactly the new one.
      const dir = tmp();
      const occ = path.join(dir, 'occ');
      fs.writeFileSync(occ, `#!/bin/sh\nOCC_STATE="${dir}" exec php ${path.join(__dirname, '..', 'support', 'occ-config.php')} "$@"\n`, { mode: 0o755 });
      const earlier = Array.from({ length: 14 }, (_, i) => `'old${i}'`).join(', ');
      fs.writeFileSync(path.join(dir, 'config.php'), `<?php\n$CONFIG = ['enabledPreviewProviders' => [${earlier}]];\n`);
      const run = runScript('nextcloud/sync-settings.sh', { env: { OCC: occ, HOMECLOUD_TRUSTED_DOMAINS: 'localhost familypc', ...env } });
      expect([run.status, run.stderr]).toEqual([0, '']);
      const read = spawnSync('php', ['-r', `include '${dir}/config.php'; echo json_encode($CONFIG);`], { encoding: 'utf8' });
      const config = JSON.parse(read.stdout);
      expect(config.enabledPreviewProviders).toEqual([
        'OC\\Preview\\MarkDown', 'OC\\Preview\\TXT', 'OC\\Preview\\OpenDocument', 'OC\\Preview\\PNG', 'OC\\Preview\\JPEG', 'OC\\Preview\\GIF',
        'OC\\Preview\\BMP', 'OC\\Preview\\XBitmap', 'OC\\Preview\\Krita', 'OC\\Preview\\WebP', 'OC\\Preview\\HEIC',
      ]);
      expect([config.preview_max_x, config.preview_max_y]).toEqual([2048, 2048]);
      expect(config.trusted_domains).toEqual(['localhost', 'familypc']);
      const apps = JSON.parse(fs.readFileSync(path.join(dir, 'appconfig.json'), 'utf8'));
      expect(apps.preview).toEqual({ jpeg_quality: '70' });
      expect(apps.previewgenerator).toEqual({ squareSizes: '64 256', fillWidthHeightSizes: '256 4096', widthSizes: '', heightSizes: '' });
      expect(run.stdout).toMatch(/previews up to 2048 px at JPEG quality 70, HEIC included/);
    });

    it('tells Nextcloud where the apps find it, and that its requests from inside the pod come through a proxy', () => {
      const dir = tmp();
      const occ = path.join(dir, 'occ');
      fs.writeFileSync(occ, `#!/bin/sh\nOCC_STATE="${dir}" exec php ${path.join(__dirname, '..', 'support', 'occ-config.php')} "$@"\n`, { mode: 0o755 });
      const fpm = synthStack().get('Deployment', 'nextcloud').spec.template.spec.containers.find((c: { name: string }) => c.name === 'nextcloud');
      const endpoint = fpm.env.find((e: { name: string }) => e.name === 'HOMECLOUD_PUSH_ENDPOINT').value;
      expect(endpoint).toBe('https://familypc/push');
      const run = runScript('nextcloud/sync-settings.sh', { env: { OCC: occ, HOMECLOUD_TRUSTED_DOMAINS: 'localhost', HOMECLOUD_PUSH_ENDPOINT: endpoint } });
      expect([run.status, run.stderr]).toEqual([0, '']);
      expect(JSON.parse(fs.readFileSync(path.join(dir, 'appconfig.json'), 'utf8')).notify_push).toEqual({ base_endpoint: 'https://familypc/push' });
      const config = JSON.parse(spawnSync('php', ['-r', `include '${dir}/config.php'; echo json_encode($CONFIG);`], { encoding: 'utf8' }).stdout);
      expect(config.trusted_proxies).toEqual(['127.0.0.1', '::1']);
    });

    describe('privacy.sh (the privacy baseline, lib/privacy)', () => {
      // The hook with the environment synth gives it, against config.php kept by the stand-in occ.
      const privacy = (opts: { settings?: Parameters<typeof synthStack>[0]; config?: string; enabled?: string; proxy?: string } = {}) => {
        const fpm = synthStack(opts.settings).get('Deployment', 'nextcloud').spec.template.spec.containers.find((c: { name: string }) => c.name === 'nextcloud');
        const env = Object.fromEntries(fpm.env.filter((e: { name: string }) => /^HOMECLOUD_(PROXY|CONNECTIVITY|BREACH|PHOTO|QUIET)/.test(e.name))
          .map((e: { name: string; value: string }) => [e.name, e.value]));
        const dir = tmp();
        const occ = path.join(dir, 'occ');
        fs.writeFileSync(occ, `#!/bin/sh\nOCC_STATE="${dir}" exec php ${path.join(__dirname, '..', 'support', 'occ-config.php')} "$@"\n`, { mode: 0o755 });
        if (opts.config) fs.writeFileSync(path.join(dir, 'config.php'), opts.config);
        const run = runScript('nextcloud/privacy.sh', {
          env: {
            OCC: occ, OCC_ENABLED_APPS: opts.enabled ?? 'weather_status nextcloud_announcements survey_client dashboard', ...env,
            // Nothing answers for the egress Service here: the wait for it is cut to a second, or a test's own port stands in.
            HOMECLOUD_PROXY_WAIT: '1', ...(opts.proxy ? { HOMECLOUD_PROXY: opts.proxy } : {}),
          },
          path: [path.dirname(which('php')!)],
        });
        const config = JSON.parse(spawnSync('php', ['-r', `include '${dir}/config.php'; echo json_encode($CONFIG);`], { encoding: 'utf8' }).stdout);
        const apps = JSON.parse(fs.readFileSync(path.join(dir, 'appconfig.json'), 'utf8'));
        return { run, config, apps, env, calls: fs.readFileSync(path.join(dir, 'occ.calls'), 'utf8').trim().split('\n') };
      };

      it('sends every outbound request through the egress point and keeps the family\'s own addresses inside the pod', () => {
        const { run, config, env } = privacy({ config: `<?php\n$CONFIG = ['proxyexclude' => ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i']];\n` });
        expect(run.status).toBe(0);
        expect(env.HOMECLOUD_PROXY).toBe('egress:3128');
        expect(config.proxy).toBe('egress:3128');
        expect(config.proxyexclude).toEqual(['localhost', '127.0.0.1', '::1', 'familypc', '192.168.1.20']);
        // The egress Service does not exist here: the hook waited (a second), said so, and went on.
        expect(run.stderr).toMatch(/the egress point \(egress:3128\) does not answer yet/);
      });

      it('waits for the egress point before the apps are installed, and goes on as soon as it answers', async () => {
        const listener = net.createServer((s) => s.end()).listen(0, '127.0.0.1');
        await new Promise((r) => listener.once('listening', r));
        const proxy = `127.0.0.1:${(listener.address() as net.AddressInfo).port}`;
        const { run, config } = privacy({ proxy });
        listener.close();
        expect([run.status, run.stderr]).toEqual([0, '']);
        expect(config.proxy).toBe(proxy);
        expect(run.stdout).toMatch(new RegExp(`outbound requests go through ${proxy}`));
      });

      it('turns off the update check and the lookup server, and points the internet check at the app store', () => {
        const { run, config } = privacy({ config: `<?php\n$CONFIG = ['connectivity_check_domains' => ['www.nextcloud.com', 'www.startpage.com', 'www.eff.org', 'www.edri.org']];\n` });
        expect(run.status).toBe(0);
        expect(config.updatechecker).toBe(false);
        expect(config.lookup_server).toBe('');
        expect(config.connectivity_check_domains).toEqual(['apps.nextcloud.com']);
        // The app store stays reachable: app installs and updates need it.
        expect(config.has_internet_connection).toBeUndefined();
        expect(config.appstoreenabled).toBeUndefined();
      });

      it('disables the weather, announcements and survey apps, and only those', () => {
        const { run, apps } = privacy();
        expect(run.status).toBe(0);
        expect(Object.entries(apps).filter(([, v]) => (v as Record<string, string>).enabled === 'no').map(([k]) => k).sort())
          .toEqual(['nextcloud_announcements', 'survey_client', 'weather_status']);
        expect(run.stdout).toMatch(/disabled the weather_status app/);
      });

      it('leaves alone an app that is not enabled (nothing to disable, no error)', () => {
        const { run, calls: c } = privacy({ enabled: 'dashboard' });
        expect(run.status).toBe(0);
        expect(run.stderr).not.toMatch(/disable/);
        expect(c.filter((l) => l.startsWith('app:disable'))).toEqual([]);
      });

      it('keeps the breach check and Photos\' places off by default, and turns each on with its setting', () => {
        const off = privacy();
        expect(off.apps.password_policy).toEqual({ enforceHaveIBeenPwned: '0' });
        expect(off.apps.photos).toEqual({ disable_places: '1' });
        const on = privacy({ settings: { privacy: { breachedPasswordCheck: true, photoPlaces: true } } });
        expect(on.apps.password_policy).toEqual({ enforceHaveIBeenPwned: '1' });
        expect(on.apps.photos).toEqual({ disable_places: '0' });
      });

      it('stops the start when config.php cannot be written, rather than run without the egress point', () => {
        const dir = tmp();
        fakeCommand(dir, 'occ', 'echo "Nextcloud is not installed" >&2; exit 1');
        const run = runScript('nextcloud/privacy.sh', { env: { OCC: path.join(dir, 'occ'), HOMECLOUD_PROXY: 'egress:3128' } });
        expect(run.status).not.toBe(0);
      });
    });

    it('adds the home CA to the certificates Nextcloud trusts for its own requests, when it is mounted', () => {
      const ca = path.join(tmp(), 'homecloud-ca.crt');
      fs.writeFileSync(ca, '-----BEGIN CERTIFICATE-----\n');
      const { run, calls: c } = sync({ HOMECLOUD_CA_FILE: ca });
      expect(run.status).toBe(0);
      expect(c).toContain(`security:certificates:import ${ca}`);
      const without = sync({ HOMECLOUD_CA_FILE: path.join(tmp(), 'missing.crt') });
      expect(without.run.status).toBe(0);
      expect(without.calls.some((l) => l.startsWith('security:certificates:import'))).toBe(false);
    });

    it('converts the local maintenance hour to the UTC hour Nextcloud counts in, by the zone\'s rules that day', () => {
      // 21:00 in Berlin is 20:00 UTC in winter (CET) and 19:00 UTC in summer (CEST): ask PHP which applies today.
      const expected = spawnSync('php', ['-r', 'echo (int) (new DateTime("today 21:00", new DateTimeZone("Europe/Berlin")))->setTimezone(new DateTimeZone("UTC"))->format("G");'], { encoding: 'utf8' }).stdout;
      expect(['19', '20']).toContain(expected);
      const { run, calls: c } = sync({ HOMECLOUD_MAINTENANCE_WINDOW_START: '21', TZ: 'Europe/Berlin' });
      expect(run.status).toBe(0);
      expect(c).toContain(`config:system:set maintenance_window_start --type=integer --value=${expected}`);
      expect(run.stdout).toMatch(new RegExp(`maintenance window from 21:00 local time \\(${expected}:00 UTC\\)`));
    });

    it('wraps past midnight: 01:00 in Tokyo is 16:00 UTC', () => {
      const { calls: c } = sync({ HOMECLOUD_MAINTENANCE_WINDOW_START: '1', TZ: 'Asia/Tokyo' });
      expect(c).toContain('config:system:set maintenance_window_start --type=integer --value=16');
    });
  });

  describeWhen(commands(['php'], 'apt-get install php-cli'), 'fpm-alive.sh (php-fpm\'s liveness probe)', () => {
    // A stand-in /proc with only what the script reads: PID 1's command name.
    const proc = (comm: string) => {
      const dir = tmp();
      fs.mkdirSync(path.join(dir, '1'));
      fs.writeFileSync(path.join(dir, '1', 'comm'), `${comm}\n`);
      return dir;
    };
    const probe = (procRoot: string, port: number) =>
      runScript('nextcloud/fpm-alive.sh', { env: { PROC_ROOT: procRoot, FPM_PORT: String(port) } }).status;

    it('never fails while the entrypoint installs or upgrades, through a simulated hour of probes', () => {
      // The kubelet's view: one probe every periodSeconds; failureThreshold in a row restarts.
      const spec = synthStack().get('Deployment', 'nextcloud').spec.template.spec.containers
        .find((c: { name: string }) => c.name === 'nextcloud').livenessProbe;
      const upgrading = proc('entrypoint.sh');
      let failuresInARow = 0;
      let restarts = 0;
      for (let t = 0; t < 3600; t += spec.periodSeconds) {
        failuresInARow = probe(upgrading, 1) === 0 ? 0 : failuresInARow + 1;
        if (failuresInARow >= spec.failureThreshold) { restarts++; failuresInARow = 0; }
      }
      expect(restarts).toBe(0);
    });

    it('passes once php-fpm runs and accepts connections', async () => {
      const server = net.createServer().listen(0, '127.0.0.1');
      await new Promise((r) => server.once('listening', r));
      const status = probe(proc('php-fpm'), (server.address() as net.AddressInfo).port);
      server.close();
      expect(status).toBe(0);
    });

    it('fails when php-fpm runs but no longer accepts connections', async () => {
      const server = net.createServer().listen(0, '127.0.0.1');
      await new Promise((r) => server.once('listening', r));
      const port = (server.address() as net.AddressInfo).port;
      await new Promise((r) => server.close(r));
      expect(probe(proc('php-fpm'), port)).toBe(1);
    });
  });

  describeWhen(commands(['php'], 'apt-get install php-cli'), 'wait-for-database.sh', () => {
    it('returns as soon as the database port accepts connections', async () => {
      const server = net.createServer().listen(0, '127.0.0.1');
      await new Promise((r) => server.once('listening', r));
      const port = (server.address() as net.AddressInfo).port;
      const run = runScript('nextcloud/wait-for-database.sh', { env: { POSTGRES_HOST: '127.0.0.1', POSTGRES_PORT: String(port) } });
      server.close();
      expect(run.status).toBe(0);
    });

    it('gives up with a message when the database never answers', () => {
      const run = runScript('nextcloud/wait-for-database.sh', { env: { POSTGRES_HOST: '127.0.0.1', POSTGRES_PORT: '1', HOMECLOUD_DB_WAIT_SECONDS: '0' } });
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/the database at 127.0.0.1:1 did not answer within 0s/);
    });
  });

  describe('cron-loop.sh', () => {
    function loop(installed: boolean) {
      const dir = tmp();
      fs.mkdirSync(path.join(dir, 'config'));
      fs.writeFileSync(path.join(dir, 'config', 'config.php'), `<?php\n$CONFIG = array (\n  'installed' => ${installed},\n);\n`);
      const log = fakeCommand(dir, 'php', 'exit 0');
      const child = startScript('nextcloud/cron-loop.sh', { path: [dir], env: { CRON_INTERVAL_SECONDS: '1', NEXTCLOUD_WEBROOT: dir } });
      return { dir, log, child };
    }

    it('runs cron.php every interval once Nextcloud is installed, and stops promptly on SIGTERM', async () => {
      const { dir, log, child } = loop(true);
      // (Until the second run, however slow the machine: each is the interval and a second apart.)
      for (let i = 0; i < 300 && calls(log).length < 2; i++) await new Promise((r) => setTimeout(r, 100));
      const stopped = Date.now();
      child.kill('SIGTERM');
      const code = await new Promise((r) => child.once('exit', (c) => r(c)));
      expect(Date.now() - stopped).toBeLessThan(1500);
      expect(code).toBe(0);
      expect(calls(log).length).toBeGreaterThanOrEqual(2);
      expect(calls(log)[0]).toBe(`-f ${dir}/cron.php`);
    });

    // The Nextcloud image stops its containers with SIGQUIT (php-fpm's STOPSIGNAL, inherited by
    // every container of that image): as a container's first process the loop would ignore it
    // and every stop of the pod would wait out the grace period.
    it('ends cleanly on SIGQUIT, the image\'s stop signal', async () => {
      const { child } = loop(true);
      await new Promise((r) => setTimeout(r, 500));
      child.kill('SIGQUIT');
      // Ignored, it would never end: give it far longer than a clean stop takes, then look.
      const ended = await new Promise<[number | null, string | null] | 'still running'>((r) => {
        const t = setTimeout(() => { child.kill('SIGKILL'); r('still running'); }, 20_000);
        child.once('exit', (c, s) => { clearTimeout(t); r([c, s]); });
      });
      expect(ended).toEqual([0, null]);
    });

    /**
     * Nextcloud runs a TimedJob only when MORE than its interval has passed since it last started
     * (lib/public/BackgroundJob/TimedJob.php: getTime() - lastRun > interval), and a job starts
     * anywhere within a run of cron.php. Measured on a real Nextcloud with runs started exactly
     * 300 s apart: the 5-minute jobs (calendar reminders) ran on every other run. Here the clock is
     * recorded (date and sleep move a clock file, not the wall clock) and cron.php is a stand-in
     * with one 5-minute job that starts 0 to 3 s into each 4-second run, as that rule says.
     */
    it('gives a 5-minute job (calendar reminders) a run every 5 minutes, at no more runs an hour', async () => {
      const dir = tmp();
      fs.mkdirSync(path.join(dir, 'config'));
      fs.writeFileSync(path.join(dir, 'config', 'config.php'), "<?php\n$CONFIG = array (\n  'installed' => true,\n);\n");
      const start = 1_790_000_000;
      const end = start + 3 * 3600;
      fs.writeFileSync(path.join(dir, 'clock'), `${start}\n`);
      fakeCommand(dir, 'date', `if [ "$1" = +%s ]; then cat "${dir}/clock"; else exec /bin/date "$@"; fi`);
      fakeCommand(dir, 'sleep', `now=$(($(cat "${dir}/clock") + $1)); echo $now > "${dir}/clock"; [ $now -lt ${end} ] || kill -TERM $PPID`);
      fakeCommand(dir, 'php', `now=$(cat "${dir}/clock")
runs=$(($(cat "${dir}/runs" 2>/dev/null || echo 0) + 1)); echo $runs > "${dir}/runs"
at=$((now + runs * 7 % 4)); last=$(cat "${dir}/last" 2>/dev/null || echo 0)
if [ $((at - last)) -gt 300 ]; then echo $at >> "${dir}/job"; echo $at > "${dir}/last"; fi
echo $((now + 4)) > "${dir}/clock"`);
      const child = startScript('nextcloud/cron-loop.sh', { path: [dir], env: { NEXTCLOUD_WEBROOT: dir } });
      const code = await new Promise((r) => child.once('exit', (c) => r(c)));
      expect(code).toBe(0);
      const runs = Number(fs.readFileSync(path.join(dir, 'runs'), 'utf8'));
      const job = fs.readFileSync(path.join(dir, 'job'), 'utf8').trim().split('\n').map(Number);
      const gaps = job.slice(1).map((t, i) => t - job[i]);
      // No more idle cost than runs 300 s apart (12 an hour), and the job in every one of them.
      expect(runs).toBeLessThanOrEqual(3 * 12);
      expect(runs).toBeGreaterThanOrEqual(3 * 11);
      expect(job.length).toBe(runs);
      expect(Math.max(...gaps)).toBeLessThanOrEqual(310);
    }, 60_000);

    it('waits without running cron.php while Nextcloud is not installed', async () => {
      const { log, child } = loop(false);
      await new Promise((r) => setTimeout(r, 1500));
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      expect(calls(log)).toEqual([]);
    });
  });
});

describeWhen(commands(['busybox'], 'apt-get install busybox'), 'database stop-fast.sh under busybox sh', () => {
  const stop = (helpers: string[]) => {
    const dir = tmp();
    const logs = helpers.map((h) => fakeCommand(dir, h, 'exit 0'));
    // The doubles come first on PATH (this machine has neither helper of its own).
    const run = runScript('database/stop-fast.sh', { path: [dir], env: { PGDATA: '/var/lib/postgresql/18/docker' } });
    return { run, calls: logs.map(calls) };
  };
  it('uses gosu when the image has it', () => {
    const { run, calls: [gosu, suExec] } = stop(['gosu', 'su-exec']);
    expect(run.status).toBe(0);
    expect(gosu).toEqual(['postgres pg_ctl stop -D /var/lib/postgresql/18/docker -m fast -w -t 50']);
    expect(suExec).toEqual([]);
  });
  it('falls back to su-exec', () => {
    const { run, calls: [suExec] } = stop(['su-exec']);
    expect(run.status).toBe(0);
    expect(suExec).toEqual(['postgres pg_ctl stop -D /var/lib/postgresql/18/docker -m fast -w -t 50']);
  });
  it('says so when neither exists', () => {
    const { run } = stop([]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/neither gosu nor su-exec/);
  });
});
