import { spawn, spawnSync } from 'child_process';
import { X509Certificate } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tls from 'tls';
import { scriptPath } from '../../lib/config/container-scripts';
import { createHomeCa } from '../../lib/https/home-ca';
import { ServerCertificate } from '../../lib/https/server-certificate';
import { applets, startScript } from '../support/busybox';
import { selfSignedPem } from '../support/nginx-host';
import { commands, describeWhen, which } from '../support/requirements';
import { synthStack, testHomeCa } from '../support/stack';

const ISSUER = scriptPath('https/issue-certificate.php');
const DAY = 86400;

/** The issuing container's environment, as synthesized. */
const issuerEnv: Record<string, string> = Object.fromEntries(synthStack().get('Deployment', 'nextcloud').spec.template.spec.initContainers
  .find((c: { name: string }) => c.name === 'certificate').env.map((e: { name: string; value: string }) => [e.name, e.value]));

function setup(ca = testHomeCa()): { caDir: string; tlsDir: string; pem: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-cert-'));
  const caDir = path.join(dir, 'ca');
  fs.mkdirSync(caDir);
  fs.writeFileSync(path.join(caDir, 'ca.crt'), ca.certPem);
  fs.writeFileSync(path.join(caDir, 'ca.key'), ca.keyPem);
  return { caDir, tlsDir: path.join(dir, 'tls'), pem: path.join(dir, 'tls', 'tls.pem') };
}

function issue(d: { caDir: string; tlsDir: string }, env: Record<string, string> = {}) {
  fs.mkdirSync(d.tlsDir, { recursive: true });
  return spawnSync('php', ['-n', ISSUER], { env: { PATH: process.env.PATH, ...issuerEnv, CA_DIR: d.caDir, TLS_DIR: d.tlsDir, ...env }, encoding: 'utf8' });
}

const certOf = (pem: string) => new X509Certificate(fs.readFileSync(pem, 'utf8'));
const at = (days: number) => String(Math.floor(Date.now() / 1000) + days * DAY);

describeWhen(commands(['php', 'openssl'], 'apt-get install php-cli openssl'), 'issue-certificate.php (the pod\'s certificate issuer)', () => {
  it('issues a certificate that meets Apple\'s and the browsers\' rules, for every trusted name and address', () => {
    const d = setup();
    const r = issue(d);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/issued a server certificate for localhost, familypc, 127\.0\.0\.1, 192\.168\.1\.20 .* because there is none yet/);
    const cert = certOf(d.pem);
    expect(cert.subjectAltName).toBe('DNS:localhost, DNS:familypc, IP Address:127.0.0.1, IP Address:192.168.1.20');
    expect(cert.ca).toBe(false);
    expect(cert.publicKey.asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' });
    expect(cert.checkIssued(new X509Certificate(testHomeCa().certPem))).toBe(true);
    const days = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 1000 / DAY;
    expect(days).toBe(ServerCertificate.VALID_DAYS);
    expect(days).toBeLessThanOrEqual(825);
    const text = spawnSync('openssl', ['x509', '-in', d.pem, '-noout', '-text'], { encoding: 'utf8' }).stdout;
    expect(text).toMatch(/Signature Algorithm: ecdsa-with-SHA256/);
    expect(text).toMatch(/Extended Key Usage: *\n\s*TLS Web Server Authentication/);
    expect(text).toMatch(/Basic Constraints: critical\n\s*CA:FALSE/);
    // Key and certificate in one owner-only file (nginx's user owns it in the pod).
    expect(fs.statSync(d.pem).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(d.pem, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----[\s\S]+-----BEGIN CERTIFICATE-----/);
    const verify = spawnSync('openssl', ['verify', '-x509_strict', '-CAfile', path.join(d.caDir, 'ca.crt'), '-verify_hostname', 'familypc', d.pem], { encoding: 'utf8' });
    expect(verify.stdout).toMatch(/OK/);
  });

  it('keeps a good certificate, and renews it when fewer than 45 days remain, not before (moved clock)', () => {
    const d = setup();
    issue(d);
    const first = certOf(d.pem).serialNumber;
    const kept = issue(d, { HOMECLOUD_NOW: at(44) });
    expect(kept.stdout).toMatch(/server certificate valid until \d{4}-\d\d-\d\d; renewed from/);
    expect(certOf(d.pem).serialNumber).toBe(first);
    const renewed = issue(d, { HOMECLOUD_NOW: at(46) });
    expect(renewed.stdout).toMatch(/issued .* because the current one expires on/);
    expect(certOf(d.pem).serialNumber).not.toBe(first);
  });

  it('re-issues when the names change, when the CA changes, and when the file is damaged', () => {
    const d = setup();
    issue(d);
    expect(issue(d, { HOMECLOUD_TLS_DNS: 'localhost familypc photos.lan' }).stdout).toMatch(/because the names changed/);
    expect(certOf(d.pem).subjectAltName).toContain('DNS:photos.lan');
    const other = createHomeCa(['localhost'], 'other', new Date());
    fs.writeFileSync(path.join(d.caDir, 'ca.crt'), other.certPem);
    fs.writeFileSync(path.join(d.caDir, 'ca.key'), other.keyPem);
    expect(issue(d, { HOMECLOUD_TLS_DNS: 'localhost familypc photos.lan' }).stdout).toMatch(/because the home CA changed/);
    fs.writeFileSync(d.pem, 'half a file');
    expect(issue(d, { HOMECLOUD_TLS_DNS: 'localhost familypc photos.lan' }).stdout).toMatch(/because the current one is damaged/);
  });

  it('fails with the reason and leaves the current certificate alone when the CA is missing or broken', () => {
    const d = setup();
    issue(d);
    const before = fs.readFileSync(d.pem, 'utf8');
    fs.writeFileSync(path.join(d.caDir, 'ca.key'), createHomeCa(['localhost'], 'x', new Date()).keyPem);
    const mismatch = issue(d, { HOMECLOUD_NOW: at(60) });
    expect(mismatch.status).toBe(1);
    expect(mismatch.stderr).toMatch(/home CA's key .* does not belong to its certificate/);
    fs.rmSync(path.join(d.caDir, 'ca.key'));
    const missing = issue(d, { HOMECLOUD_NOW: at(60) });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/home CA in .* is missing or unreadable/);
    expect(fs.readFileSync(d.pem, 'utf8')).toBe(before);
  });

  it('refuses names that are not host names or addresses (they would go into an OpenSSL config)', () => {
    const d = setup();
    const r = issue(d, { HOMECLOUD_TLS_DNS: 'localhost evil\nsubjectAltName=DNS:example.com' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/is not a host name/);
    expect(issue(d, { HOMECLOUD_TLS_IP: '300.1.1.1' }).stderr).toMatch(/is not an IP address/);
    expect(fs.existsSync(d.pem)).toBe(false);
  });
});

describeWhen(commands(['php', 'busybox'], 'apt-get install php-cli busybox'), 'certificate-loop.sh under busybox sh', () => {
  // It runs in the Nextcloud image, whose stop signal is SIGQUIT (php-fpm's): as a container's
  // first process it would ignore it, and every stop of the pod would wait out the grace period.
  it('ends cleanly on SIGQUIT, the image\'s stop signal', async () => {
    const d = setup();
    const child = startScript('https/certificate-loop.sh', { env: { ...issuerEnv, CA_DIR: d.caDir, TLS_DIR: d.tlsDir, CHECK_SECONDS: '600' }, path: [path.dirname(process.execPath), '/usr/bin'] });
    let out = '';
    child.stdout.on('data', (b) => { out += b; });
    for (let i = 0; i < 100 && !/valid until/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGQUIT');
    // Ignored, it would never end: give it far longer than a clean stop takes, then look.
    const ended = await new Promise<[number | null, string | null] | 'still running'>((r) => {
      const t = setTimeout(() => { child.kill('SIGKILL'); r('still running'); }, 20_000);
      child.once('exit', (c, sig) => { clearTimeout(t); r([c, sig]); });
    });
    expect(ended).toEqual([0, null]);
  });
  it('checks at once and then every CHECK_SECONDS, survives a failed check, and stops at once on TERM', async () => {
    const d = setup();
    // The loop runs issue-certificate.php from its own folder, as from the mounted ConfigMap.
    const child = startScript('https/certificate-loop.sh', { env: { ...issuerEnv, CA_DIR: d.caDir, TLS_DIR: d.tlsDir, CHECK_SECONDS: '1' }, path: [path.dirname(process.execPath), '/usr/bin'] });
    fs.mkdirSync(d.tlsDir, { recursive: true });
    let out = '';
    child.stdout.on('data', (b) => { out += b; });
    child.stderr.on('data', (b) => { out += b; });
    const until = async (re: RegExp) => {
      const deadline = Date.now() + 10_000;
      while (!re.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(out).toMatch(re);
    };
    await until(/issued a server certificate/);
    await until(/server certificate valid until/);
    fs.renameSync(path.join(d.caDir, 'ca.key'), path.join(d.caDir, 'away'));
    await until(/check failed; the current certificate stays in use/);
    fs.renameSync(path.join(d.caDir, 'away'), path.join(d.caDir, 'ca.key'));
    const stopped = Date.now();
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.on('exit', (c) => r(c)));
    expect(code).toBe(0);
    expect(Date.now() - stopped).toBeLessThan(2000);
  });
});

describeWhen(commands(['nginx', 'openssl', 'busybox'], 'apt-get install nginx-light openssl busybox'), 'nginx-run.sh (the web container\'s command) under busybox sh', () => {
  /** nginx on a Unix socket with TLS, as little as it takes: no port of this machine is used. */
  function minimalTls(dir: string): string {
    const conf = path.join(dir, 'nginx.conf');
    fs.writeFileSync(conf, `worker_processes 1;\npid ${dir}/nginx.pid;\nerror_log ${dir}/error.log warn;\ndaemon off;\nevents {}\nhttp {
  access_log off;
  ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${dir}/${t};`).join('\n  ')}
  server { listen unix:${dir}/tls.sock ssl; ssl_certificate ${dir}/tls.pem; ssl_certificate_key ${dir}/tls.pem; return 200 "ok\\n"; }
}\n`);
    return conf;
  }
  const serial = (dir: string) => new Promise<string>((resolve, reject) => {
    const c = tls.connect({ path: path.join(dir, 'tls.sock'), rejectUnauthorized: false }, () => { resolve(c.getPeerCertificate().serialNumber); c.end(); });
    c.on('error', reject);
  });
  /** Replaces the file whole, as issue-certificate.php does. */
  const replace = (dir: string, text: string) => { fs.writeFileSync(path.join(dir, 'tls.pem.tmp'), text); fs.renameSync(path.join(dir, 'tls.pem.tmp'), path.join(dir, 'tls.pem')); };

  it('reloads nginx when the certificate is replaced, refuses a broken one with the reason, and stops nginx at once on TERM', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-nginx-run-'));
    selfSignedPem(dir);
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-nginx-run-2-'));
    const next = fs.readFileSync(selfSignedPem(other), 'utf8');
    const run = spawn(which('busybox')!, ['sh', scriptPath('nextcloud/nginx-run.sh'), minimalTls(dir), path.join(dir, 'tls.pem')],
      { env: { PATH: `/usr/sbin:${applets()}:/usr/bin:/bin`, CHECK_SECONDS: '1' } });
    let out = '';
    run.stdout.on('data', (b: Buffer) => { out += b; });
    run.stderr.on('data', (b: Buffer) => { out += b; });
    const eventually = async <T>(f: () => Promise<T>, ok: (v: T) => boolean) => {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const v = await f().catch(() => undefined);
        if (v !== undefined && ok(v)) return v;
        if (Date.now() > deadline) throw new Error(`timed out; output: ${out}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    const first = await eventually(() => serial(dir), () => true);
    replace(dir, 'not a certificate');
    await eventually(async () => out, (o) => /not reloading nginx, the new certificate file is not usable yet/.test(o));
    expect(await serial(dir)).toBe(first);
    replace(dir, next);
    const second = await eventually(() => serial(dir), (s) => s !== first);
    expect(second).toBe(new X509Certificate(next).serialNumber);
    expect(out).toMatch(/new server certificate, nginx reloaded/);
    const master = Number(fs.readFileSync(path.join(dir, 'nginx.pid'), 'utf8'));
    const stopped = Date.now();
    run.kill('SIGTERM');
    await new Promise((r) => run.once('exit', r));
    expect(Date.now() - stopped).toBeLessThan(3000);
    expect(() => process.kill(master, 0)).toThrow();
  });
});
