import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import * as tls from 'tls';
import { checkCertificate, trustCommand, trustThisPc } from '../../client/trust';
import { UserFacingError } from '../../lib/config/errors';
import { createHomeCa, describeCa } from '../../lib/https/home-ca';
import { commands, describeWhen } from '../support/requirements';
import { testHomeCa } from '../support/stack';
import { issueCertificate } from '../support/web-stack';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'hc-trust-'));

describe('homecloud trust', () => {
  const dir = tmp();
  const caFile = path.join(dir, 'home-ca.crt');
  fs.writeFileSync(caFile, testHomeCa().certPem);

  it('adds the CA to the Windows user\'s Root store with certutil (Windows asks to confirm)', async () => {
    expect(trustCommand('win32', caFile)).toEqual({ command: 'certutil', args: ['-user', '-addstore', 'Root', caFile] });
    const calls: string[][] = [];
    const out = await trustThisPc(caFile, 'win32', async (c, a) => { calls.push([c, ...a]); return { code: 0, output: 'CertUtil: -addstore command completed successfully.' }; });
    expect(calls).toEqual([['certutil', '-user', '-addstore', 'Root', caFile]]);
    expect(out).toContain(describeCa(testHomeCa().certPem).fingerprint);
  });

  it('removes it by serial number with --remove', () => {
    expect(trustCommand('win32', caFile, true)).toEqual({ command: 'certutil', args: ['-user', '-delstore', 'Root', describeCa(testHomeCa().certPem).serial] });
  });

  it('says what went wrong when certutil fails or the dialog is declined, and what to do', async () => {
    const failing = trustThisPc(caFile, 'win32', async () => ({ code: 1, output: 'The operation was canceled by the user.' }));
    await expect(failing).rejects.toThrow(/did not add the home CA \(exit 1\): The operation was canceled by the user\.\nIf you pressed "No"/);
  });

  it('prints the command to run on macOS and Linux, where it needs a password', async () => {
    const run = jest.fn();
    expect(await trustThisPc(caFile, 'linux', run)).toMatch(/sudo cp ".*home-ca\.crt" \/usr\/local\/share\/ca-certificates\/homecloud-ca\.crt && sudo update-ca-certificates/);
    expect(await trustThisPc(caFile, 'darwin', run)).toMatch(/security add-trusted-cert -r trustRoot/);
    expect(run).not.toHaveBeenCalled();
  });

  it('asks for synth first when there is no CA yet', async () => {
    await expect(trustThisPc(path.join(dir, 'none.crt'), 'win32', jest.fn())).rejects.toThrow(UserFacingError);
    await expect(trustThisPc(path.join(dir, 'none.crt'), 'win32', jest.fn())).rejects.toThrow(/npm run synth/);
  });
});

describeWhen(commands(['php'], 'apt-get install php-cli'), 'what status learns from one handshake', () => {
  const dir = tmp();
  const ca = testHomeCa();
  // The certificate the pod's issuer makes, for the names it is given.
  const issue = (names: string) => {
    const tlsDir = fs.mkdtempSync(path.join(dir, 'tls-'));
    const r = issueCertificate({ ca, welcome: {}, issuerEnv: { HOMECLOUD_TLS_DNS: names, HOMECLOUD_TLS_IP: '127.0.0.1' } }, path.join(dir, 'ca'), tlsDir);
    if (r.status !== 0) throw new Error(r.stderr);
    return fs.readFileSync(path.join(tlsDir, 'tls.pem'), 'utf8');
  };
  const serve = async (pem: string) => {
    const sock = path.join(dir, `s-${Math.random().toString(16).slice(2)}.sock`);
    const server = tls.createServer({ cert: pem, key: pem });
    await new Promise<void>((r) => server.listen(sock, r));
    return { connect: () => net.connect(sock), close: () => server.close() };
  };

  it('reads the expiry and names, and checks the certificate against this PC\'s home CA', async () => {
    const s = await serve(issue('localhost familypc'));
    const c = await checkCertificate('localhost', 443, ca.certPem, 3000, s.connect);
    s.close();
    expect(c).toMatchObject({ trusted: true, names: ['localhost', 'familypc', '127.0.0.1'], caFingerprint: describeCa(ca.certPem).fingerprint });
    expect(Date.parse(c.notAfter!) - Date.now()).toBeGreaterThan(89 * 86400_000);
  });

  it('says so when the cluster\'s CA is not this PC\'s, or the name is missing', async () => {
    const s = await serve(issue('familypc'));
    const other = createHomeCa(['localhost'], 'other', new Date()).certPem;
    expect(await checkCertificate('localhost', 443, other, 3000, s.connect)).toMatchObject({ trusted: false, problem: expect.stringMatching(/not signed by this PC's home CA/) });
    expect(await checkCertificate('localhost', 443, ca.certPem, 3000, s.connect)).toMatchObject({ trusted: false, problem: expect.stringMatching(/localhost.*not in the cert's altnames/) });
    s.close();
  });

  it('says when nothing answers', async () => {
    const c = await checkCertificate('localhost', 443, ca.certPem, 3000, () => net.connect(path.join(dir, 'nobody.sock')));
    expect(c).toEqual({ problem: expect.stringMatching(/nothing answers on https:\/\/localhost:443 \(ENOENT\)/), caFingerprint: describeCa(ca.certPem).fingerprint });
  });
});
