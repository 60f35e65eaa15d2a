import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { MIME_TYPES, SECURITY_HEADERS, STATIC_EXTENSIONS, renderNginxConf } from '../../lib/nginx-conf';
import { commands, describeWhen, which } from '../support/requirements';
import { synthStack } from '../support/stack';

const conf = synthStack().get('ConfigMap', 'nextcloud-web').data['nginx.conf'] as string;

describe('rendered nginx.conf', () => {
  it('is the same text for the same options', () => {
    const o = { listenPort: 8080, phpFpm: '127.0.0.1:9000', webRoot: '/var/www/html', maxBodyBytes: 1, tempDir: '/tmp', responseBufferBytes: 1 };
    expect(renderNginxConf(o)).toBe(renderNginxConf({ ...o }));
  });
  it('listens on the family\'s port (80 by default) and reaches php-fpm on loopback', () => {
    expect(conf).toMatch(/listen 80 default_server;/);
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
    for (const [name] of SECURITY_HEADERS) expect(conf.split(`add_header ${name} `).length - 1).toBe(2);
    expect(conf).not.toMatch(/X-XSS-Protection/);
    expect(conf).toMatch(/server_tokens off;/);
    expect(conf).toMatch(/fastcgi_hide_header X-Powered-By;/);
  });
});

describeWhen(commands(['nginx'], 'apt-get install nginx-light'), 'nginx -t', () => {
  it('accepts the synthesized config', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-nginx-t-'));
    fs.writeFileSync(path.join(dir, 'nginx.conf'), conf);
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
