import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ImageLock, lockProblem, parseImageRef, pinImage, pinImages, readLock, withMajor, writeLock } from '../../lib/updates/image-lock';
import { DEFAULT_IMAGES } from '../../lib/config/settings';
import { synth } from '../../lib/stack/synth';
import { imagesInManifests } from '../../tools/bom';
import { HOST } from '../support/stack';

const D = (c: string) => `sha256:${c.repeat(64)}`;
const at = '2026-11-27T00:00:00.000Z';

describe('image references', () => {
  it('completes Docker Hub names as registries read them', () => {
    expect(parseImageRef('nextcloud:34-fpm-alpine')).toEqual({ registry: 'docker.io', repository: 'library/nextcloud', tag: '34-fpm-alpine', digest: undefined });
    expect(parseImageRef('valkey/valkey:8-alpine@' + D('a'))).toEqual({ registry: 'docker.io', repository: 'valkey/valkey', tag: '8-alpine', digest: D('a') });
    expect(parseImageRef('ghcr.io/acme/web:1.0')).toMatchObject({ registry: 'ghcr.io', repository: 'acme/web', tag: '1.0' });
    expect(parseImageRef('localhost:5000/web:2')).toMatchObject({ registry: 'localhost:5000', repository: 'web', tag: '2' });
  });

  it('moves a tag to another major and keeps its variant', () => {
    expect(withMajor('nextcloud:34-fpm-alpine', 35)).toBe('nextcloud:35-fpm-alpine');
    expect(withMajor('nextcloud:34-fpm-alpine@' + D('b'), 35)).toBe('nextcloud:35-fpm-alpine');
    expect(withMajor('postgres:18-alpine', 19)).toBe('postgres:19-alpine');
  });
});

describe('pinning images from the lock', () => {
  const locked = (tag: string, c = 'a') => ({ tag, digest: D(c), pinnedAt: at });

  it('pins the tag the settings name to the locked digest', () => {
    expect(pinImage('nextcloud:34-fpm-alpine', locked('nextcloud:34-fpm-alpine'))).toMatchObject({ kind: 'pinned', image: `nextcloud:34-fpm-alpine@${D('a')}` });
  });

  it('follows the lock to the next major that `upgrade` moved to', () => {
    expect(pinImage('nextcloud:34-fpm-alpine', locked('nextcloud:35-fpm-alpine')).image).toBe(`nextcloud:35-fpm-alpine@${D('a')}`);
  });

  it('lets a newer major, another minor, another variant or image in main.ts win over the lock', () => {
    expect(pinImage('nextcloud:35-fpm-alpine', locked('nextcloud:34-fpm-alpine'))).toMatchObject({ kind: 'as-set', why: 'settings-moved' });
    expect(pinImage('nginx:1.30-alpine', locked('nginx:1.28-alpine'))).toMatchObject({ kind: 'as-set', why: 'settings-moved' });
    expect(pinImage('nextcloud:34-apache', locked('nextcloud:34-fpm-alpine'))).toMatchObject({ kind: 'as-set', why: 'other-image' });
    expect(pinImage('ghcr.io/acme/nextcloud:34-fpm-alpine', locked('nextcloud:34-fpm-alpine'))).toMatchObject({ kind: 'as-set', why: 'other-image' });
  });

  it('never changes a digest written in main.ts, and leaves unlocked images by tag', () => {
    const own = `nginx:1.28-alpine@${D('c')}`;
    expect(pinImage(own, locked('nginx:1.28-alpine'))).toEqual({ kind: 'as-set', image: own, why: 'digest-in-settings' });
    expect(pinImages(DEFAULT_IMAGES, undefined).images).toEqual(DEFAULT_IMAGES);
  });
});

describe('the lock file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-lock-'));
  const lock: ImageLock = { lockfileVersion: 1, images: { postgres: { tag: 'postgres:18-alpine', digest: D('e'), pinnedAt: at }, cache: { tag: 'valkey/valkey:8-alpine', digest: D('f'), version: '8.1.4', pinnedAt: at } } };

  it('round-trips, keys sorted so diffs stay small', () => {
    const file = path.join(dir, 'images.lock.json');
    writeLock(file, lock);
    expect(readLock(file)).toEqual(lock);
    expect(Object.keys(JSON.parse(fs.readFileSync(file, 'utf8')).images)).toEqual(['cache', 'postgres']);
    expect(fs.readdirSync(dir)).toEqual(['images.lock.json']);
  });

  it('refuses a damaged lock with what to do', () => {
    const file = path.join(dir, 'broken.json');
    fs.writeFileSync(file, '{"lockfileVersion":1,"images":{"nginx":{"tag":"nginx:1.28-alpine","digest":"latest"}}}');
    expect(() => readLock(file)).toThrow(/entry "nginx" needs a "tag" and a "digest".*npm run update/s);
    fs.writeFileSync(file, '{"lockfileVersion":1,');
    expect(() => readLock(file)).toThrow(/not valid JSON.*git checkout -- broken.json/s);
    expect(lockProblem({ images: {} })).toMatch(/lockfileVersion 1/);
  });

  it('makes synth name every locked image by digest (and so the BOM records the digests)', () => {
    const file = path.join(dir, 'synth.lock.json');
    writeLock(file, lock);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-lock-synth-'));
    const said: string[] = [];
    expect(synth({}, HOST, { outdir: out, credentials: path.join(out, 'c.json'), lock: file }, (s) => said.push(s))).toBe(0);
    const { parseAllDocuments } = require('yaml') as typeof import('yaml');
    const images = imagesInManifests(parseAllDocuments(fs.readFileSync(path.join(out, 'app.k8s.yaml'), 'utf8')).map((d) => d.toJSON()));
    expect(images.find((i) => i.repository === 'postgres')).toMatchObject({ tag: '18-alpine', digest: D('e') });
    expect(images.find((i) => i.repository === 'valkey/valkey')).toMatchObject({ digest: D('f') });
    expect(images.find((i) => i.repository === 'nextcloud')?.digest).toBeUndefined();
  });
});
