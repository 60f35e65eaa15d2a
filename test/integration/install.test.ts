import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ControlPlane, controlPlaneAvailable, startControlPlane } from '../support/control-plane';
import { copyOfProject } from '../support/project-copy';
import { describeWhen, which } from '../support/requirements';

const ROOT = path.join(__dirname, '..', '..');
const COMMANDS = ['deploy', 'status', 'backup', 'restore', 'export', 'offsite', 'uninstall', 'admin-password'];

const available = (() => {
  const cp = controlPlaneAvailable();
  if (!cp.ok) return cp;
  if (!which('git') || !fs.existsSync(path.join(ROOT, '.git'))) return { ok: false, reason: 'needs a git checkout to know the project\'s files' };
  return cp;
})();

// The user's install is the production install: `npm ci --omit=dev`, then every command.
describeWhen(available, 'a family\'s install (npm ci --omit=dev) on a real control plane', () => {
  let cluster: ControlPlane;
  let app: string;
  let env: NodeJS.ProcessEnv;
  const node = (args: string[]) => {
    const r = spawnSync(process.execPath, args, { cwd: app, env, encoding: 'utf8', timeout: 180_000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const homecloud = (...args: string[]) => node([path.join(app, 'bin', 'homecloud.js'), ...args, '--context', 'homecloud-test']);
  const allocatable = (memory: string, cpu = '8') => cluster.kubectl(['patch', 'node', 'docker-desktop', '--subresource=status', '--type=merge', '-p',
    JSON.stringify({ status: { allocatable: { memory, cpu }, capacity: { memory, cpu } } })]);

  beforeAll(() => {
    cluster = startControlPlane();
    app = copyOfProject();
    const install = spawnSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: app, encoding: 'utf8', timeout: 600_000 });
    if (install.status !== 0) throw new Error(`npm ci --omit=dev failed:\n${install.stderr}`);
    env = { ...process.env, KUBECONFIG: cluster.kubeconfig, HOMECLOUD_OUTDIR: path.join(app, 'dist') };
    delete env.NODE_OPTIONS;
  }, 15 * 60_000);
  afterAll(() => cluster?.stop());

  it('installs no developer tools', () => {
    for (const dev of ['jest', 'typescript', 'cdk8s-cli', '@cyclonedx/cyclonedx-npm', 'ajv']) {
      expect([dev, fs.existsSync(path.join(app, 'node_modules', dev))]).toEqual([dev, false]);
    }
  });

  it('synthesizes with `npm run synth`', () => {
    const r = spawnSync('npm', ['run', 'synth'], { cwd: app, env, encoding: 'utf8' });
    expect(r.stderr).toMatch(/homecloud: wrote .*app\.k8s\.yaml/);
    expect(r.status).toBe(0);
  });

  it.each(COMMANDS)('explains %s with --help', (command) => {
    const r = node([path.join(app, 'bin', 'homecloud.js'), command, '--help']);
    expect([r.code, r.out]).toEqual([0, expect.stringMatching(/^homecloud — install, check, back up and remove your home cloud/)]);
  });

  it('shows what deploy would do with --dry-run, through the server', () => {
    const r = homecloud('deploy', '--dry-run');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Deployment\/nextcloud would create$/m);
  });

  it('refuses to deploy onto a node that cannot hold the requests, and changes nothing', () => {
    allocatable('400Mi');
    const r = homecloud('deploy', '--no-wait');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/has 400 MiB of memory left for new programs, but the home cloud needs 608 MiB reserved.*\.wslconfig/);
    expect(r.err).toMatch(/Not deploying: .*nothing was changed\. Add --force/);
    expect(cluster.kubectl(['get', 'namespaces', '-o', 'name'])).not.toMatch(/namespace\/homecloud\b/);
  });

  it('deploys anyway with --force', () => {
    const r = homecloud('deploy', '--no-wait', '--force');
    expect(r.code).toBe(0);
    expect(cluster.kubectl(['get', 'namespace', 'homecloud', '-o', 'name']).trim()).toBe('namespace/homecloud');
  });

  it('deploys on a tight node with a warning, and status repeats it', () => {
    allocatable('3Gi');
    const r = homecloud('deploy', '--no-wait');
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/Memory is tight: the home cloud may use up to 3408 MiB when busy/);
    expect(homecloud('status').out).toMatch(/! Memory is tight/);
  });

  it('says nothing about capacity when the node fits', () => {
    allocatable('16Gi');
    const r = homecloud('deploy', '--no-wait');
    expect(r.err).not.toMatch(/tight|too small/);
    expect(homecloud('status').out).not.toMatch(/tight/);
  });

  describe('a broken environment: one sentence with the fix, exit code 2, no stack trace', () => {
    const moved: Array<[string, string]> = [];
    const hide = (rel: string) => {
      const from = path.join(app, rel);
      const to = `${from}.hidden-by-test`;
      fs.renameSync(from, to);
      moved.push([to, from]);
    };
    afterEach(() => { while (moved.length) { const [from, to] = moved.pop()!; fs.rmSync(to, { recursive: true, force: true }); fs.renameSync(from, to); } });

    it.each([['synth', ['scripts/synth.js']], ['deploy', ['bin/homecloud.js', 'deploy', '--context', 'homecloud-test']]])(
      'names a missing package (%s)', (_what, args) => {
        hide('node_modules/esbuild');
        hide('node_modules/.cache');
        const r = node(args.map((a, i) => (i === 0 ? path.join(app, a) : a)));
        expect(r.code).toBe(2);
        expect(r.err).toBe(`homecloud cannot start: the package esbuild is missing from node_modules. Run \`npm ci --omit=dev\` in ${app} (it reinstalls them), then try again.\n`);
      });

    it('names a damaged package', () => {
      const main = path.join(app, 'node_modules', 'constructs', 'lib', 'index.js');
      hide('node_modules/constructs/lib/index.js');
      fs.writeFileSync(main, 'module.exports = {{{ half-written');
      const r = node([path.join(app, 'scripts', 'synth.js')]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^homecloud cannot start: the installed package constructs is damaged \(.*\)\. Run `npm ci --omit=dev` in .* then try again\.\n$/);
    });
  });
});
