import * as fs from 'fs';
import * as path from 'path';
import { UserFacingError } from '../config/errors';
import { HomeCa, createHomeCa, homeCaProblem, outsideOf, permittedOf } from './home-ca';
import { writeOwnerOnly } from '../config/secrets-store';

/** The CA's files, beside the credentials file (same folder: owner-only, git-ignored). */
export function caFiles(credentialsFile: string): { cert: string; key: string } {
  const dir = path.dirname(credentialsFile);
  return { cert: path.join(dir, 'home-ca.crt'), key: path.join(dir, 'home-ca.key') };
}

/**
 * Loads the home CA, creating it on the first synth. Never replaced silently: every phone trusts
 * this root, so a new one means installing it again on each. A damaged or half-present pair, or
 * a trusted name the root may not certify, stops synth with what to do, and changes nothing.
 */
export function loadOrCreateHomeCa(credentialsFile: string, trustedDomains: string[], label: string, now: Date): HomeCa {
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
  const outside = outsideOf(permittedOf(ca.certPem)!, trustedDomains);
  if (outside.length) {
    throw new UserFacingError(`trustedDomains: the home CA may not vouch for ${outside.map((n) => `"${n}"`).join(', ')}: `
      + 'it was made for your home\'s own names (and names ending in .lan, .local, .home.arpa, .internal, .fritz.box) '
      + 'and private addresses (192.168.x.x, 10.x.x.x, 172.16–31.x.x). Use such a name or address instead, or, '
      + `for a new name, a new CA. ${renew}`);
  }
  return ca;
}
