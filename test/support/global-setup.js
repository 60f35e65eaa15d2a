'use strict';
// Jest globalSetup: this run's temporary folder (see test-tmp.js). Runs before the workers
// start, so they and every program a test starts inherit TMPDIR.
const os = require('os');
const { startRun } = require('./test-tmp');

module.exports = async function globalSetup() {
  const dir = startRun(os.tmpdir());
  process.env.HOMECLOUD_TEST_TMP = dir;
  process.env.TMPDIR = dir;
};
