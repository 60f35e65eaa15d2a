'use strict';
// Requests per second through our nginx.conf against the same nginx with a minimal config
// serving the same files, in the same run: a static asset and a PHP front-controller hit.
require('../scripts/ts-register');
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { median, report } = require('./lib');
const { startWebStack, webStackAvailable } = require('../test/support/web-stack.ts');
const { resolveSettings } = require('../lib/settings.ts');
const { buildApp } = require('../lib/chart.ts');

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

function wrk(web, urlPath, seconds) {
  // Inside the stack's own network namespace, where nginx listens (see test/support/web-stack.ts).
  const url = `${web.baseUrl}${urlPath}`;
  const r = web.inside('wrk', ['-t2', '-c16', `-d${seconds}s`, url]);
  if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr}`);
  const m = /Requests\/sec:\s+([0-9.]+)/.exec(r.stdout);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(r.stdout);
  if (non2xx) throw new Error(`wrk saw ${non2xx[1]} error responses from ${url}`);
  return Number(m[1]);
}

module.exports = async function benchNginx({ runs }) {
  const ready = await webStackAvailable();
  if (!ready.ok || !spawnSync('sh', ['-c', 'command -v wrk']).stdout.length) {
    console.log(`\n## nginx: skipped (${ready.ok ? 'wrk is missing: apt-get install wrk' : ready.reason})`);
    return undefined;
  }
  const settings = resolveSettings({}, { hostname: 'bench', lanAddresses: [], timeZone: 'UTC' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-bench-nginx-'));
  const { chart } = buildApp(settings, { postgresPassword: 'x', adminPassword: 'x', cachePassword: 'x' }, dir);
  const ours = chart.nextcloud.nginxConf;
  const php = { uploadLimit: '2048M', memoryLimit: '512M' };
  const rounds = Math.max(3, Math.min(runs, 5));
  const seconds = 4;
  const results = { ours: { static: [], php: [] }, minimal: { static: [], php: [] } };
  // Alternate the two configs so drift on the machine affects both alike.
  for (let i = 0; i < rounds; i++) {
    for (const [name, conf] of [['ours', ours], ['minimal', MINIMAL]]) {
      const web = await startWebStack(conf, php);
      try {
        results[name].static.push(wrk(web, '/core/js/app.mjs', seconds));
        results[name].php.push(wrk(web, '/status.php', seconds));
      } finally {
        await web.stop();
      }
    }
  }
  const m = (a) => median(a);
  const staticRatio = m(results.ours.static) / m(results.minimal.static);
  const phpRatio = m(results.ours.php) / m(results.minimal.php);
  report(`nginx requests/s (wrk -t2 -c16, ${seconds}s each, median of ${rounds} alternating rounds)`, [
    ['static /core/js/app.mjs, minimal config', m(results.minimal.static).toFixed(0)],
    ['static /core/js/app.mjs, our nginx.conf', m(results.ours.static).toFixed(0)],
    ['static ratio ours/minimal (target >= 0.90)', staticRatio.toFixed(3)],
    ['PHP /status.php, minimal config', m(results.minimal.php).toFixed(0)],
    ['PHP /status.php, our nginx.conf', m(results.ours.php).toFixed(0)],
    ['PHP ratio ours/minimal', phpRatio.toFixed(3)],
  ]);
  return { results, staticRatio, phpRatio };
};
