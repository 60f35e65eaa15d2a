import * as fs from 'fs';
import * as path from 'path';
import { UserFacingError } from '../config/errors';
import { HomeCa, PRIVATE_DNS_SUFFIXES, createHomeCa, homeCaProblem, outsideOf, permittedOf, publicName } from './home-ca';
import { writeOwnerOnly } from '../config/secrets-store';

/** The CA's files, beside the credentials file (same folder: owner-only, git-ignored). */
export function caFiles(credentialsFile: string): { cert: string; key: string } {
  const dir = path.dirname(credentialsFile);
  return { cert: path.join(dir, 'home-ca.crt'), key: path.join(dir, 'home-ca.key') };
}

/**
 * Loads the home CA, creating it on the first synth. Never replaced silently: every phone trusts
 * this root, so a new one means installing it again on each. A damaged or half-present pair, or
 * a trusted name the root may not certify, stops synth with what to do, and changes nothing. One
 * made by an earlier homecloud that permits a public name (a PC named "family", fritz.box) is
 * replaced, saying so through `say`: its key could vouch for other people's sites.
 */
export function loadOrCreateHomeCa(credentialsFile: string, trustedDomains: string[], label: string, now: Date,
  say: (s: string) => void = () => undefined): HomeCa {
  const files = caFiles(credentialsFile);
  const have = { cert: fs.existsSync(files.cert), key: fs.existsSync(files.key) };
  const renew = `To start over with a new CA, move both ${files.cert} and ${files.key} away, run synth again, `
    + 'and install the new CA on every phone and PC (open /welcome/ on each).';
  if (!have.cert && !have.key) {
    const ca = createHomeCa(trustedDomains, label, now);
    writeOwnerOnly(files.key, ca.keyPem);
    writeOwnerOnly(files.cert, ca.certPem);
    return ca;
  }
  if (!have.cert || !have.key) {
    throw new UserFacingError(`The home CA is incomplete: ${have.cert ? files.key : files.cert} is missing beside `
      + `${have.cert ? files.cert : files.key}. Restore it from your copy of this folder. ${renew}`);
  }
  const ca: HomeCa = { certPem: fs.readFileSync(files.cert, 'utf8'), keyPem: fs.readFileSync(files.key, 'utf8') };
  const problem = homeCaProblem(ca, now);
  if (problem) {
    throw new UserFacingError(`The home CA in ${path.dirname(files.cert)} cannot be used: ${problem}. `
      + `Restore both files from your copy of this folder. ${renew}`);
  }
  const publicOnes = permittedOf(ca.certPem)!.dns.filter((n) => publicName(n)).sort();
  if (publicOnes.length) return replacePublicCa(files, publicOnes, trustedDomains, label, now, say);
  const outside = outsideOf(permittedOf(ca.certPem)!, trustedDomains);
  if (outside.length) {
    throw new UserFacingError(`trustedDomains: the home CA may not vouch for ${outside.map((n) => `"${n}"`).join(', ')}: `
      + `it was made for your home's own names (and names ending in ${PRIVATE_DNS_SUFFIXES.filter((n) => n !== 'localhost').map((n) => `.${n}`).join(', ')}) `
      + 'and private addresses (192.168.x.x, 10.x.x.x, 172.16–31.x.x). Use such a name or address instead, or, '
      + `for a new name, a new CA. ${renew}`);
  }
  return ca;
}

/** A new CA in place of one that permits public names; the old pair stays beside it, owner-only, dated. */
function replacePublicCa(files: { cert: string; key: string }, publicOnes: string[], trustedDomains: string[], label: string, now: Date,
  say: (s: string) => void): HomeCa {
  const day = now.toISOString().slice(0, 10);
  for (const f of [files.key, files.cert]) {
    const aside = `${f}.replaced-${day}`;
    if (!fs.existsSync(aside)) fs.renameSync(f, aside);
    else fs.rmSync(f);
    fs.chmodSync(aside, 0o600);
  }
  const ca = createHomeCa(trustedDomains, label, now);
  writeOwnerOnly(files.key, ca.keyPem);
  writeOwnerOnly(files.cert, ca.certPem);
  say(`homecloud: the home CA made earlier could vouch for names that are public on the internet (${publicOnes.map((n) => `"${n}"`).join(', ')}), `
    + `so it is replaced by a new one that cannot (the old one is kept as ${path.basename(files.cert)}.replaced-${day}). `
    + `After deploy, install the new CA on every phone and PC once more: open the welcome page (/welcome/, as when you set them up) on each, and run npm run trust on this PC. `
    + 'Until then they warn that the connection is not private.\n');
  return ca;
}
