#!/usr/bin/env node
// `npm run synth`: runs main.ts through a cached esbuild transform (scripts/ts-register.js),
// without the type-check and without the cdk8s CLI's start-up, so synth after an edit is fast.
'use strict';
require('./preflight').guard(() => {
  require('./ts-register');
  process.exitCode = require('../main.ts').main();
});
