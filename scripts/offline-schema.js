// Preload for `cdk8s import` (node --require): answers the one download it makes,
// the Kubernetes OpenAPI definitions, from the copy kept in schemas/ so the import
// works offline and reproducibly. Any other request goes to the network untouched.
'use strict';
const fs = require('fs');
const path = require('path');
const https = require('https');
const { PassThrough } = require('stream');

const SCHEMA_URL = /^https:\/\/raw\.githubusercontent\.com\/cdk8s-team\/cdk8s\/master\/kubernetes-schemas\/v([0-9.]+)\/_definitions\.json$/;
const realGet = https.get;

https.get = function get(url, ...rest) {
  const match = typeof url === 'string' ? SCHEMA_URL.exec(url) : null;
  const local = match && path.join(__dirname, '..', 'schemas', `k8s-${match[1]}`, '_definitions.json');
  if (!local || !fs.existsSync(local)) return realGet.call(this, url, ...rest);
  const callback = rest.find((a) => typeof a === 'function');
  const res = new PassThrough();
  res.statusCode = 200;
  res.headers = {};
  const req = new PassThrough();
  process.nextTick(() => {
    if (callback) callback(res);
    fs.createReadStream(local).pipe(res);
  });
  process.stderr.write(`offline-schema: using ${path.relative(process.cwd(), local)}\n`);
  return req;
};
