#!/usr/bin/env node
// `npm run bom`: writes dist/bom/bom.cdx.json (CycloneDX) and dist/bom/BOM.md. The images come
// from a fresh synth; the npm side from cyclonedx-npm (runtime dependencies only). A folder of
// their own: `kubectl apply -f dist/` reads every file at dist/'s top level as a manifest.
// Exit codes: 0 written and clean, 1 written but a component has no allowed licence, 2 could not run.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.join(__dirname, '..');

function main() {
  // Holds a synth with a throw-away credentials file: removed however the run ends.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-bom-'));
  try {
    return writeBom(tmp);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function writeBom(tmp) {
  require('./ts-register');
  const { parseAllDocuments } = require('yaml');
  const { synth, MANIFEST_FILE } = require('../lib/stack/synth.ts');
  const { detectHostFacts } = require('../lib/config/host-facts.ts');
  const { settings } = require('../main.ts');
  const bom = require('../tools/bom.ts');

  const outdir = path.join(process.env.HOMECLOUD_OUTDIR ?? path.join(root, 'dist'), 'bom');
  // The user's settings (they choose the images); a throw-away credentials file (images do not depend on it).
  // The lock's digests too, so the BOM names exactly what deploy runs.
  const lock = process.env.HOMECLOUD_IMAGE_LOCK ?? path.join(root, require('../lib/updates/image-lock.ts').LOCK_FILE);
  if (synth(settings, detectHostFacts(), { outdir: tmp, credentials: path.join(tmp, 'c.json'), lock }, (s) => process.stderr.write(s)) !== 0) return 2;
  const objects = parseAllDocuments(fs.readFileSync(path.join(tmp, MANIFEST_FILE), 'utf8')).map((d) => d.toJSON());
  const images = bom.imagesInManifests(objects);
  const catalogue = JSON.parse(fs.readFileSync(path.join(root, 'bom', 'images.json'), 'utf8'));
  const allowed = JSON.parse(fs.readFileSync(path.join(root, 'bom', 'allowed-licenses.json'), 'utf8')).allowed;

  const npmFile = path.join(tmp, 'npm.cdx.json');
  // The package exports no path to its CLI; locate it from its package folder.
  const cli = path.join(root, 'node_modules', '@cyclonedx', 'cyclonedx-npm', 'bin', 'cyclonedx-npm-cli.js');
  if (!fs.existsSync(cli)) {
    process.stderr.write('homecloud bom: the bill of materials needs the developer tools: run `npm ci` (not --omit=dev) first.\n');
    return 2;
  }
  const r = spawnSync(process.execPath, [cli, '--omit', 'dev', '--output-format', 'JSON', '--output-file', npmFile], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) {
    process.stderr.write(`homecloud bom: cyclonedx-npm failed (run \`npm ci\` first?):\n${r.stderr}\n`);
    return 2;
  }
  const npmBom = JSON.parse(fs.readFileSync(npmFile, 'utf8'));
  const npm = bom.npmComponents(npmBom);
  const problems = bom.bomProblems(images, catalogue, npm, allowed);
  fs.mkdirSync(outdir, { recursive: true });
  fs.writeFileSync(path.join(outdir, 'bom.cdx.json'), JSON.stringify(bom.withImages(npmBom, images, catalogue), null, 2) + '\n');
  fs.writeFileSync(path.join(outdir, 'BOM.md'), bom.renderBomMarkdown(images, catalogue, npm, problems));
  process.stdout.write(`${path.join(outdir, 'bom.cdx.json')}\n${path.join(outdir, 'BOM.md')}\n`);
  for (const p of problems) process.stderr.write(`homecloud bom: ${p.component}: ${p.why}\n`);
  process.stderr.write(`homecloud bom: ${images.length} images, ${npm.length} npm packages, ${problems.length} problem(s)\n`);
  return problems.length ? 1 : 0;
}

process.exitCode = require('./preflight').guard(main);
