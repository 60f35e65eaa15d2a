'use strict';
// The egress point's cost (#31): an app install's downloads through it against the same
// downloads made directly, from the same local HTTPS server, in one invocation. An install is
// what Nextcloud's HTTP client (Guzzle over libcurl) fetches: the app store's list for this
// Nextcloud version (about 3 MB) and the app's archive (the calendar's is about 8 MB). curl
// makes each request as libcurl does for Nextcloud: a CONNECT tunnel through the proxy, or a
// direct TLS connection. Runs alternate (direct, proxied) so both see the same machine load.
require('../scripts/ts-register');
const { execFile, execFileSync } = require('child_process');
const { promisify } = require('util');
const crypto = require('crypto');
const fs = require('fs');
const https = require('https');
const os = require('os');
const path = require('path');
const { median, report } = require('./lib');
const { squidAvailable, startEgress } = require('../test/support/egress-point.ts');

const HOST = 'apps.example.test';
const FILES = { '/api/v1/platform/34.0.0/apps.json': 3 * 2 ** 20, '/calendar-v5.5.0.tar.gz': 8 * 2 ** 20 };

module.exports = async function egressBench({ runs }) {
  const ready = squidAvailable();
  if (!ready.ok) {
    console.log(`\n## egress point\nskipped: ${ready.reason}`);
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-bench-egress-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${HOST}`, '-addext', `subjectAltName=DNS:${HOST}`,
    '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
  const bodies = Object.fromEntries(Object.entries(FILES).map(([p, n]) => [p, crypto.randomBytes(n)]));
  const server = https.createServer({ key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) },
    (req, res) => res.end(bodies[req.url] ?? ''));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  const egress = await startEgress({ destinations: [{ host: HOST, purpose: 'the benchmark\'s app store' }], httpsPorts: [port], hosts: { [HOST]: '127.0.0.1' } });
  // curl runs asynchronously: the server answers from this process's event loop.
  const install = async (proxied) => {
    const start = process.hrtime.bigint();
    for (const p of Object.keys(FILES)) {
      await promisify(execFile)('curl', ['-sS', '-o', '/dev/null', '--cacert', path.join(dir, 'cert.pem'), '--resolve', `${HOST}:${port}:127.0.0.1`,
        ...(proxied ? ['--proxy', `http://127.0.0.1:${egress.port}`] : []), `https://${HOST}:${port}${p}`]);
    }
    return Number(process.hrtime.bigint() - start) / 1e9;
  };
  try {
    await install(false);
    await install(true);
    const direct = [];
    const through = [];
    for (let i = 0; i < runs; i++) {
      direct.push(await install(false));
      through.push(await install(true));
    }
    const d = median(direct);
    const t = median(through);
    report(`egress point: an app install's downloads (${Object.keys(FILES).length} files, 11 MiB), median of ${runs}`, [
      ['direct (baseline)', `${(d * 1000).toFixed(0)} ms`],
      ['through the egress point (Squid, CONNECT)', `${(t * 1000).toFixed(0)} ms`],
      ['ratio (target ≤ 1.2)', (t / d).toFixed(2)],
    ]);
  } finally {
    await egress.stop();
    server.close();
  }
};
