'use strict';
// Requests per second through our nginx.conf against the same nginx with a minimal config
// serving the same files, in the same run: a static asset and a PHP front-controller hit.
// And what TLS costs: our HTTPS server against the same server block served as plain HTTP
// (keep-alive, as browsers and apps connect), plus the cost of one full TLS handshake.
require('../scripts/ts-register');
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { median, report } = require('./lib');
const { startWebStack, synthesizedWeb, webStackAvailable } = require('../test/support/web-stack.ts');

const MINIMAL = `worker_processes 2;
pid /tmp/nginx.pid;
error_log /dev/stderr warn;
daemon off;
events { worker_connections 1024; }
http {
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path /tmp/client_temp;
    fastcgi_temp_path /tmp/fastcgi_temp;
    proxy_temp_path /tmp/proxy_temp;
    uwsgi_temp_path /tmp/uwsgi_temp;
    scgi_temp_path /tmp/scgi_temp;
    server {
        listen 8080;
        root /var/www/html;
        location ~ \\.php(?:$|/) {
            fastcgi_split_path_info ^(.+?\\.php)(/.*)$;
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
            fastcgi_param PATH_INFO $fastcgi_path_info;
            fastcgi_pass 127.0.0.1:9000;
        }
    }
}
`;

// nginx, php-fpm and the stack on CPU 0; wrk and openssl s_time on CPU 1.
const SERVER_CPU = '0';
const CLIENT_CPU = '1';

/**
 * A web root with, beside the stand-in's tiny files, a script the size of one of Nextcloud's
 * JavaScript bundles (about 120 kB; theirs range from tens of kB to a few MB), varied enough that
 * gzip shrinks it about as much as real code.
 */
function benchWebroot() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-bench-webroot-'));
  fs.chmodSync(dir, 0o755); // nginx runs unprivileged
  fs.cpSync(path.join(__dirname, '..', 'test', 'web', 'standin'), dir, { recursive: true });
  let x = 1;
  const word = () => { x = (x * 1103515245 + 12345) % 2147483648; return `v${(x % 5000).toString(36)}`; };
  const lines = Array.from({ length: 2400 }, (_, i) => `export function ${word()}${i}(${word()}, ${word()}) { return ${word()}.map((e) => e.${word()} + ${x % 997}); }`);
  fs.writeFileSync(path.join(dir, 'core', 'js', 'bundle.mjs'), lines.join('\n'));
  return dir;
}

function wrk(web, urlPath, seconds, headers = []) {
  // Inside the stack's own network namespace, where nginx listens (see test/support/web-stack.ts).
  const url = `${web.baseUrl}${urlPath}`;
  // The client on a core of its own, as a phone is a machine of its own: with both on the same
  // two cores, wrk's own decryption would be counted as the server's cost of TLS.
  const r = web.inside('taskset', ['-c', CLIENT_CPU, 'wrk', '-t1', '-c16', `-d${seconds}s`, ...headers.flatMap((h) => ['-H', h]), url]);
  if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr}`);
  const m = /Requests\/sec:\s+([0-9.]+)/.exec(r.stdout);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(r.stdout);
  if (non2xx) throw new Error(`wrk saw ${non2xx[1]} error responses from ${url}`);
  return Number(m[1]);
}

/** New TLS connections per second (full handshakes, no resumption), from inside the stack's network. */
function handshakesPerSecond(web) {
  const port = /:(\d+)$/.exec(web.baseUrl)[1];
  const r = web.inside('taskset', ['-c', CLIENT_CPU, 'openssl', 's_time', '-connect', `127.0.0.1:${port}`, '-new', '-time', '3']);
  const m = /(\d+) connections in [0-9.]+s; ([0-9.]+) connections\/user sec/.exec(r.stdout);
  if (!m) throw new Error(`openssl s_time failed: ${r.stdout}${r.stderr}`);
  return Number(m[1]) / 3;
}

module.exports = async function benchNginx({ runs }) {
  const ready = await webStackAvailable();
  if (!ready.ok || !spawnSync('sh', ['-c', 'command -v wrk']).stdout.length) {
    console.log(`\n## nginx: skipped (${ready.ok ? 'wrk is missing: apt-get install wrk' : ready.reason})`);
    return undefined;
  }
  const synthesized = synthesizedWeb({});
  const ours = synthesized.conf;
  // The same HTTPS server block without TLS: what the family's requests would cost in plain HTTP.
  // (The plain-HTTP server in front, which only redirects, is left out.)
  const plain = ours.slice(0, ours.indexOf('    # Plain HTTP:')) + ours.slice(ours.indexOf('    server {\n        listen 443 ssl'))
    .replace(/listen (\d+) ssl default_server;\n\s*http2 on;/, 'listen $1 default_server;').replace(/^\s*ssl_[^\n]*\n/gm, '');
  const php = { uploadLimit: '2048M', memoryLimit: '512M' };
  const rounds = Math.max(3, Math.min(runs, 5));
  const seconds = 4;
  const results = { ours: { static: [], bundle: [], php: [], handshakes: [] }, plain: { static: [], bundle: [], php: [] }, minimal: { static: [], bundle: [], php: [] } };
  const webroot = benchWebroot();
  // Alternate the configs so drift on the machine affects all alike.
  for (let i = 0; i < rounds; i++) {
    for (const [name, conf] of [['ours', ours], ['plain', plain], ['minimal', MINIMAL]]) {
      const web = await startWebStack(conf, php, { site: synthesized.site, cpus: SERVER_CPU, webroot });
      try {
        results[name].static.push(wrk(web, '/core/js/app.mjs', seconds));
        // As browsers ask for it: compressed (nginx gzips it on the fly, level 4).
        results[name].bundle.push(wrk(web, '/core/js/bundle.mjs', seconds, ['Accept-Encoding: gzip']));
        results[name].php.push(wrk(web, '/status.php', seconds));
        if (name === 'ours') results.ours.handshakes.push(handshakesPerSecond(web));
      } finally {
        await web.stop();
      }
    }
  }
  const m = (a) => median(a);
  const staticRatio = m(results.plain.static) / m(results.minimal.static);
  const phpRatio = m(results.plain.php) / m(results.minimal.php);
  const tlsStatic = m(results.ours.static) / m(results.plain.static);
  const tlsBundle = m(results.ours.bundle) / m(results.plain.bundle);
  const tlsPhp = m(results.ours.php) / m(results.plain.php);
  const handshakeMs = 1000 / m(results.ours.handshakes);
  report(`nginx requests/s (server on CPU ${SERVER_CPU}, wrk -t1 -c16 keep-alive on CPU ${CLIENT_CPU}, ${seconds}s each, median of ${rounds} alternating rounds)`, [
    ['static /core/js/app.mjs, minimal config (HTTP)', m(results.minimal.static).toFixed(0)],
    ['static, our server block over plain HTTP', m(results.plain.static).toFixed(0)],
    ['static, our nginx.conf over HTTPS', m(results.ours.static).toFixed(0)],
    ['static ratio ours-plain/minimal (target >= 0.90)', staticRatio.toFixed(3)],
    ['static ratio HTTPS/HTTP, 23-byte file (no work but TLS)', tlsStatic.toFixed(3)],
    ['static 120 kB script gzipped, minimal config (HTTP)', m(results.minimal.bundle).toFixed(0)],
    ['static 120 kB script gzipped, our block over HTTP', m(results.plain.bundle).toFixed(0)],
    ['static 120 kB script gzipped, our nginx.conf HTTPS', m(results.ours.bundle).toFixed(0)],
    ['static ratio HTTPS/HTTP, 120 kB script (target >= 0.80)', tlsBundle.toFixed(3)],
    ['PHP /status.php, minimal config (HTTP)', m(results.minimal.php).toFixed(0)],
    ['PHP, our server block over plain HTTP', m(results.plain.php).toFixed(0)],
    ['PHP, our nginx.conf over HTTPS', m(results.ours.php).toFixed(0)],
    ['PHP ratio ours-plain/minimal', phpRatio.toFixed(3)],
    ['PHP ratio HTTPS/HTTP (target >= 0.90)', tlsPhp.toFixed(3)],
    ['full TLS handshakes/s (openssl s_time -new)', m(results.ours.handshakes).toFixed(0)],
    ['one handshake, ms of one core (client and server)', handshakeMs.toFixed(2)],
  ]);
  return { results, staticRatio, phpRatio, tlsStatic, tlsBundle, tlsPhp, handshakeMs };
};
