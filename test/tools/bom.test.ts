import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ImageInfo, bomProblems, imagesInManifests, licenseAllowed, parseImage, withImages } from '../../tools/bom';
import { synthStack } from '../support/stack';

const ROOT = path.join(__dirname, '..', '..');
const catalogue: Record<string, ImageInfo> = JSON.parse(fs.readFileSync(path.join(ROOT, 'bom', 'images.json'), 'utf8'));
const allowed: string[] = JSON.parse(fs.readFileSync(path.join(ROOT, 'bom', 'allowed-licenses.json'), 'utf8')).allowed;

describe('bill of materials: images', () => {
  const images = imagesInManifests(synthStack().objects);

  it('finds every image the manifests use, init containers and on-demand jobs included', () => {
    expect(images.map((i) => i.reference)).toEqual(['nextcloud:34-fpm-alpine', 'nginx:1.28-alpine', 'postgres:18-alpine', 'restic/restic:0.18.1', 'ubuntu/squid:6.6-24.04_beta', 'valkey/valkey:8-alpine']);
    expect(images.find((i) => i.repository === 'postgres')!.usedBy).toEqual(expect.arrayContaining(['CronJob/restore database', 'CronJob/backup database']));
    // The egress point's init step (it hands the ledger volume to Squid's user) counts too.
    expect(images.find((i) => i.repository === 'ubuntu/squid')!.usedBy).toEqual(expect.arrayContaining(['Deployment/egress ledger-folder', 'Deployment/egress egress']));
  });

  it('knows a licence, owner and source for each, and every licence is allowed', () => {
    expect(bomProblems(images, catalogue, [], allowed)).toEqual([]);
  });

  it('fails for an image the catalogue does not know', () => {
    const other = imagesInManifests(synthStack({ images: { nginx: 'ghcr.io/acme/web:1.0' } }).objects);
    expect(bomProblems(other, catalogue, [], allowed)).toEqual([
      { component: 'ghcr.io/acme/web:1.0', license: undefined, why: expect.stringMatching(/not in bom\/images\.json/) },
    ]);
  });

  it('fails for a licence outside the allowed list (e.g. Redis >= 7.4\'s)', () => {
    const redis = { ...catalogue['valkey/valkey'], license: 'RSALv2 OR SSPL-1.0' };
    const problems = bomProblems(images, { ...catalogue, 'valkey/valkey': redis }, [], allowed);
    expect(problems).toEqual([{ component: 'valkey/valkey:8-alpine', license: 'RSALv2 OR SSPL-1.0', why: expect.stringMatching(/not in bom\/allowed-licenses\.json/) }]);
  });

  it('fails for an npm package without a known licence', () => {
    expect(bomProblems([], catalogue, [{ name: 'left-pad', version: '1.0.0', licenses: [] }], allowed)[0].why).toBe('no licence known');
  });

  it('reads "A OR B" licence expressions', () => {
    expect(licenseAllowed('(MIT OR CC0-1.0)', allowed)).toBe(true);
    expect(licenseAllowed('SSPL-1.0', allowed)).toBe(false);
  });

  it('records the digest when the settings pin one', () => {
    const digest = `sha256:${'c'.repeat(64)}`;
    const pinned = imagesInManifests(synthStack({ images: { nginx: `nginx:1.28-alpine@${digest}` } }).objects);
    const doc = withImages({ bomFormat: 'CycloneDX', components: [] }, pinned, catalogue);
    const nginx = doc.components.find((c: { name: string }) => c.name === 'nginx');
    expect(nginx.hashes).toEqual([{ alg: 'SHA-256', content: 'c'.repeat(64) }]);
    expect(nginx.purl).toBe(`pkg:docker/nginx@1.28-alpine?digest=sha256%3A${'c'.repeat(64)}`);
  });

  it('normalises Docker Hub references', () => {
    expect(parseImage('docker.io/library/postgres:18-alpine')).toEqual({ repository: 'postgres', tag: '18-alpine', digest: undefined });
  });
});

describe('npm run bom', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-bom-'));
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-bom-tmp-'));
  // No lock (a checkout where `npm run update` never ran): images by tag.
  const run = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'bom.js')], { cwd: ROOT, encoding: 'utf8',
    env: { ...process.env, HOMECLOUD_OUTDIR: out, HOMECLOUD_IMAGE_LOCK: path.join(out, 'no-lock.json'), TMPDIR: scratch } });

  it('leaves nothing in the temporary folder (its synth wrote a throw-away credentials file there)', () => {
    expect(run.status).toBe(0);
    expect(fs.readdirSync(scratch)).toEqual([]);
  });

  it('writes into dist/bom/, never at dist/\'s top level where kubectl reads manifests', () => {
    expect(fs.readdirSync(out)).toEqual(['bom']);
  });

  it('writes CycloneDX JSON and BOM.md, and finds no licence problem', () => {
    expect(run.stderr).toMatch(/6 images, \d+ npm packages, 0 problem\(s\)/);
    expect(run.status).toBe(0);
    const doc = JSON.parse(fs.readFileSync(path.join(out, 'bom', 'bom.cdx.json'), 'utf8'));
    expect(doc.bomFormat).toBe('CycloneDX');
    expect(doc.components.filter((c: { type: string }) => c.type === 'container')).toHaveLength(6);
    expect(fs.readFileSync(path.join(out, 'bom', 'BOM.md'), 'utf8')).toMatch(/\| `postgres:18-alpine` \| PostgreSQL \|/);
  });

  it('records the digests images.lock.json pins, as deploy runs them', () => {
    const pinned = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-bom-lock-'));
    const digest = `sha256:${'ab'.repeat(32)}`;
    fs.writeFileSync(path.join(pinned, 'images.lock.json'), JSON.stringify({ lockfileVersion: 1, images: { postgres: { tag: 'postgres:18-alpine', digest, pinnedAt: '2026-11-27T00:00:00Z' } } }));
    const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'bom.js')], { cwd: ROOT, encoding: 'utf8',
      env: { ...process.env, HOMECLOUD_OUTDIR: pinned, HOMECLOUD_IMAGE_LOCK: path.join(pinned, 'images.lock.json') } });
    expect(r.status).toBe(0);
    const containers = JSON.parse(fs.readFileSync(path.join(pinned, 'bom', 'bom.cdx.json'), 'utf8')).components.filter((c: { type: string }) => c.type === 'container');
    expect(containers.find((c: { name: string }) => c.name === 'postgres')).toMatchObject({ version: '18-alpine', hashes: [{ alg: 'SHA-256', content: 'ab'.repeat(32) }] });
    expect(containers.find((c: { name: string }) => c.name === 'nextcloud').hashes).toBeUndefined();
  });

  it('lists the runtime npm packages, not the development ones', () => {
    const doc = JSON.parse(fs.readFileSync(path.join(out, 'bom', 'bom.cdx.json'), 'utf8'));
    const names = doc.components.map((c: { group?: string; name: string }) => (c.group ? `${c.group}/${c.name}` : c.name));
    expect(names).toEqual(expect.arrayContaining(['cdk8s', 'cdk8s-plus-27', 'constructs', '@kubernetes/client-node']));
    expect(names).not.toContain('jest');
  });
});
