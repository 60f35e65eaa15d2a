// Jest transformer: TypeScript to CommonJS with esbuild (no type-check here; `npm test`
// runs tsc first). ts-jest would type-check the 1 MB imports/k8s.ts in every worker.
'use strict';
const esbuild = require('esbuild');
const crypto = require('crypto');

module.exports = {
  process(source, filename) {
    const { code, map } = esbuild.transformSync(source, {
      loader: 'ts', format: 'cjs', target: 'node20', sourcemap: 'external', sourcefile: filename,
    });
    return { code, map };
  },
  getCacheKey(source, filename) {
    return crypto.createHash('sha1').update('esbuild-jest-1\0').update(filename).update('\0').update(source).digest('hex');
  },
};
