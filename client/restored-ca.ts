import * as fs from 'fs';
import { caFiles } from '../lib/https/ca-store';
import { HomeCa, describeCa, homeCaProblem, outsideOf, permittedOf } from '../lib/https/home-ca';
import { writeOwnerOnly } from '../lib/config/secrets-store';

/**
 * What `restore --from` does with the home CA that came back with a snapshot (offsite.sh saves it
 * in the encrypted repository). Every phone and PC of the family trusts that CA, and the home
 * cloud is HTTPS-only (HSTS): on a new PC, a new CA would lock every device out until someone
 * installs it again on each. So the backup's CA replaces one this very restore just made; a CA
 * this PC already had before the restore is never replaced (it may be the new one made after a
 * revocation, which a restore must not undo).
 */
export type CaDecision =
  | { readonly action: 'adopt'; readonly fingerprint: string }
  | { readonly action: 'same' | 'none' }
  | { readonly action: 'keep-pc'; readonly fingerprint: string }
  | { readonly action: 'unusable'; readonly problem: string };

/**
 * Pure: the decision from what the PC had before the restore, what it has now, what came back,
 * and the names this install serves (a new PC may have a name the old CA may not vouch for).
 */
export function decideCa(hadCaBefore: boolean, current: HomeCa | undefined, restored: HomeCa | undefined, now: Date,
  trustedDomains: string[]): CaDecision {
  if (!restored) return { action: 'none' };
  if (current && current.certPem.trim() === restored.certPem.trim()) return { action: 'same' };
  const problem = homeCaProblem(restored, now);
  if (problem) return { action: 'unusable', problem };
  const outside = outsideOf(permittedOf(restored.certPem)!, trustedDomains);
  if (outside.length) {
    return { action: 'unusable', problem: `it was made for the old PC's names and may not vouch for ${outside.map((n) => `"${n}"`).join(', ')}` };
  }
  const fingerprint = describeCa(restored.certPem).fingerprint;
  return hadCaBefore ? { action: 'keep-pc', fingerprint } : { action: 'adopt', fingerprint };
}

/** This PC's home CA beside the credentials, when both files are there. */
export function readPcCa(credentialsFile: string): HomeCa | undefined {
  const f = caFiles(credentialsFile);
  if (!fs.existsSync(f.cert) || !fs.existsSync(f.key)) return undefined;
  return { certPem: fs.readFileSync(f.cert, 'utf8'), keyPem: fs.readFileSync(f.key, 'utf8') };
}

/** Puts the restored CA where synth reads it (owner-only, as synth writes its own). */
export function writePcCa(credentialsFile: string, ca: HomeCa): void {
  const f = caFiles(credentialsFile);
  writeOwnerOnly(f.key, ca.keyPem);
  writeOwnerOnly(f.cert, ca.certPem);
}

/** The words for each decision (none for 'none' and 'same': nothing to say). */
export function caMessage(d: CaDecision): string | undefined {
  switch (d.action) {
    case 'adopt':
      return `the home CA from the backup is back (SHA-256 ${d.fingerprint}): phones and PCs that trusted your home cloud go on as before\n`;
    case 'keep-pc':
      return `this PC's home CA differs from the one in the backup (SHA-256 ${d.fingerprint}); keeping this PC's. `
        + 'Devices that trusted only the old one need this PC\'s: open the welcome page on each (npm run status shows it)\n';
    case 'unusable':
      return `the home CA in the backup cannot be used (${d.problem}); keeping the new one: open the welcome page on each device `
        + '(npm run status shows it)\n';
    default:
      return undefined;
  }
}
