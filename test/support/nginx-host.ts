import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ServerCertificate } from '../../lib/https/server-certificate';
import { which } from './requirements';

/** The version of this machine's nginx, e.g. [1, 22, 1]. */
export function nginxVersion(): number[] {
  const r = spawnSync(which('nginx') ?? 'nginx', ['-v'], { encoding: 'utf8' });
  const m = /nginx\/(\d+)\.(\d+)\.(\d+)/.exec(`${r.stderr}${r.stdout}`);
  return m ? m.slice(1).map(Number) : [0, 0, 0];
}

/**
 * The pod's nginx.conf for this machine's nginx: the image's nginx (≥ 1.25.1) turns HTTP/2 on
 * with `http2 on;`, which Debian 12's 1.22 does not know; there the same thing is written as a
 * `listen … http2` flag. With `paths`, the pod's certificate and welcome folders are replaced
 * by test ones (for `nginx -t`, which runs outside the stack's private mounts).
 */
export function forHostNginx(conf: string, paths?: { tlsFile: string; welcomeDir: string }): string {
  let out = conf;
  const [major, minor, patch] = nginxVersion();
  if (major === 1 && (minor < 25 || (minor === 25 && patch < 1))) {
    out = out.replace(/listen (\d+) ssl default_server;\n(\s*)http2 on;/g, 'listen $1 ssl http2 default_server;');
  }
  if (paths) out = out.split(ServerCertificate.TLS_FILE).join(paths.tlsFile).split(ServerCertificate.WELCOME_DIR).join(paths.welcomeDir);
  return out;
}

/** A throwaway key and self-signed certificate in one PEM file, for `nginx -t`. */
export function selfSignedPem(dir: string): string {
  const file = path.join(dir, 'tls.pem');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=localhost', '-keyout', file, '-out', `${file}.crt`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  fs.appendFileSync(file, fs.readFileSync(`${file}.crt`));
  return file;
}
