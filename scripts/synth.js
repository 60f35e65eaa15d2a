#!/usr/bin/env node
// `npm run synth`: runs main.ts without type-checking (that belongs to `npm test` and
// `npm run build`), so synth after every edit stays fast. TypeScript is turned into
// JavaScript by esbuild, file by file, and cached by file content under node_modules/.cache.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const cacheDir = path.join(root, 'node_modules', '.cache', 'homecloud-synth');
let esbuild; // loaded only on a cache miss

function compile(source, filename) {
  const key = crypto.createHash('sha1').update(filename).update('\0').update(source).digest('hex');
  const cached = path.join(cacheDir, `${key}.js`);
  try {
    return fs.readFileSync(cached, 'utf8');
  } catch {
    esbuild = esbuild || require('esbuild');
    const { code } = esbuild.transformSync(source, {
      loader: 'ts', format: 'cjs', target: 'node20', sourcemap: 'inline', sourcefile: filename,
    });
    fs.mkdirSync(cacheDir, { recursive: true });
    fs.writeFileSync(`${cached}.${process.pid}`, code);
    fs.renameSync(`${cached}.${process.pid}`, cached);
    return code;
  }
}

require.extensions['.ts'] = (module, filename) => {
  module._compile(compile(fs.readFileSync(filename, 'utf8'), filename), filename);
};

process.exitCode = require(path.join(root, 'main.ts')).main();
