import { spawnSync } from 'child_process';
import { X509Certificate } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import * as tls from 'tls';
import { caFiles, loadOrCreateHomeCa } from '../../lib/https/ca-store';
import { UserFacingError } from '../../lib/config/errors';
import { HomeCa, createHomeCa, homeCaProblem, inRange, outsideOf, permittedFor, permittedOf, serverNames } from '../../lib/https/home-ca';
import { MANIFEST_FILE, synth } from '../../lib/stack/synth';
import { commands, describeWhen } from '../support/requirements';
import { HOST } from '../support/stack';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'hc-ca-'));
const NOW = new Date('2026-11-27T10:00:00Z');
const TRUSTED = ['localhost', '127.0.0.1', 'familypc', '192.168.1.20', 'cloud.home.arpa'];

function openssl(args: string[], input?: string): { status: number | null; out: string } {
  const r = spawnSync('openssl', args, { encoding: 'utf8', input });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** A server certificate for `sans` (OpenSSL's syntax) signed by the CA with OpenSSL itself, not our issuer. */
function leaf(dir: string, ca: HomeCa, name: string, sans: string): { pem: string; key: string; file: string } {
  const base = path.join(dir, name);
  fs.writeFileSync(`${base}.ca.crt`, ca.certPem);
  fs.writeFileSync(`${base}.ca.key`, ca.keyPem);
  fs.writeFileSync(`${base}.ext`, `subjectAltName=${sans}\nextendedKeyUsage=serverAuth\nbasicConstraints=critical,CA:FALSE\n`);
  for (const args of [
    ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=leaf', '-keyout', `${base}.key`, '-out', `${base}.csr`],
    ['x509', '-req', '-in', `${base}.csr`, '-CA', `${base}.ca.crt`, '-CAkey', `${base}.ca.key`, '-CAcreateserial', '-days', '30', '-sha256', '-extfile', `${base}.ext`, '-out', `${base}.crt`],
  ]) {
    const r = openssl(args);
    if (r.status !== 0) throw new Error(r.out);
  }
  return { pem: fs.readFileSync(`${base}.crt`, 'utf8'), key: fs.readFileSync(`${base}.key`, 'utf8'), file: `${base}.crt` };
}

/** Node's TLS client, trusting only the home CA, against a server presenting `cert` (over a Unix socket: no port used). */
async function nodeConnects(dir: string, ca: HomeCa, cert: { pem: string; key: string }, host: string): Promise<string> {
  const sock = path.join(dir, `tls-${Math.random().toString(16).slice(2)}.sock`);
  const server = tls.createServer({ cert: cert.pem, key: cert.key }, (s) => s.end('hi'));
  await new Promise<void>((r) => server.listen(sock, r));
  try {
    return await new Promise<string>((resolve) => {
      const raw = net.connect(sock);
      const opts: tls.ConnectionOptions = { socket: raw, ca: [ca.certPem], host, ...(net.isIP(host) ? {} : { servername: host }) };
      const c = tls.connect(opts, () => { c.end(); resolve('ok'); });
      // Node has no code of its own for OpenSSL's "permitted subtree violation": it says UNSPECIFIED.
      c.on('error', (e: NodeJS.ErrnoException) => resolve(`${e.code}: ${e.message}`));
    });
  } finally {
    server.close();
  }
}

describe('the home CA', () => {
  const ca = createHomeCa(TRUSTED, 'familypc', NOW);
  const cert = new X509Certificate(ca.certPem);

  it('is a CA with a P-256 key and a SHA-256 signature, valid ten years from an hour ago', () => {
    expect(cert.ca).toBe(true);
    expect(cert.publicKey.asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' });
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(Date.parse(cert.validFrom)).toBe(NOW.getTime() - 3600_000);
    expect(Date.parse(cert.validTo) - Date.parse(cert.validFrom)).toBe(3650 * 86400_000);
    expect(homeCaProblem(ca, NOW)).toBeUndefined();
  });

  it('permits the private suffixes and ranges, and the PC\'s own one-label name', () => {
    const p = permittedOf(ca.certPem)!;
    expect(p.dns).toEqual(expect.arrayContaining(['localhost', 'lan', 'local', 'home.arpa', 'internal', 'familypc']));
    expect(p.ip).toEqual(expect.arrayContaining(['192.168.0.0/16', '10.0.0.0/8', '172.16.0.0/12', '127.0.0.0/8', 'fc00::/7']));
    expect(outsideOf(p, TRUSTED)).toEqual([]);
    expect(outsideOf(p, ['nextcloud.example.com', '8.8.8.8', 'nas.lan', '10.1.2.3'])).toEqual(['nextcloud.example.com', '8.8.8.8']);
  });

  it('names every trusted name and address in the server certificate, with localhost', () => {
    expect(serverNames(['familypc:8080', '192.168.1.20', '[fe80::1]'])).toEqual({ dns: ['localhost', 'familypc'], ip: ['127.0.0.1', '192.168.1.20', 'fe80::1'] });
  });

  it('matches addresses against ranges, v4 and v6', () => {
    expect(inRange('172.31.255.1', '172.16.0.0/12')).toBe(true);
    expect(inRange('172.32.0.1', '172.16.0.0/12')).toBe(false);
    expect(inRange('fd12:3456::1', 'fc00::/7')).toBe(true);
    expect(inRange('2001:db8::1', 'fc00::/7')).toBe(false);
    expect(permittedFor(['cloud.example.org']).dns).toContain('cloud.example.org');
    // A LAN numbered outside the private ranges: that one address, nothing around it.
    const odd = permittedFor(['localhost', '130.83.1.20']);
    expect(odd.ip).toContain('130.83.1.20/32');
    expect(outsideOf(odd, ['130.83.1.20', '130.83.1.21'])).toEqual(['130.83.1.21']);
  });

  it('reports what makes a stored CA unusable', () => {
    const other = createHomeCa(TRUSTED, 'other', NOW);
    expect(homeCaProblem({ certPem: ca.certPem, keyPem: other.keyPem }, NOW)).toMatch(/key does not belong/);
    expect(homeCaProblem({ certPem: ca.certPem.slice(0, 200), keyPem: ca.keyPem }, NOW)).toMatch(/not a readable PEM certificate/);
    expect(homeCaProblem({ certPem: ca.certPem, keyPem: 'garbage' }, NOW)).toMatch(/not a readable PEM private key/);
    expect(homeCaProblem(ca, new Date('2037-01-01'))).toMatch(/expired on 2036/);
  });
});

describeWhen(commands(['openssl'], 'apt-get install openssl'), 'name constraints, proven with OpenSSL and Node', () => {
  const dir = tmp();
  const ca = createHomeCa(TRUSTED, 'familypc', new Date());
  fs.writeFileSync(path.join(dir, 'ca.pem'), ca.certPem);
  const verify = (file: string, host: string) => openssl(['verify', '-CAfile', path.join(dir, 'ca.pem'), '-x509_strict', net.isIP(host) ? '-verify_ip' : '-verify_hostname', host, file]);

  it.each([
    ['familypc', 'DNS:familypc'],
    ['cloud.home.arpa', 'DNS:cloud.home.arpa'],
    ['nas.fritz.box', 'DNS:nas.fritz.box'],
    ['192.168.1.20', 'IP:192.168.1.20'],
    ['localhost', 'DNS:localhost'],
  ])('lets the CA vouch for %s', async (host, sans) => {
    const c = leaf(dir, ca, host.replace(/\W/g, '_'), sans);
    expect(verify(c.file, host)).toMatchObject({ status: 0 });
    await expect(nodeConnects(dir, ca, c, host)).resolves.toBe('ok');
  });

  // The same names from a CA without constraints pass Node's check: what refuses them below is the constraint.
  const plainCa = (() => {
    const key = path.join(dir, 'plain.key');
    const crt = path.join(dir, 'plain.crt');
    const r = openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=plain',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign', '-keyout', key, '-out', crt]);
    if (r.status !== 0) throw new Error(r.out);
    return { certPem: fs.readFileSync(crt, 'utf8'), keyPem: fs.readFileSync(key, 'utf8') };
  })();

  it.each([
    ['example.com', 'DNS:example.com'],
    ['www.google.com', 'DNS:www.google.com'],
    ['familypc.evil.com', 'DNS:familypc.evil.com'],
    ['8.8.8.8', 'IP:8.8.8.8'],
    ['2001:4860:4860::8888', 'IP:2001:4860:4860::8888'],
  ])('refuses a certificate for %s even though the home CA signed it', async (host, sans) => {
    const c = leaf(dir, ca, host.replace(/\W/g, '_'), sans);
    const r = verify(c.file, host);
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/permitted subtree violation/);
    await expect(nodeConnects(dir, ca, c, host)).resolves.toMatch(/^UNSPECIFIED/);
    await expect(nodeConnects(dir, plainCa, leaf(dir, plainCa, `plain-${host.replace(/\W/g, '_')}`, sans), host)).resolves.toBe('ok');
  });

  it('refuses a certificate that hides a public name beside a permitted one', async () => {
    const c = leaf(dir, ca, 'mixed', 'DNS:familypc,DNS:example.com');
    expect(verify(c.file, 'familypc').out).toMatch(/permitted subtree violation/);
    await expect(nodeConnects(dir, ca, c, 'familypc')).resolves.toMatch(/^UNSPECIFIED/);
  });
});

describe('keeping the CA (lib/https/ca-store.ts)', () => {
  it('creates it once, owner-only, beside the credentials, and keeps it', () => {
    const dir = tmp();
    const creds = path.join(dir, '.homecloud', 'credentials.json');
    const first = loadOrCreateHomeCa(creds, TRUSTED, 'familypc', NOW);
    const files = caFiles(creds);
    expect(fs.statSync(files.key).mode & 0o777).toBe(0o600);
    expect(loadOrCreateHomeCa(creds, TRUSTED, 'familypc', NOW)).toEqual(first);
  });

  it('stops on a damaged or half-present CA and changes nothing', () => {
    const dir = tmp();
    const creds = path.join(dir, 'credentials.json');
    loadOrCreateHomeCa(creds, TRUSTED, 'familypc', NOW);
    const files = caFiles(creds);
    const keyBefore = fs.readFileSync(files.key, 'utf8');
    fs.writeFileSync(files.cert, 'not a certificate');
    expect(() => loadOrCreateHomeCa(creds, TRUSTED, 'familypc', NOW)).toThrow(/cannot be used: the certificate is not a readable PEM certificate.*move both/s);
    expect(fs.readFileSync(files.cert, 'utf8')).toBe('not a certificate');
    expect(fs.readFileSync(files.key, 'utf8')).toBe(keyBefore);
    fs.unlinkSync(files.cert);
    expect(() => loadOrCreateHomeCa(creds, TRUSTED, 'familypc', NOW)).toThrow(UserFacingError);
    expect(() => loadOrCreateHomeCa(creds, TRUSTED, 'familypc', NOW)).toThrow(/incomplete: .*home-ca\.crt is missing/);
    expect(fs.existsSync(files.cert)).toBe(false);
  });

  it('refuses a trusted name the CA may not vouch for, naming it and the way out', () => {
    const dir = tmp();
    const creds = path.join(dir, 'credentials.json');
    loadOrCreateHomeCa(creds, TRUSTED, 'familypc', NOW);
    expect(() => loadOrCreateHomeCa(creds, [...TRUSTED, 'newname', '8.8.4.4'], 'familypc', NOW))
      .toThrow(/trustedDomains: the home CA may not vouch for "newname", "8\.8\.4\.4".*\.lan.*new CA/s);
    // A name under a private suffix needs no new CA.
    expect(() => loadOrCreateHomeCa(creds, [...TRUSTED, 'photos.lan', '10.0.0.7'], 'familypc', NOW)).not.toThrow();
  });

  it('makes synth stop with the message before writing anything', () => {
    const dir = tmp();
    const creds = path.join(dir, 'credentials.json');
    const out = path.join(dir, 'dist');
    expect(synth({}, HOST, { outdir: out, credentials: creds }, () => undefined)).toBe(0);
    fs.rmSync(out, { recursive: true });
    fs.writeFileSync(caFiles(creds).key, 'damaged');
    const messages: string[] = [];
    expect(synth({}, HOST, { outdir: out, credentials: creds }, (m) => messages.push(m))).toBe(1);
    expect(messages.join('')).toMatch(/home CA .* cannot be used/);
    expect(fs.existsSync(path.join(out, MANIFEST_FILE))).toBe(false);
  });
});
