/**
 * The PC's side of HTTPS: adding the home CA to this PC's trusted roots (`homecloud trust`),
 * and looking at the certificate the home cloud presents (for `status`).
 */
import * as fs from 'fs';
import * as net from 'net';
import * as tls from 'tls';
import { UserFacingError } from '../lib/config/errors';
import { describeCa } from '../lib/https/home-ca';
import { Runner } from './schedule';

/**
 * The command that makes this PC trust the home CA, for the current user only (no
 * administrator needed). Windows asks for a confirmation in a dialog of its own, which is the
 * point: nobody adds a root without seeing it. Elsewhere, what to run (it needs a password).
 */
export function trustCommand(platform: NodeJS.Platform, caFile: string, remove = false): { command: string; args: string[] } | { manual: string } {
  if (platform === 'win32') {
    if (remove) return { command: 'certutil', args: ['-user', '-delstore', 'Root', describeCa(fs.readFileSync(caFile, 'utf8')).serial] };
    return { command: 'certutil', args: ['-user', '-addstore', 'Root', caFile] };
  }
  if (platform === 'darwin') {
    return { manual: remove ? `security remove-trusted-cert "${caFile}"` : `security add-trusted-cert -r trustRoot -k ~/Library/Keychains/login.keychain-db "${caFile}"` };
  }
  return {
    manual: remove
      ? 'sudo rm /usr/local/share/ca-certificates/homecloud-ca.crt && sudo update-ca-certificates --fresh'
      : `sudo cp "${caFile}" /usr/local/share/ca-certificates/homecloud-ca.crt && sudo update-ca-certificates`,
  };
}

/** Runs trustCommand; returns the lines to print. */
export async function trustThisPc(caFile: string, platform: NodeJS.Platform, run: Runner, remove = false): Promise<string> {
  if (!fs.existsSync(caFile)) {
    throw new UserFacingError(`There is no home CA at ${caFile} yet: run \`npm run synth\` (or \`npm run deploy\`) first.`);
  }
  const ca = describeCa(fs.readFileSync(caFile, 'utf8'));
  const what = trustCommand(platform, caFile, remove);
  if ('manual' in what) {
    return `On this system, run:\n  ${what.manual}\n(the home CA: ${ca.subject}, SHA-256 ${ca.fingerprint})\n`;
  }
  const r = await run(what.command, what.args);
  if (r.code !== 0) {
    throw new UserFacingError(`${what.command} ${remove ? 'could not remove' : 'did not add'} the home CA (exit ${r.code}): ${r.output.trim()}`
      + (remove ? '' : '\nIf you pressed "No" in the Windows dialog, run `npm run trust` again and choose "Yes".'));
  }
  return remove
    ? `This PC no longer trusts the home CA "${ca.subject}".\n`
    : `This PC now trusts the home CA "${ca.subject}" (SHA-256 ${ca.fingerprint}).\n`
      + 'Browsers that keep their own list (Firefox) need it too: Settings → Certificates → Import, or set\n'
      + 'security.enterprise_roots.enabled to true in about:config.\n';
}

/** What `status` learns from one TLS handshake with the home cloud, as a phone would make it. */
export interface CertificateCheck {
  /** The server certificate's expiry, when the handshake got that far. */
  readonly notAfter?: string;
  readonly names?: string[];
  /** Whether it chains to this PC's home CA and carries the name asked for. */
  readonly trusted?: boolean;
  /** Why not, or why there was no handshake. */
  readonly problem?: string;
  /** The home CA's fingerprint, for comparing with the welcome page. */
  readonly caFingerprint?: string;
}

/**
 * One TLS handshake with `host:port`, checking the certificate against `caPem` (this PC's copy
 * of the home CA) but reading it whatever the result, so status can say what is wrong.
 * `connect` is injectable: tests reach a server on a Unix socket.
 */
export function checkCertificate(host: string, port: number, caPem: string | undefined, timeoutMs = 3000,
  connect: () => net.Socket = () => net.connect(port, host)): Promise<CertificateCheck> {
  const caFingerprint = caPem ? describeCa(caPem).fingerprint : undefined;
  return new Promise((resolve) => {
    const socket = connect();
    const c = tls.connect({ socket, servername: net.isIP(host) ? undefined : host, ca: caPem ? [caPem] : undefined, rejectUnauthorized: false }, () => {
      const cert = c.getPeerCertificate();
      const names = (cert.subjectaltname ?? '').split(', ').filter(Boolean).map((n) => n.replace(/^(DNS|IP Address):/, ''));
      const identity = tls.checkServerIdentity(host, cert);
      // Node reports a name mismatch as an authorization error too: the chain itself is fine then.
      const error = String(c.authorizationError ?? '');
      const chained = c.authorized || error === 'ERR_TLS_CERT_ALTNAME_INVALID';
      resolve({
        notAfter: new Date(cert.valid_to).toISOString(),
        names,
        trusted: caPem ? chained && !identity : undefined,
        problem: !caPem ? undefined : !chained ? `not signed by this PC's home CA (${error})` : identity ? identity.message : undefined,
        caFingerprint,
      });
      c.end();
    });
    c.setTimeout(timeoutMs, () => { c.destroy(); resolve({ problem: `no answer on https://${host}:${port} within ${timeoutMs / 1000} s`, caFingerprint }); });
    c.on('error', (e: NodeJS.ErrnoException) => resolve({ problem: `nothing answers on https://${host}:${port} (${e.code ?? e.message})`, caFingerprint }));
  });
}
