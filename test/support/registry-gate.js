#!/usr/bin/env node
// Stands in front of a registry the way Docker Hub does, in a process of its own (the tests
// run the client with spawnSync, which would stall a server in the test's own event loop).
// Usage: registry-gate.js UPSTREAM MODE LOG — MODE "token": 401 with a Bearer challenge until
// the request carries a token from its anonymous token service; "rate-limited": 429 for
// everything. And the answers that must never be pinned: "html" (200 text/html for everything,
// as a hotel Wi-Fi login page or a captive proxy answers), "not-manifest" (JSON of a manifest's
// media type that is no manifest, its digest header true), "wrong-digest" (the registry's answers
// with a Docker-Content-Digest that is not their content's), "server-error" (500), "hang" (no
// answer ever), "truncated" (manifest GETs cut off halfway, Content-Length promising the whole).
// Prints "listening on http://127.0.0.1:PORT"; appends "METHOD PATH" lines to LOG.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');

const [upstream, mode, log] = process.argv.slice(2);
const token = crypto.randomBytes(12).toString('hex');
let self = '';
const server = http.createServer((req, res) => {
  fs.appendFileSync(log, `${req.method} ${req.url}\n`);
  if (mode === 'rate-limited') {
    res.writeHead(429, { 'Retry-After': '3600', 'Content-Type': 'application/json' });
    res.end('{"errors":[{"code":"TOOMANYREQUESTS"}]}');
    return;
  }
  const manifest = /\/manifests\//.test(req.url);
  if (mode === 'html') {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(req.method === 'HEAD' ? undefined : '<!doctype html><title>Hotel Wi-Fi</title><p>Please accept the terms to continue.</p>');
    return;
  }
  if (mode === 'server-error') {
    res.writeHead(500, { 'Content-Type': 'text/plain' });
    res.end('internal error');
    return;
  }
  if (mode === 'hang') return; // (the connection stays open, unanswered)
  if (mode === 'not-manifest' && manifest) {
    const body = Buffer.from('{"hello":"world","schemaVersion":2}');
    res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.index.v1+json', 'Content-Length': body.length,
      'Docker-Content-Digest': `sha256:${crypto.createHash('sha256').update(body).digest('hex')}` });
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  if (mode !== 'token') {
    const up = http.request(`${upstream}${req.url}`, { method: req.method, headers: { accept: req.headers.accept || '*/*' } }, (r) => {
      const headers = { ...r.headers };
      if (mode === 'wrong-digest' && manifest) headers['docker-content-digest'] = `sha256:${crypto.createHash('sha256').update(req.url).digest('hex')}`;
      res.writeHead(r.statusCode, headers);
      if (mode === 'truncated' && manifest && req.method === 'GET') {
        const chunks = [];
        r.on('data', (c) => chunks.push(c));
        r.on('end', () => {
          const body = Buffer.concat(chunks);
          res.write(body.subarray(0, body.length >> 1));
          res.socket.destroy();
        });
        return;
      }
      r.pipe(res);
    });
    up.on('error', () => { res.writeHead(502); res.end(); });
    req.pipe(up);
    return;
  }
  if (req.url.startsWith('/token?')) {
    const u = new URL(req.url, self);
    const ok = u.searchParams.get('service') === 'test-registry' && /^repository:[\w/.-]+:pull$/.test(u.searchParams.get('scope') || '');
    res.writeHead(ok ? 200 : 400, { 'Content-Type': 'application/json' });
    res.end(ok ? JSON.stringify({ token }) : '{}');
    return;
  }
  if (req.headers.authorization !== `Bearer ${token}`) {
    const repo = (/^\/v2\/(.+)\/(manifests|blobs)\//.exec(req.url) || [])[1] || '';
    res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="${self}/token",service="test-registry",scope="repository:${repo}:pull"` });
    res.end();
    return;
  }
  const up = http.request(`${upstream}${req.url}`, { method: req.method, headers: { accept: req.headers.accept || '*/*' } }, (r) => {
    res.writeHead(r.statusCode, r.headers);
    r.pipe(res);
  });
  up.on('error', () => { res.writeHead(502); res.end(); });
  req.pipe(up);
});
server.listen(0, '127.0.0.1', () => {
  self = `http://127.0.0.1:${server.address().port}`;
  process.stdout.write(`listening on ${self}\n`);
});
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections(); // ("hang" keeps some open)
});
