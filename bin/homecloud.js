#!/usr/bin/env node
// The homecloud command: thin entry point; everything else is in client/.
'use strict';
const { guard, exitIfEnvironment } = require('../scripts/preflight');

guard(() => {
  require('../scripts/ts-register');
  const { run, processIo } = require('../client/cli.ts');
  return run(process.argv.slice(2), processIo()).then(
    (code) => { process.exitCode = code; },
    (e) => {
      exitIfEnvironment(e);
      process.stderr.write(`homecloud: unexpected error (please report it): ${e && e.stack ? e.stack : e}\n`);
      process.exitCode = 2;
    },
  );
});
