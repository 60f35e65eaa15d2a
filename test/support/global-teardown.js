'use strict';
// Jest globalTeardown: removes this run's temporary folder (see test-tmp.js).
const { endRun } = require('./test-tmp');

module.exports = async function globalTeardown() {
  const said = endRun(process.env.HOMECLOUD_TEST_TMP, process.env.KEEP_TEST_FILES === '1');
  if (said) console.log(said);
};
