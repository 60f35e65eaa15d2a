import * as crypto from 'crypto';
import { Readable } from 'stream';
import { SECURITY_HEADERS } from '../../lib/nextcloud/nginx-conf';
import { describeWhen } from '../support/requirements';
import { WebStack, startWebStack, synthesizedWeb, webTierAvailable } from '../support/web-stack';

const MiB = 2 ** 20;
const UPLOAD_LIMIT = '150Mi';

const available = webTierAvailable();

describeWhen(available, 'nginx.conf on a real nginx and php-fpm', () => {
  let web: WebStack;
  let limits: { uploadLimit: string; memoryLimit: string };
  const get = (p: string, opts = {}) => web.request(p, opts);

  beforeAll(async () => {
    const s = synthesizedWeb({ php: { uploadLimit: UPLOAD_LIMIT } });
    limits = { uploadLimit: s.uploadLimit, memoryLimit: s.memoryLimit };
    web = await startWebStack(s.conf, { ...limits, pool: s.pool }, { site: s.site });
  }, 30_000);
  afterAll(async () => { await web?.stop(); });

  describe('security headers', () => {
    it.each(['/status.php', '/core/js/app.js', '/core/css/style.css'])('are on %s', async (p) => {
      const res = await get(p);
      expect(res.status).toBe(200);
      for (const [name, value] of SECURITY_HEADERS) expect([name, res.headers[name.toLowerCase()]]).toEqual([name, value]);
    });
    it('are on errors too', async () => {
      const res = await get('/data/alice/files/secret.txt');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    });
    it('never reveal PHP or the nginx version, nor send X-XSS-Protection', async () => {
      const res = await get('/index.php');
      expect(res.headers['x-powered-by']).toBeUndefined();
      expect(res.headers.server).toBe('nginx');
      expect(res.headers['x-xss-protection']).toBeUndefined();
    });
  });

  describe('.well-known', () => {
    it.each(['caldav', 'carddav'])('redirects %s PROPFIND and GET to /remote.php/dav/', async (what) => {
      for (const method of ['PROPFIND', 'GET']) {
        const res = await get(`/.well-known/${what}`, { method });
        expect([method, res.status, res.headers.location]).toEqual([method, 301, '/remote.php/dav/']);
      }
    });
    it('keeps the redirect relative, so it stays right behind a port-forward on another port', async () => {
      const res = await get('/.well-known/caldav', { headers: { Host: 'localhost:18080' } });
      expect(res.headers.location).toBe('/remote.php/dav/');
    });
    it('sends other .well-known paths to the front controller', async () => {
      const res = await get('/.well-known/webfinger?resource=acct:alice');
      expect(res.status).toBe(301);
      expect(res.headers.location).toBe('/index.php/.well-known/webfinger?resource=acct:alice');
    });
    it('serves ACME challenges as files', async () => {
      expect((await get('/.well-known/acme-challenge/token')).body.toString()).toBe('acme-token\n');
    });
  });

  describe('static assets', () => {
    it.each([
      ['/core/js/app.mjs', 'text/javascript'],
      ['/core/js/app.js', 'text/javascript'],
      ['/core/wasm/module.wasm', 'application/wasm'],
      ['/core/fonts/font.woff2', 'font/woff2'],
      ['/core/js/app.js.map', 'application/json'],
      ['/core/img/logo.svg', 'image/svg+xml'],
      ['/core/css/style.css', 'text/css'],
      ['/core/img/photo.webp', 'image/webp'],
    ])('serves %s as %s', async (p, type) => {
      const res = await get(p);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe(type);
    });
    it('lets browsers cache assets for half a year, and forever when versioned', async () => {
      expect((await get('/core/js/app.mjs')).headers['cache-control']).toBe('public, max-age=15778463');
      expect((await get('/core/js/app.mjs?v=abc')).headers['cache-control']).toBe('public, max-age=15778463, immutable');
    });
    it('caches fonts for a week', async () => {
      expect((await get('/core/fonts/font.woff2')).headers['cache-control']).toBe('max-age=604800');
    });
  });

  describe('routing to the front controllers', () => {
    it('passes a WebDAV path with an encoded space to remote.php as PATH_INFO', async () => {
      const r = (await get('/remote.php/dav/files/alice/a%20b.txt', { method: 'PROPFIND' })).json();
      expect(r).toMatchObject({ script: '/remote.php', path_info: '/dav/files/alice/a b.txt', method: 'PROPFIND' });
    });
    it('sends pretty URLs to index.php', async () => {
      const r = (await get('/apps/files/')).json();
      expect(r).toMatchObject({ script: '/index.php', path_info: '/apps/files/', front_controller_active: 'true' });
    });
    it('runs /ocs/v2.php with its path', async () => {
      const r = (await get('/ocs/v2.php/cloud/capabilities?format=json')).json();
      expect(r).toMatchObject({ script: '/ocs/v2.php', path_info: '/cloud/capabilities' });
    });
    it('answers /ocs-provider/ with 200', async () => {
      const res = await get('/ocs-provider/');
      expect(res.status).toBe(200);
      expect(res.json()).toMatchObject({ script: '/ocs-provider/index.php' });
    });
    it('sends /ocm-provider through index.php', async () => {
      expect((await get('/ocm-provider/')).json()).toMatchObject({ script: '/index.php' });
    });
    it('sends any other .php through index.php instead of running it', async () => {
      expect((await get('/core/ajax/other.php')).json()).toMatchObject({ script: '/index.php' });
    });
    it('redirects /remote/… to /remote.php/…', async () => {
      expect((await get('/remote/dav')).headers.location).toMatch(/\/remote\.php\/remote\/dav$/);
    });
  });

  describe('never served', () => {
    it.each(['/data/alice/files/secret.txt', '/config/config.php', '/.htaccess', '/occ', '/3rdparty/readme.txt',
      '/lib/report.php', '/templates/layout.php', '/build/notes.txt', '/tests/notes.txt', '/console.php', '/data/', '/config'])(
      '%s', async (p) => {
        const res = await get(p);
        expect([403, 404]).toContain(res.status);
        expect(res.body.toString()).not.toMatch(/secret family photo|NOT-FOR-THE-WEB|vendor code|template|console/);
      });
  });

  describe('uploads', () => {
    it('follows PHP\'s upload limit: both come from the same setting', () => {
      expect(limits.uploadLimit).toBe('150M');
      expect(synthesizedWeb({ php: { uploadLimit: UPLOAD_LIMIT } }).conf).toMatch(new RegExp(`client_max_body_size ${150 * MiB};`));
    });

    it('delivers a 100 MB chunked upload to remote.php whole', async () => {
      const size = 100 * MiB;
      const hash = crypto.createHash('sha256');
      let sent = 0;
      const body = new Readable({
        read() {
          if (sent >= size) { this.push(null); return; }
          const chunk = crypto.randomBytes(Math.min(MiB, size - sent));
          sent += chunk.length;
          hash.update(chunk);
          this.push(chunk);
        },
      });
      const res = await get('/remote.php/dav/files/alice/big.bin', { method: 'PUT', body });
      expect(res.status).toBe(200);
      const r = res.json();
      expect(r).toMatchObject({ script: '/remote.php', method: 'PUT', body_length: size });
      expect(r.body_sha256).toBe(hash.digest('hex'));
    }, 60_000);

    it('refuses a body over the limit with 413 before PHP sees it', async () => {
      const res = await get('/remote.php/dav/files/alice/too-big.bin', {
        method: 'PUT', headers: { 'Content-Length': String(151 * MiB) }, body: Buffer.alloc(0),
      }).catch((e) => ({ status: -1, error: e }));
      expect(res.status).toBe(413);
    });
  });
});
