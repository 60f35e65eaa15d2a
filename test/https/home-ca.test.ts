import { spawnSync } from 'child_process';
import { X509Certificate } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import * as tls from 'tls';
import { caFiles, loadOrCreateHomeCa } from '../../lib/https/ca-store';
import { UserFacingError } from '../../lib/config/errors';
import { HomeCa, PRIVATE_DNS_SUFFIXES, PRIVATE_RANGES, createHomeCa, homeCaProblem, inRange, outsideOf, permittedFor, permittedOf, publicName, serverNames } from '../../lib/https/home-ca';
import { resolveSettings } from '../../lib/config/resolve-settings';
import { SettingsError } from '../../lib/config/settings';
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
  // (A name under a public domain, like a FRITZ!Box's nas.fritz.box, is permitted only as set in trustedDomains.)
  const ca = createHomeCa([...TRUSTED, 'nas.fritz.box'], 'familypc', new Date());
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
    ['fritz.box', 'DNS:fritz.box'],
    ['login.fritz.box', 'DNS:login.fritz.box'],
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

  it.each([['family', true], ['app', true], ['casa', true], ['home', false], ['desktop-7h2k', false]])(
    'a PC named %s: a certificate for bank.<its name> signed with its CA is refused where the name is public (%s)', (name, isPublic) => {
      const own = createHomeCa(resolveSettings({}, { ...HOST, hostname: name as string }).trustedDomains, name as string, new Date());
      const caFile = path.join(dir, `pc-${name}.pem`);
      fs.writeFileSync(caFile, own.certPem);
      const c = leaf(dir, own, `bank-${name}`, `DNS:bank.${name}`);
      const r = openssl(['verify', '-CAfile', caFile, '-x509_strict', '-verify_hostname', `bank.${name}`, c.file]);
      if (isPublic) expect(r.out).toMatch(/permitted subtree violation/);
      expect(r.status === 0).toBe(!isPublic);
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

/**
 * A name constraint permits a name with every name below it: a PC named like a public top-level
 * domain ("family", "app", "casa") must never put that name into the CA, or its key would vouch
 * for every site under it (bank.family). Public names come from the public suffix list (psl).
 */
describe('a PC named like a public domain', () => {
  const PCS: [string, boolean][] = [['family', true], ['app', true], ['casa', true], ['home', false], ['desktop-7h2k', false]];
  const hostOf = (hostname: string) => ({ ...HOST, hostname });

  it.each(PCS)('%s: public %s', (name, isPublic) => {
    expect(Boolean(publicName(name))).toBe(isPublic);
    const resolved = resolveSettings({}, hostOf(name));
    const ca = createHomeCa(resolved.trustedDomains, name, NOW);
    const permitted = permittedOf(ca.certPem)!;
    expect(permitted.dns.includes(name)).toBe(!isPublic);
    expect(permitted.dns.filter((n) => publicName(n))).toEqual([]);
    // Reached by its mDNS name instead, which the CA permits (.local), and by its address.
    expect(resolved.trustedDomains).toEqual(isPublic ? ['localhost', '127.0.0.1', `${name}.local`, '192.168.1.20'] : ['localhost', '127.0.0.1', name, '192.168.1.20']);
    expect(outsideOf(permitted, resolved.trustedDomains)).toEqual([]);
  });

  it('no built-in private suffix is public (fritz.box is a name directly under .box)', () => {
    expect(PRIVATE_DNS_SUFFIXES.filter((n) => publicName(n))).toEqual([]);
    expect(publicName('fritz.box')).toBe('box');
    expect(publicName('nas.fritz.box')).toBeUndefined(); // deeper: only a subtree of that one domain
    expect(publicName('pc.home.arpa')).toBeUndefined(); // RFC 8375: the home's own, though the list carries it
    expect(publicName('co.uk')).toBe('co.uk');
    expect(publicName('smith.co.uk')).toBe('co.uk');
  });

  it('refuses such a name in trustedDomains, naming the setting and what to use', () => {
    expect(() => resolveSettings({ trustedDomains: ['localhost', 'family'] }, HOST)).toThrow(SettingsError);
    expect(() => resolveSettings({ trustedDomains: ['localhost', 'family'] }, HOST))
      .toThrow(/trustedDomains\[1\].*"family".*public internet domain \(\.family\).*"family\.local"/s);
  });

  it('says at synth which names the phones use instead', () => {
    const dir = tmp();
    const messages: string[] = [];
    expect(synth({}, hostOf('family'), { outdir: path.join(dir, 'dist'), credentials: path.join(dir, 'credentials.json') }, (m) => messages.push(m))).toBe(0);
    expect(messages.join('')).toMatch(/this PC's name "family" is also a public internet domain \(\.family\).*family\.local or 192\.168\.1\.20/s);
  });

  it('replaces a CA made earlier with a public name on the next synth, keeps the old one aside, and says how to trust the new one', () => {
    const dir = tmp();
    const creds = path.join(dir, 'credentials.json');
    const files = caFiles(creds);
    fs.mkdirSync(dir, { recursive: true });
    // As an earlier homecloud made it: fritz.box among the suffixes, the PC's bare name "family".
    const old = createHomeCa([], 'family', NOW, undefined, { dns: ['localhost', 'lan', 'fritz.box', 'family'], ip: ['192.168.0.0/16'] });
    expect(permittedOf(old.certPem)!.dns).toEqual(expect.arrayContaining(['family', 'fritz.box']));
    fs.writeFileSync(files.cert, old.certPem);
    fs.writeFileSync(files.key, old.keyPem, { mode: 0o600 });
    const messages: string[] = [];
    const ca = loadOrCreateHomeCa(creds, ['localhost', 'family.local'], 'family', NOW, (m) => messages.push(m));
    expect(ca.certPem).not.toBe(old.certPem);
    expect(permittedOf(ca.certPem)!.dns.filter((n) => publicName(n))).toEqual([]);
    expect(fs.readFileSync(files.cert, 'utf8')).toBe(ca.certPem);
    const aside = fs.readdirSync(dir).filter((n) => n.startsWith('home-ca.') && n.includes('replaced')).sort();
    expect(aside).toEqual(['home-ca.crt.replaced-2026-11-27', 'home-ca.key.replaced-2026-11-27']);
    expect(fs.statSync(path.join(dir, aside[1])).mode & 0o077).toBe(0);
    expect(messages.join('')).toMatch(/could vouch for names that are public on the internet \("family", "fritz\.box"\).*replaced.*install the new CA on every phone and PC.*\/welcome\/.*npm run trust/s);
    // Once replaced, kept.
    expect(loadOrCreateHomeCa(creds, ['localhost', 'family.local'], 'family', NOW, (m) => messages.push(m))).toEqual(ca);
  });
});

describe('the README says exactly what the CA permits', () => {
  it('lists every built-in suffix and range, and nothing else', () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
    const paragraph = readme.split('\n\n').find((p) => p.startsWith('**What the CA can and cannot do.**'))!.split('This limit')[0];
    const listed = [...paragraph.matchAll(/`([^`]+)`/g)].map((m) => m[1]).filter((t) => t !== 'trustedDomains');
    expect(listed.sort()).toEqual([...PRIVATE_DNS_SUFFIXES, ...PRIVATE_RANGES].sort());
  });
});
