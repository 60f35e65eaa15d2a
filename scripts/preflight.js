// Every entry point (bin/homecloud.js, npm run synth, npm run bom) starts here, so that a broken
// environment gets one plain sentence with the fix and exit code 2, never a stack trace:
// a Node.js older than package.json's "engines", a package missing from node_modules (an
// install with --omit=dev of an older homecloud, an interrupted npm ci), or a damaged one.
// Plain old JavaScript and no dependencies: it must run where nothing else can.
'use strict';
var path = require('path');
var fs = require('fs');

var ROOT = path.join(__dirname, '..');
var REINSTALL = 'Run `npm ci --omit=dev` in ' + ROOT + ' (it reinstalls them), then try again.';

/** The lowest Node.js major that package.json's "engines" (">=N") allows. */
function minimumNodeMajor() {
  var engines = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).engines || {};
  var m = /^>=\s*(\d+)/.exec(engines.node || '');
  return m ? Number(m[1]) : 0;
}

/** Why this Node.js cannot run homecloud, or undefined. */
function nodeProblem(version, minimumMajor) {
  var major = Number(String(version).replace(/^v/, '').split('.')[0]);
  if (major >= minimumMajor) return undefined;
  return 'homecloud needs Node.js ' + minimumMajor + ' or newer; this PC runs Node.js ' + String(version).replace(/^v/, '')
    + '. Install the current LTS from nodejs.org, then run `npm ci --omit=dev` again.';
}

/** A plain sentence for an error that comes from missing or damaged packages, or undefined. */
function environmentProblem(e) {
  if (!e) return undefined;
  var message = String(e.message || e);
  // Where the error arose: a missing module's message names it (and who asked for it); a
  // syntax error's stack starts with the file it is in.
  var stackTop = String(e.stack || '').split('\n').slice(0, 2).join('\n');
  var inPackages = /node_modules/.test(message.split('\nRequire stack:')[0]) || (e.code !== 'MODULE_NOT_FOUND' && /node_modules/.test(stackTop));
  if (e.code === 'MODULE_NOT_FOUND') {
    var name = /Cannot find module '([^']+)'/.exec(message);
    var what = name ? name[1] : 'a module';
    // Our own files (./lib/…, ../client/…) missing is a damaged checkout, not a package.
    if (/^\.{1,2}\//.test(what) && !inPackages) {
      return 'homecloud cannot start: its own file ' + what + ' is missing. Unpack or clone the project again.';
    }
    var pkg = /node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(what);
    return 'homecloud cannot start: the package ' + (pkg ? pkg[1] : what) + ' is missing from node_modules. ' + REINSTALL;
  }
  if (inPackages && (e.code === 'ERR_INVALID_PACKAGE_CONFIG' || e.code === 'ERR_REQUIRE_ESM' || e instanceof SyntaxError)) {
    var at = /node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/\s'"]+)/.exec(message + ' ' + stackTop);
    return 'homecloud cannot start: the installed package ' + (at ? at[1] : '') + ' is damaged (' + message.split('\n')[0] + '). ' + REINSTALL;
  }
  return undefined;
}

/** Stops the process with the sentence and exit code 2 when the error is the environment's. */
function exitIfEnvironment(e) {
  var problem = environmentProblem(e);
  if (!problem) return;
  process.stderr.write(problem + '\n');
  process.exit(2);
}

/** Runs `main` (which requires the rest of homecloud) after checking Node.js itself. */
function guard(main) {
  var problem = nodeProblem(process.versions.node, minimumNodeMajor());
  if (problem) {
    process.stderr.write(problem + '\n');
    process.exit(2);
  }
  try {
    return main();
  } catch (e) {
    exitIfEnvironment(e);
    throw e;
  }
}

module.exports = { guard: guard, exitIfEnvironment: exitIfEnvironment, environmentProblem: environmentProblem, nodeProblem: nodeProblem };
