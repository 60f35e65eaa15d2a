import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import * as tls from 'tls';
import { TLS_CIPHERS } from '../../lib/nextcloud/nginx-conf';
import { PUSH_PORT } from '../../lib/nextcloud/client-push';
import { checkPush } from '../../client/push-check';
import * as crypto from 'crypto';
import * as https from 'https';
import { IncomingMessage } from 'http';
import { WELCOME_FILES } from '../../lib/https/welcome-page';
import { commands, describeWhen } from '../support/requirements';
import { HOST } from '../support/stack';
import { WebStack, issueCertificate, startWebStack, synthesizedWeb, webTierAvailable } from '../support/web-stack';

const web = webTierAvailable();
const clients = commands(['curl', 'openssl', 'python3'], 'apt-get install curl openssl python3');
const available = web.ok && !clients.ok ? clients : web;

/** The certificate nginx presents, as Node's TLS client sees it (trusting only the home CA). */
function peer(stack: WebStack, host: string): Promise<tls.PeerCertificate & { protocol: string | null; alpn: string | false }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(stack.endpoint.socketPath);
    const c = tls.connect({ socket, ca: [stack.endpoint.ca!], host, ...(net.isIP(host) ? {} : { servername: host }), ALPNProtocols: ['h2', 'http/1.1'] }, () => {
      const cert = c.getPeerCertificate();
      resolve({ ...cert, protocol: c.getProtocol(), alpn: c.alpnProtocol ?? false });
      c.end();
    });
    c.on('error', reject);
  });
}

/** A WebSocket upgrade through nginx (HTTPS, trusting only the home CA), as an app opens one. */
function upgrade(stack: WebStack, urlPath: string, key: string): Promise<{ res: IncomingMessage; socket: net.Socket; head: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = https.request({
      socketPath: stack.endpoint.socketPath, ca: stack.endpoint.ca, servername: 'localhost', host: 'localhost', path: urlPath,
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': key },
    });
    req.on('upgrade', (res, socket, head) => resolve({ res, socket, head }));
    req.on('response', (res) => reject(new Error(`no upgrade: HTTP ${res.statusCode}`)));
    req.on('error', reject);
    req.end();
  });
}

/** The next unmasked text frame from a server (short frames only, as the stand-in sends). */
function readFrame(socket: net.Socket, pending: Buffer = Buffer.alloc(0)): Promise<string> {
  return new Promise((resolve) => {
    let data = pending;
    const done = () => data.length >= 2 && data.length >= 2 + (data[1] & 0x7f);
    const finish = () => { socket.off('data', more); resolve(data.subarray(2, 2 + (data[1] & 0x7f)).toString()); };
    const more = (d: Buffer) => { data = Buffer.concat([data, d]); if (done()) finish(); };
    if (done()) finish(); else socket.on('data', more);
  });
}

/** A client's text frame: masked, as RFC 6455 requires of clients. */
function clientFrame(text: string): Buffer {
  const mask = crypto.randomBytes(4);
  const body = Buffer.from(text).map((b, i) => b ^ mask[i % 4]);
  return Buffer.concat([Buffer.from([0x81, 0x80 | body.length]), mask, body]);
}

describeWhen(available, 'HTTPS on a real nginx, with the certificate the pod issues', () => {
  let stack: WebStack;
  let caFile: string;
  let names: string[];
  let addresses: string[];
  const s = synthesizedWeb();

  beforeAll(async () => {
    names = s.site.issuerEnv.HOMECLOUD_TLS_DNS.split(' ');
    addresses = s.site.issuerEnv.HOMECLOUD_TLS_IP.split(' ');
    // The LAN address goes on the stack's own loopback: clients connect by it as a phone would.
    stack = await startWebStack(s.conf, s, { site: s.site, addresses: HOST.lanAddresses, checkSeconds: 1 });
    caFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'hc-https-')), 'ca.crt');
    fs.writeFileSync(caFile, s.site.ca.certPem);
  }, 30_000);
  afterAll(async () => { await stack?.stop(); });

  it('names every trusted name and address in the certificate', () => {
    expect(names).toEqual(['localhost', HOST.hostname]);
    expect(addresses).toEqual(['127.0.0.1', ...HOST.lanAddresses]);
  });

  it('verifies with curl against only the home CA, by every trusted name and address', () => {
    for (const host of [...names, ...addresses]) {
      const resolve = net.isIP(host) ? [] : ['--resolve', `${host}:443:127.0.0.1`];
      const r = stack.inside('curl', ['-sS', '--cacert', caFile, '--capath', '/nonexistent', ...resolve, '-o', '/dev/null', '-w', '%{http_code}', `https://${host}/status.php`]);
      expect([host, r.stdout, r.stderr]).toEqual([host, '200', '']);
    }
  });

  it('verifies with Python\'s ssl against only the home CA, by every trusted name and address', () => {
    const script = [
      'import socket, ssl, sys',
      'ctx = ssl.create_default_context(cafile=sys.argv[1])',
      'for host in sys.argv[2:]:',
      '    with socket.create_connection(("127.0.0.1", 443)) as raw, ctx.wrap_socket(raw, server_hostname=host) as s:',
      '        print(host, s.version())',
    ].join('\n');
    const r = stack.inside('python3', ['-c', script, caFile, ...names, ...addresses]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toEqual([...names, ...addresses].map((h) => `${h} TLSv1.3`));
  });

  it('verifies with Node\'s TLS against only the home CA, and negotiates HTTP/2', async () => {
    for (const host of [...names, ...addresses]) {
      const p = await peer(stack, host);
      expect([host, p.protocol, p.alpn]).toEqual([host, 'TLSv1.3', 'h2']);
      expect(p.issuer.O).toBe('homecloud');
    }
  });

  it('is refused by a client that does not trust the home CA', () => {
    const r = stack.inside('curl', ['-sS', '--resolve', `${HOST.hostname}:443:127.0.0.1`, `https://${HOST.hostname}/status.php`]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/certificate/i);
  });

  it('serves HTTP/2 to curl', () => {
    const r = stack.inside('curl', ['-sS', '--http2', '--cacert', caFile, '-o', '/dev/null', '-w', '%{http_version}', 'https://localhost/status.php']);
    expect(r.stdout).toBe('2');
  });

  it('refuses TLS 1.0 and 1.1 and ciphers without forward secrecy; speaks 1.2 and 1.3', () => {
    const sClient = (...args: string[]) => stack.inside('openssl', ['s_client', '-connect', '127.0.0.1:443', '-servername', 'localhost', '-CAfile', caFile, ...args]);
    // SECLEVEL=0: let this OpenSSL offer the old protocols at all, so it is nginx that refuses.
    for (const old of ['-tls1', '-tls1_1']) expect([old, sClient(old, '-cipher', 'DEFAULT@SECLEVEL=0').status]).toEqual([old, 1]);
    expect(sClient('-tls1_2', '-cipher', 'AES128-SHA:AES256-GCM-SHA384').status).toBe(1);
    const v12 = sClient('-tls1_2');
    expect(v12.status).toBe(0);
    const cipher = /Cipher is (\S+)/.exec(v12.stdout)?.[1];
    expect(TLS_CIPHERS).toContain(cipher);
    expect(sClient('-tls1_3').stdout).toMatch(/Verify return code: 0 \(ok\)/);
  });

  it('sends HSTS on HTTPS only', async () => {
    expect((await stack.request('/status.php')).headers['strict-transport-security']).toBe('max-age=15552000');
    expect((await stack.request('/core/js/app.js')).headers['strict-transport-security']).toBe('max-age=15552000');
    expect((await stack.requestHttp(`/welcome/`)).headers['strict-transport-security']).toBeUndefined();
  });

  it('moves plain HTTP to HTTPS, keeping the method for WebDAV clients, by the name the client used', async () => {
    const get = await stack.requestHttp('/index.php/apps/files?dir=/', { headers: { Host: `${HOST.hostname}` } });
    expect([get.status, get.headers.location]).toEqual([301, `https://${HOST.hostname}/index.php/apps/files?dir=/`]);
    const propfind = await stack.requestHttp('/remote.php/dav/files/alice/', { method: 'PROPFIND', headers: { Host: '192.168.1.20' } });
    expect([propfind.status, propfind.headers.location]).toEqual([308, 'https://192.168.1.20/remote.php/dav/files/alice/']);
    const dav = await stack.requestHttp('/.well-known/caldav', { headers: { Host: HOST.hostname } });
    expect(dav.headers.location).toBe(`https://${HOST.hostname}/.well-known/caldav`);
    // …where CalDAV discovery still lands on the DAV endpoint.
    const discovered = await stack.request('/.well-known/caldav', { method: 'PROPFIND' });
    expect([discovered.status, discovered.headers.location]).toEqual([301, '/remote.php/dav/']);
  });

  it('serves the welcome page, the CA, the iPhone profiles and each phone\'s page on plain HTTP, with the types phones need', async () => {
    const page = await stack.requestHttp('/welcome/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body.toString()).toContain(`href="${WELCOME_FILES.profile}"`);
    const crt = await stack.requestHttp(`/welcome/${WELCOME_FILES.certificate}`);
    expect([crt.status, crt.headers['content-type'], crt.body.toString()]).toEqual([200, 'application/x-x509-ca-cert', s.site.ca.certPem]);
    const profile = await stack.requestHttp(`/welcome/${WELCOME_FILES.profile}`);
    expect([profile.status, profile.headers['content-type']]).toEqual([200, 'application/x-apple-aspen-config']);
    expect(profile.headers['cache-control']).toBe('no-store');
    // The page for each phone, and the iPhone's accounts profile.
    for (const file of [WELCOME_FILES.android, WELCOME_FILES.iphone]) {
      const r = await stack.requestHttp(`/welcome/${file}`);
      expect([file, r.status, r.headers['content-type']]).toEqual([file, 200, expect.stringMatching(/^text\/html/)]);
      expect(r.body.toString()).toContain('<svg class="qr"');
    }
    const accounts = await stack.requestHttp(`/welcome/${WELCOME_FILES.accounts}`);
    expect([accounts.status, accounts.headers['content-type']]).toEqual([200, 'application/x-apple-aspen-config']);
    expect((await stack.requestHttp('/welcome')).headers.location).toBe('/welcome/');
    // And over HTTPS, for a device that already trusts it and sets up another.
    expect((await stack.request(`/welcome/${WELCOME_FILES.certificate}`)).body.toString()).toBe(s.site.ca.certPem);
  });

  it('proxies the apps\' WebSocket at /push/ to Client Push beside php-fpm, and passes frames both ways at once', async () => {
    const push = stack.startInside(process.execPath, [path.join(__dirname, '..', 'web', 'push-standin.js'), String(PUSH_PORT)]);
    await new Promise<void>((resolve) => push.stdout!.on('data', (d) => { if (String(d).includes('listening')) resolve(); }));
    try {
      const key = crypto.randomBytes(16).toString('base64');
      const { res, socket, head } = await upgrade(stack, '/push/ws', key);
      expect(res.statusCode).toBe(101);
      expect(res.headers['sec-websocket-accept']).toBe(crypto.createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64'));
      // The push server sees its own path, the name the app used, and the app's address.
      expect(JSON.parse(await readFrame(socket, head))).toEqual({ path: '/ws', host: 'localhost', forwardedFor: '127.0.0.1' });
      socket.write(clientFrame('hello'));
      expect(await readFrame(socket)).toBe('echo hello');
      socket.destroy();
      // What status asks: the push server answers behind nginx…
      const connect = () => net.connect(stack.endpoint.socketPath);
      expect(await checkPush('localhost', 443, 3000, connect)).toEqual({ works: true });
      push.kill('SIGKILL');
      await new Promise((r) => push.once('exit', r));
      // …and, when it is not running, says so in words.
      expect(await checkPush('localhost', 443, 3000, connect)).toEqual({ works: false, problem: expect.stringMatching(/not running yet/) });
    } finally {
      push.kill('SIGKILL');
    }
  });

  it('serves nothing of Nextcloud on plain HTTP', async () => {
    for (const p of ['/status.php', '/remote.php/dav/', '/core/js/app.js', '/data/alice/files/secret.txt']) {
      const r = await stack.requestHttp(p);
      expect([p, r.status]).toEqual([p, 301]);
    }
  });

  it('loads a renewed certificate without a restart (nginx-run.sh reloads nginx)', async () => {
    const before = await peer(stack, 'localhost');
    // The certificates container's check 46 days on, when fewer than 45 days remain.
    const later = String(Math.floor(Date.now() / 1000) + 46 * 86400);
    const renewed = issueCertificate(s.site, path.join(path.dirname(caFile), 'ca'), path.join(stack.runDir, 'tls'), { HOMECLOUD_NOW: later });
    expect(renewed.stdout).toMatch(/issued a server certificate .* because the current one expires on/);
    // The pod writes it as nginx's user; here nginx runs as nobody.
    fs.chownSync(path.join(stack.runDir, 'tls', 'tls.pem'), Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' })), 0);
    const deadline = Date.now() + 10_000;
    let after = await peer(stack, 'localhost');
    while (after.serialNumber === before.serialNumber && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      after = await peer(stack, 'localhost');
    }
    expect(after.serialNumber).not.toBe(before.serialNumber);
    expect(stack.log()).toMatch(/new server certificate, nginx reloaded/);
    expect((await stack.request('/status.php')).status).toBe(200);
  });
});
