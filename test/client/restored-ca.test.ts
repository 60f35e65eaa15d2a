import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createHomeCa, describeCa } from '../../lib/https/home-ca';
import { caMessage, decideCa, readPcCa, writePcCa } from '../../client/restored-ca';
import { HOST, testHomeCa } from '../support/stack';

describe('the home CA that comes back with restore --from', () => {
  const now = new Date();
  const old = testHomeCa();
  const fresh = createHomeCa(['localhost'], 'new PC', now);
  const names = ['localhost', HOST.hostname, ...HOST.lanAddresses];

  it('replaces the CA this restore just made, so the devices go on trusting the home cloud', () => {
    const d = decideCa(false, fresh, old, now, names);
    expect(d).toEqual({ action: 'adopt', fingerprint: describeCa(old.certPem).fingerprint });
    expect(caMessage(d)).toMatch(/home CA from the backup is back \(SHA-256 [0-9A-F:]+\): phones and PCs .* go on as before/);
  });

  it('never replaces a CA the PC had before (it may be the new one after a revocation), and says what devices need', () => {
    const d = decideCa(true, fresh, old, now, names);
    expect(d.action).toBe('keep-pc');
    expect(caMessage(d)).toMatch(/differs from the one in the backup .* keeping this PC's.*welcome page/);
  });

  it('says nothing when the backup holds none or the same one', () => {
    expect(decideCa(false, fresh, undefined, now, names)).toEqual({ action: 'none' });
    expect(decideCa(true, old, { ...old, certPem: `${old.certPem}\n` }, now, names)).toEqual({ action: 'same' });
    expect(caMessage({ action: 'same' })).toBeUndefined();
  });

  it('refuses a damaged or expired CA from the backup, naming why, and keeps the new one', () => {
    const damaged = decideCa(false, fresh, { certPem: old.certPem, keyPem: fresh.keyPem }, now, names);
    expect(damaged).toEqual({ action: 'unusable', problem: 'the key does not belong to the certificate' });
    const later = new Date(now.getTime() + 11 * 365 * 86400_000);
    expect(decideCa(false, undefined, old, later, names)).toMatchObject({ action: 'unusable', problem: expect.stringMatching(/expired/) });
    expect(caMessage(damaged)).toMatch(/cannot be used \(the key does not belong to the certificate\); keeping the new one/);
  });

  it('keeps the new CA when the new PC has a name the old CA may not vouch for (synth would refuse it)', () => {
    const d = decideCa(false, fresh, old, now, ['localhost', 'desktop-4f2a', '192.168.1.30']);
    expect(d).toEqual({ action: 'unusable', problem: 'it was made for the old PC\'s names and may not vouch for "desktop-4f2a"' });
    // Private addresses and home suffixes stay within it.
    expect(decideCa(false, fresh, old, now, ['localhost', '10.0.0.9', 'cloud.home.arpa']).action).toBe('adopt');
  });

  it('writes it where synth reads it, owner-only', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-ca-'));
    const credentials = path.join(dir, '.homecloud', 'credentials.json');
    expect(readPcCa(credentials)).toBeUndefined();
    writePcCa(credentials, old);
    expect(readPcCa(credentials)).toEqual(old);
    if (process.platform !== 'win32') expect(fs.statSync(path.join(dir, '.homecloud', 'home-ca.key')).mode & 0o777).toBe(0o600);
  });
});
