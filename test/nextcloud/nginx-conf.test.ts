import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { MIME_TYPES, SECURITY_HEADERS, STATIC_EXTENSIONS, renderNginxConf } from '../../lib/nextcloud/nginx-conf';
import { forHostNginx, selfSignedPem } from '../support/nginx-host';
import { commands, describeWhen, which } from '../support/requirements';
import { synthStack } from '../support/stack';

const conf = synthStack().get('ConfigMap', 'nextcloud-web').data['nginx.conf'] as string;

describe('rendered nginx.conf', () => {
  it('is the same text for the same options', () => {
    const o = { listenPort: 8080, httpsPort: 8443, tlsFile: '/run/tls.pem', welcomeDir: '/run/welcome', phpFpm: '127.0.0.1:9000', webRoot: '/var/www/html', maxBodyBytes: 1, tempDir: '/tmp', responseBufferBytes: 1 };
    expect(renderNginxConf(o)).toBe(renderNginxConf({ ...o }));
  });
  it('listens on the family\'s ports (80 and 443 by default) and reaches php-fpm on loopback', () => {
    expect(conf).toMatch(/listen 80 default_server;/);
    expect(conf).toMatch(/listen 443 ssl default_server;\n\s*http2 on;/);
    expect(synthStack({ httpsPort: 8443 }).get('ConfigMap', 'nextcloud-web').data['nginx.conf']).toMatch(/listen 8443 ssl default_server;/);
    expect(synthStack({ httpPort: 8081 }).get('ConfigMap', 'nextcloud-web').data['nginx.conf']).toMatch(/listen 8081 default_server;/);
    expect(conf).toMatch(/server 127\.0\.0\.1:9000;/);
  });
  it('keeps the pid and every temp path under /tmp, the only writable folder', () => {
    expect(conf).toMatch(/^pid \/tmp\/nginx\.pid;/m);
    for (const t of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) expect(conf).toMatch(new RegExp(`${t}_temp_path /tmp/`));
    expect(conf).not.toMatch(/^user /m);
  });
  it('takes its upload limit from the PHP upload setting', () => {
    expect(conf).toMatch(new RegExp(`client_max_body_size ${2 * 2 ** 30};`));
    const bigger = synthStack({ php: { uploadLimit: '10Gi' } }).get('ConfigMap', 'nextcloud-web').data['nginx.conf'];
    expect(bigger).toMatch(new RegExp(`client_max_body_size ${10 * 2 ** 30};`));
  });
  it('buffers request bodies for php-fpm, which cannot take chunked ones', () => {
    expect(conf).toMatch(/fastcgi_request_buffering on;/);
  });
  it('buffers PHP responses up to 128 MiB each on disk, so a slow client does not hold a PHP worker', () => {
    expect(conf).toMatch(/fastcgi_buffering on;/);
    expect(conf).toMatch(new RegExp(`fastcgi_max_temp_file_size ${128 * 2 ** 20};`));
  });
  it('gives /tmp room for the largest upload and sixteen buffered responses', () => {
    const tmp = synthStack().get('Deployment', 'nextcloud').spec.template.spec.volumes.find((v: { name: string }) => v.name === 'web-tmp');
    expect(tmp.emptyDir.sizeLimit).toBe('4608Mi');
  });
  it('serves .mjs as JavaScript', () => expect(MIME_TYPES['text/javascript']).toContain('mjs'));
  it('has a type for every static extension it caches', () => {
    const known = new Set(Object.values(MIME_TYPES).flat());
    expect(STATIC_EXTENSIONS.filter((e) => !known.has(e))).toEqual([]);
  });
  it('redirects CalDAV and CardDAV discovery with relative URLs', () => {
    expect(conf).toMatch(/location = \/\.well-known\/carddav \{ return 301 \/remote\.php\/dav\/; \}/);
    expect(conf).toMatch(/location = \/\.well-known\/caldav {2}\{ return 301 \/remote\.php\/dav\/; \}/);
    expect(conf).not.toMatch(/\$scheme:\/\/\$host/);
    expect(conf).toMatch(/absolute_redirect off;/);
  });
  it('sends the security headers on PHP and static responses, and never X-XSS-Protection', () => {
    // HTTPS server, static assets and the welcome page: wherever a location adds its own headers.
    const https = conf.slice(conf.indexOf('listen 443 ssl'));
    for (const [name] of SECURITY_HEADERS) expect(https.split(`add_header ${name} `).length - 1).toBe(3);
    expect(conf).not.toMatch(/X-XSS-Protection/);
    expect(conf).toMatch(/server_tokens off;/);
    expect(conf).toMatch(/fastcgi_hide_header X-Powered-By;/);
  });
});

describe('TLS settings', () => {
  const https = conf.slice(conf.indexOf('listen 443 ssl'));
  const plain = conf.slice(conf.indexOf('listen 80 default_server'), conf.indexOf('listen 443 ssl'));
  it('follow Mozilla\'s intermediate profile: TLS 1.2 and 1.3, forward-secret AEAD ciphers, no session tickets', () => {
    expect(https).toMatch(/ssl_protocols TLSv1\.2 TLSv1\.3;/);
    expect(https).toMatch(/ssl_prefer_server_ciphers off;/);
    expect(https).toMatch(/ssl_session_tickets off;/);
    const ciphers = /ssl_ciphers ([^;]+);/.exec(https)![1].split(':');
    expect(ciphers.every((c) => /^ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/.test(c))).toBe(true);
  });
  it('send HSTS for 180 days on HTTPS only, where every location adds headers', () => {
    expect(https.split('add_header Strict-Transport-Security "max-age=15552000" always;').length - 1).toBe(3);
    expect(plain).not.toMatch(/Strict-Transport-Security/);
  });
  it('tell PHP the request came over HTTPS', () => expect(https).toMatch(/fastcgi_param HTTPS on;/));
  it('redirect plain HTTP to the HTTPS port, keeping the method for non-GET clients', () => {
    expect(plain).toMatch(/return 301 https:\/\/\$host\$request_uri;/);
    expect(plain).toMatch(/return 308 https:\/\/\$host\$request_uri;/);
    const other = synthStack({ httpsPort: 8443 }).get('ConfigMap', 'nextcloud-web').data['nginx.conf'];
    expect(other).toMatch(/return 301 https:\/\/\$host:8443\$request_uri;/);
  });
  it('serve the welcome page on plain HTTP, and nothing of Nextcloud there', () => {
    expect(plain).toMatch(/location \^~ \/welcome\/ \{/);
    expect(plain).not.toMatch(/fastcgi_pass/);
  });
});

describeWhen(commands(['nginx', 'openssl'], 'apt-get install nginx-light openssl'), 'nginx -t', () => {
  it('accepts the synthesized config', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-nginx-t-'));
    fs.mkdirSync(path.join(dir, 'welcome'));
    fs.writeFileSync(path.join(dir, 'nginx.conf'), forHostNginx(conf, { tlsFile: selfSignedPem(dir), welcomeDir: path.join(dir, 'welcome') }));
    // A file, not a pipe: Node's pipes are sockets, which /dev/stderr cannot be opened on
    // (in the pod stderr is a real pipe and the config logs there).
    const out = fs.openSync(path.join(dir, 'out'), 'w');
    const run = spawnSync(which('nginx')!, ['-t', '-e', '/dev/stderr', '-c', path.join(dir, 'nginx.conf')], { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    const text = fs.readFileSync(path.join(dir, 'out'), 'utf8');
    expect(text).toMatch(/syntax is ok/);
    expect(text).not.toMatch(/\[(warn|emerg|alert)\]/);
    expect(run.status).toBe(0);
  });
});
