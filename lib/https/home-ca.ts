import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import * as asn from '@peculiar/asn1-x509';
import { KeyObject, X509Certificate, createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign } from 'crypto';
import * as psl from 'psl';
import { hostOf } from './family-address';
import { isIPv4 } from '../config/checks';

/**
 * The home's own certificate authority: a root that phones and PCs install once, limited by
 * X.509 name constraints (RFC 5280 §4.2.1.10) to the home's names and private addresses, so that
 * its key, if it ever leaked, could not vouch for any other site. The server certificates it
 * signs are issued in the cluster (lib/https/scripts/issue-certificate.php); this file
 * makes the root, reads it back, and answers which names it may certify. Pure but for the clock
 * and the random key, which come in as arguments where a test needs them fixed.
 *
 * Rules followed (checked 2026-11):
 * - Apple, "Requirements for trusted certificates in iOS 13 and macOS 10.15"
 *   (support.apple.com/103769): SHA-2 signatures; RSA keys ≥ 2048 bits (we use ECDSA P-256,
 *   which the rule does not limit); server names in subjectAltName, not the common name;
 *   serverAuth EKU; server certificates valid ≤ 825 days. The roots they chain to may be longer.
 * - Chrome/Android: subjectAltName required; user-installed roots are exempt from Certificate
 *   Transparency and the 398-day limit, which bind publicly trusted CAs only. Android apps trust
 *   user CAs only when they opt in: the Nextcloud app and DAVx⁵ do.
 * - CA/Browser Forum profile for roots: basicConstraints CA:true (critical), keyUsage
 *   keyCertSign + cRLSign (critical), subjectKeyIdentifier.
 * - Name constraints marked critical, as RFC 5280 asks: a verifier that cannot apply them refuses
 *   the root instead of trusting it for everything. Apple's platforms apply them since about
 *   2015 (before, they refused such roots: "unrecognized critical extension"; see
 *   cabforum/servercert#267, 2021: "Apple has supported nameConstraints for 6 years now");
 *   OpenSSL (curl, Python, Node), Windows CryptoAPI, NSS (Firefox) and Chrome's verifier do too.
 */

/**
 * DNS suffixes meant for private networks (RFC 6761 localhost, RFC 6762 .local, RFC 8375
 * home.arpa, ICANN's .internal) and the common router ones (.lan, .home). Never a public name
 * (see publicName): fritz.box, the FRITZ!Box routers' own, was one until 2026-12; .box is a
 * public top-level domain, so a CA permitting fritz.box could vouch for that internet domain.
 */
export const PRIVATE_DNS_SUFFIXES = ['localhost', 'local', 'lan', 'home', 'internal', 'home.arpa'];
/** Special-use names the public suffix list carries although no one owns them on the internet (RFC 8375). */
const SPECIAL_USE = ['home.arpa'];
/** Loopback, RFC 1918, link-local, carrier-grade NAT (Tailscale, some ISPs), IPv6 loopback, ULA and link-local. */
export const PRIVATE_RANGES = [
  '127.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', '100.64.0.0/10',
  '::1/128', 'fc00::/7', 'fe80::/10',
];
/** How long the root is valid: it is installed by hand on every device, so for long. */
export const CA_VALIDITY_DAYS = 3650;

export interface HomeCa {
  /** The root certificate, PEM: public, served on the welcome page. */
  readonly certPem: string;
  /**
   * Its private key, PEM (PKCS #8): owner-only file, the cluster's Secret, and the encrypted backup
   * repository (so a restore on a new PC brings it back); never a plain snapshot folder.
   */
  readonly keyPem: string;
}

/** What the root may certify, read from its name constraints. */
export interface Permitted {
  readonly dns: string[];
  readonly ip: string[];
}

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
};

/** Host names (not addresses, not loopback-only words) among the trusted domains, without ports. */
export function hostNamesOf(entries: string[]): string[] {
  return [...new Set(entries.map(hostOnly).filter((h) => !isIp(h)).map((h) => h.toLowerCase()))];
}

/** IP addresses among the trusted domains, without ports or brackets. */
export function addressesOf(entries: string[]): string[] {
  return [...new Set(entries.map(hostOnly).filter(isIp))];
}

/** The names a server certificate must carry: every trusted name and address, and localhost. */
export function serverNames(trustedDomains: string[]): { dns: string[]; ip: string[] } {
  return { dns: hostNamesOf(['localhost', ...trustedDomains]), ip: addressesOf(['127.0.0.1', ...trustedDomains]) };
}

/**
 * The public suffix a name is, or sits directly under ("family" → "family", "bank.family" →
 * "family", "smith.co.uk" → "co.uk"); undefined for a name of the home's own (no listed suffix,
 * or deeper than a registrable domain). A name constraint permits a name with every name below
 * it, and a constraint cannot permit one without them: such a name in the CA would make its key
 * a key to other people's sites. The list is the public suffix list as the psl package ships it.
 */
export function publicName(name: string): string | undefined {
  const n = name.toLowerCase().replace(/\.$/, '');
  if (SPECIAL_USE.some((s) => n === s || n.endsWith(`.${s}`))) return undefined;
  const parsed = psl.parse(n);
  if ('error' in parsed && parsed.error) return undefined;
  const p = parsed as psl.ParsedDomain;
  if (!p.listed || !p.tld) return undefined;
  return p.domain === null || p.domain === n ? p.tld : undefined;
}

/**
 * What a new root permits: the private suffixes and ranges, plus any trusted host name outside
 * them (a PC's own name, like "desktop-4f2a", is one label with no suffix) but never a public
 * one (publicName), and, each on its own, any trusted address outside them (a LAN that is not
 * numbered privately): the home's own names, nothing more.
 */
export function permittedFor(trustedDomains: string[]): Permitted {
  const base: Permitted = { dns: PRIVATE_DNS_SUFFIXES, ip: PRIVATE_RANGES };
  const extraNames = hostNamesOf(trustedDomains).filter((n) => !permitsDns(base, n) && !publicName(n));
  const extraAddresses = addressesOf(trustedDomains).filter((a) => !base.ip.some((r) => inRange(a, r)))
    .map((a) => `${a}/${isIPv4(a) ? 32 : 128}`);
  return { dns: [...base.dns, ...extraNames], ip: [...base.ip, ...extraAddresses] };
}

/** Trusted domains the root may not certify, each with the reason. */
export function outsideOf(permitted: Permitted, trustedDomains: string[]): string[] {
  const names = serverNames(trustedDomains);
  return [
    ...names.dns.filter((n) => !permitsDns(permitted, n)),
    ...names.ip.filter((a) => !permitted.ip.some((r) => inRange(a, r))),
  ];
}

/** RFC 5280: a DNS constraint permits the name itself and any name made by adding labels on the left. */
export function permitsDns(p: Permitted, name: string): boolean {
  const n = name.toLowerCase().replace(/\.$/, '');
  return p.dns.some((base) => n === base || n.endsWith(`.${base}`));
}

/** Creates a new root for this home. `now` and the key are arguments so tests can fix them. */
export function createHomeCa(trustedDomains: string[], label: string, now: Date, key?: { privateKey: KeyObject; publicKey: KeyObject },
  /** What the root permits. @default permittedFor(trustedDomains) (tests make roots as earlier versions did) */
  permitted: Permitted = permittedFor(trustedDomains)): HomeCa {
  const pair = key ?? generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = pair.publicKey.export({ type: 'spki', format: 'der' });
  // A name phones show in their certificate lists: which home, and when it was made.
  const name = distinguishedName(`homecloud home CA (${label}, ${now.toISOString().slice(0, 10)})`);
  const ski = createHash('sha1').update(Buffer.from(AsnConvert.parse(spki, asn.SubjectPublicKeyInfo).subjectPublicKey)).digest();
  const extensions = [
    extension(asn.id_ce_basicConstraints, true, new asn.BasicConstraints({ cA: true, pathLenConstraint: 0 })),
    extension(asn.id_ce_keyUsage, true, new asn.KeyUsage(asn.KeyUsageFlags.keyCertSign | asn.KeyUsageFlags.cRLSign)),
    extension(asn.id_ce_subjectKeyIdentifier, false, new asn.SubjectKeyIdentifier(toArrayBuffer(ski))),
    // Critical: a client that cannot read name constraints must refuse the root, not ignore them.
    extension(asn.id_ce_nameConstraints, true, new asn.NameConstraints({
      permittedSubtrees: new asn.GeneralSubtrees([
        ...permitted.dns.map((d) => new asn.GeneralSubtree({ base: new asn.GeneralName({ dNSName: d }) })),
        ...permitted.ip.map((r) => new asn.GeneralSubtree({ base: new asn.GeneralName({ iPAddress: r }) })),
      ]),
    })),
  ];
  // Valid from an hour ago: a phone whose clock is a little behind must not see "not yet valid".
  const notBefore = new Date(now.getTime() - 3600_000);
  const tbs = new asn.TBSCertificate({
    version: asn.Version.v3,
    serialNumber: serialNumber(),
    signature: new asn.AlgorithmIdentifier({ algorithm: OID.ecdsaWithSha256 }),
    issuer: name,
    subject: name,
    validity: new asn.Validity({ notBefore, notAfter: new Date(notBefore.getTime() + CA_VALIDITY_DAYS * 86400_000) }),
    subjectPublicKeyInfo: AsnConvert.parse(spki, asn.SubjectPublicKeyInfo),
    extensions: new asn.Extensions(extensions),
  });
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  const cert = new asn.Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: new asn.AlgorithmIdentifier({ algorithm: OID.ecdsaWithSha256 }),
    // Node signs ECDSA in DER (r, s), the form X.509 wants.
    signatureValue: toArrayBuffer(sign('sha256', tbsDer, pair.privateKey)),
  });
  return {
    certPem: pem('CERTIFICATE', Buffer.from(AsnConvert.serialize(cert))),
    keyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** Why a stored root cannot be used, or undefined when it can. Checks what a damaged or swapped file would break. */
export function homeCaProblem(ca: HomeCa, now: Date): string | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(ca.certPem);
  } catch (e) {
    return `the certificate is not a readable PEM certificate (${(e as Error).message})`;
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(ca.keyPem);
  } catch (e) {
    return `the key is not a readable PEM private key (${(e as Error).message})`;
  }
  if (!cert.ca) return 'the certificate is not a CA certificate';
  if (!cert.checkPrivateKey(key)) return 'the key does not belong to the certificate';
  if (!cert.verify(cert.publicKey)) return 'the certificate\'s signature does not verify';
  if (Date.parse(cert.validTo) <= now.getTime()) return `the certificate expired on ${new Date(cert.validTo).toISOString().slice(0, 10)}`;
  if (permittedOf(ca.certPem) === undefined) return 'the certificate has no name constraints (it could vouch for any site)';
  return undefined;
}

/** The root's name constraints, or undefined when it has none. */
export function permittedOf(certPem: string): Permitted | undefined {
  const der = new X509Certificate(certPem).raw;
  const cert = AsnConvert.parse(der, asn.Certificate);
  const ext = cert.tbsCertificate.extensions?.find((e) => e.extnID === asn.id_ce_nameConstraints);
  if (!ext) return undefined;
  const nc = AsnConvert.parse(ext.extnValue, asn.NameConstraints);
  const bases = [...(nc.permittedSubtrees ?? [])].map((s) => s.base);
  return {
    dns: bases.filter((b) => b.dNSName !== undefined).map((b) => b.dNSName!.toLowerCase()),
    ip: bases.filter((b) => b.iPAddress !== undefined).map((b) => b.iPAddress!),
  };
}

/** The root's name, expiry, serial number and SHA-256 fingerprint as phones show it. */
export function describeCa(certPem: string): { subject: string; notAfter: Date; fingerprint: string; serial: string } {
  const cert = new X509Certificate(certPem);
  // From the certificate's own bytes: X509Certificate.subject is RFC 4514 text ("(vm\\, 2026-…)"),
  // and phones show the name as it is ("(vm, 2026-…)").
  const subject = AsnConvert.parse(cert.raw, asn.Certificate).tbsCertificate.subject;
  const cn = subject.flatMap((rdn) => [...rdn]).find((a) => a.type === OID.commonName)?.value.toString() ?? cert.subject;
  return { subject: cn, notAfter: new Date(cert.validTo), fingerprint: cert.fingerprint256, serial: cert.serialNumber };
}

/** The DER bytes of a PEM certificate (the iOS profile embeds them). */
export function certDer(certPem: string): Buffer {
  return Buffer.from(new X509Certificate(certPem).raw);
}

function extension(id: string, critical: boolean, value: object): asn.Extension {
  return new asn.Extension({ extnID: id, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

function distinguishedName(cn: string): asn.Name {
  const rdn = (type: string, value: string) => new asn.RelativeDistinguishedName([
    new asn.AttributeTypeAndValue({ type, value: new asn.AttributeValue({ utf8String: value }) }),
  ]);
  return new asn.Name([rdn(OID.organization, 'homecloud'), rdn(OID.commonName, cn)]);
}

/** 16 random bytes, positive (top bit clear), as RFC 5280 asks (≤ 20 octets, unique per issuer). */
function serialNumber(): ArrayBuffer {
  const b = randomBytes(16);
  b[0] = (b[0] & 0x7f) | 0x01;
  return toArrayBuffer(b);
}

function toArrayBuffer(b: Buffer): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

function pem(label: string, der: Buffer): string {
  return `-----BEGIN ${label}-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END ${label}-----\n`;
}

/** The host of a trusted-domains entry, without port or brackets (certificates name bare addresses). */
function hostOnly(entry: string): string {
  return hostOf(entry).replace(/^\[(.*)\]$/, '$1');
}

function isIp(h: string): boolean {
  return isIPv4(h) || h.includes(':');
}

/** Whether an address lies in a CIDR range (IPv4 or IPv6). */
export function inRange(address: string, cidr: string): boolean {
  const [net, bitsText] = cidr.split('/');
  const a = ipBytes(address);
  const n = ipBytes(net);
  if (!a || !n || a.length !== n.length) return false;
  let bits = Number(bitsText);
  for (let i = 0; i < a.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((a[i] & mask) !== (n[i] & mask)) return false;
  }
  return true;
}

function ipBytes(ip: string): number[] | undefined {
  if (isIPv4(ip)) return ip.split('.').map(Number);
  if (!ip.includes(':')) return undefined;
  const [l, r] = ip.split('::');
  const left = l ? l.split(':') : [];
  const right = r !== undefined && r ? r.split(':') : [];
  const groups = ip.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  if (groups.length !== 8) return undefined;
  return groups.flatMap((g) => { const v = parseInt(g, 16); return [v >> 8, v & 0xff]; });
}
