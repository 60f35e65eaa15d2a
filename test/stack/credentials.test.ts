import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadOrCreateCredentials } from '../../lib/config/secrets-store';
import { synth } from '../../lib/stack/synth';
import { CREDENTIALS, HOST, K8sObject, synthStack } from '../support/stack';

const ROOT = path.join(__dirname, '..', '..');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'hc-cred-'));

describe('the credentials file', () => {
  it('is created on first use with strong random passwords', () => {
    const c = loadOrCreateCredentials(path.join(tmp(), 'credentials.json'));
    const values = [c.postgresPassword, c.adminPassword, c.cachePassword];
    for (const v of values) expect(v).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(new Set(values).size).toBe(3);
  });

  it('is readable by its owner only', () => {
    const file = path.join(tmp(), 'credentials.json');
    loadOrCreateCredentials(file);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('is reused on every later synth, so the database password never changes', () => {
    const dir = tmp();
    const paths = { outdir: path.join(dir, 'dist'), credentials: path.join(dir, 'credentials.json') };
    const manifest = () => fs.readFileSync(path.join(paths.outdir, 'app.k8s.yaml'), 'utf8');
    expect(synth({}, HOST, paths, () => undefined)).toBe(0);
    const first = manifest();
    expect(synth({}, HOST, paths, () => undefined)).toBe(0);
    expect(manifest()).toBe(first);
    const saved = JSON.parse(fs.readFileSync(paths.credentials, 'utf8'));
    expect(first).toContain(Buffer.from(saved.postgresPassword).toString('base64'));
  });

  it('keeps existing passwords and adds only a missing one', () => {
    const file = path.join(tmp(), 'credentials.json');
    fs.writeFileSync(file, JSON.stringify({ postgresPassword: 'kept-1', adminPassword: 'kept-2' }));
    const c = loadOrCreateCredentials(file);
    expect([c.postgresPassword, c.adminPassword]).toEqual(['kept-1', 'kept-2']);
    expect(c.cachePassword).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).cachePassword).toBe(c.cachePassword);
  });

  it('is never overwritten when damaged; synth explains instead', () => {
    const dir = tmp();
    const file = path.join(dir, 'credentials.json');
    fs.writeFileSync(file, '{"postgresPassword": "kept"');
    const messages: string[] = [];
    expect(synth({}, HOST, { outdir: path.join(dir, 'dist'), credentials: file }, (m) => messages.push(m))).toBe(1);
    expect(messages.join('')).toMatch(/not valid JSON.*will not replace it/s);
    expect(fs.readFileSync(file, 'utf8')).toBe('{"postgresPassword": "kept"');
  });
});

describe('no file that holds a secret is readable by others (a PC the whole family logs into)', () => {
  /** Every file under dir whose bytes hold one of the values, in the clear or base64 (as in a Secret). */
  const holders = (dir: string, values: string[]): string[] => fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((rel) => path.join(dir, rel)).filter((f) => fs.statSync(f).isFile())
    .filter((f) => {
      const text = fs.readFileSync(f, 'utf8');
      return values.some((v) => text.includes(v) || text.includes(Buffer.from(v).toString('base64')));
    });

  it('after synth, under a umask that lets everybody read, and over a dist/ an earlier synth left world-readable', () => {
    const dir = tmp();
    const paths = { outdir: path.join(dir, 'dist'), credentials: path.join(dir, '.homecloud', 'credentials.json') };
    fs.mkdirSync(paths.outdir, { mode: 0o755 });
    fs.writeFileSync(path.join(paths.outdir, 'app.k8s.yaml'), 'old', { mode: 0o644 });
    const before = process.umask(0o022);
    try {
      expect(synth({}, HOST, paths, () => undefined)).toBe(0);
    } finally {
      process.umask(before);
    }
    const saved = JSON.parse(fs.readFileSync(paths.credentials, 'utf8')) as Record<string, string>;
    const caKey = fs.readFileSync(path.join(dir, '.homecloud', 'home-ca.key'), 'utf8').split('\n').filter((l) => l && !l.startsWith('-----')).join('');
    const secrets = [...Object.values(saved).filter((v) => typeof v === 'string' && v.length >= 16), caKey.slice(0, 40)];
    const files = holders(dir, secrets);
    // The manifests (the Secrets in the clear), the credentials and the CA key at least.
    expect(files.map((f) => path.relative(dir, f)).sort()).toEqual(expect.arrayContaining(['.homecloud/credentials.json', '.homecloud/home-ca.key', 'dist/app.k8s.yaml']));
    for (const f of files) expect([path.relative(dir, f), (fs.statSync(f).mode & 0o077).toString(8)]).toEqual([path.relative(dir, f), '0']);
    for (const d of [paths.outdir, path.dirname(paths.credentials)]) expect((fs.statSync(d).mode & 0o077).toString(8)).toBe('0');
  });
});

describe('secrets stay out of git', () => {
  it('ignores dist/ and the credentials folder', () => {
    const ignored = execFileSync('git', ['check-ignore', 'dist/app.k8s.yaml', '.homecloud/credentials.json'], { cwd: ROOT, encoding: 'utf8' });
    expect(ignored.trim().split('\n')).toEqual(['dist/app.k8s.yaml', '.homecloud/credentials.json']);
  });

  it('has no generated password in any tracked file', () => {
    const dir = tmp();
    const credentials = path.join(dir, 'credentials.json');
    synth({}, HOST, { outdir: path.join(dir, 'dist'), credentials }, () => undefined);
    const secrets = Object.values<string>(JSON.parse(fs.readFileSync(credentials, 'utf8')));
    // The user's own credentials file, when this checkout has one, must not leak either.
    const own = path.join(ROOT, '.homecloud', 'credentials.json');
    if (fs.existsSync(own)) secrets.push(...Object.values<string>(JSON.parse(fs.readFileSync(own, 'utf8'))));
    const tracked = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
      .split('\0').filter((f) => f && fs.existsSync(path.join(ROOT, f)));
    expect(tracked.length).toBeGreaterThan(10);
    for (const f of tracked) {
      const text = fs.readFileSync(path.join(ROOT, f), 'latin1');
      for (const s of secrets) {
        expect([f, text.includes(s), text.includes(Buffer.from(s).toString('base64'))]).toEqual([f, false, false]);
      }
    }
  });

  it('gives no container a literal password: every one comes from the Secret', () => {
    for (const { owner, container } of synthStack().containers()) {
      for (const e of (container.env ?? []).filter((x: K8sObject) => /PASSWORD/.test(x.name))) {
        expect([owner, e.name, e.value, e.valueFrom?.secretKeyRef?.name]).toEqual([owner, e.name, undefined, 'homecloud-credentials']);
      }
    }
  });

  it('keeps passwords out of ConfigMaps', () => {
    const stack = synthStack();
    const configMaps = JSON.stringify(stack.ofKind('ConfigMap'));
    for (const value of Object.values(CREDENTIALS)) expect(configMaps).not.toContain(value);
    expect(configMaps).not.toMatch(/requirepass/);
  });
});
