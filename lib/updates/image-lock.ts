import * as fs from 'fs';
import * as path from 'path';
import { UserFacingError } from '../config/errors';
import { imageMajor } from '../config/checks';
import { ImageSettings } from '../config/settings';

/**
 * images.lock.json: the exact image each tag pointed to when `npm run update` (or `upgrade`)
 * last pinned it, as package-lock.json does for npm. With it, `synth`, `deploy` and the BOM
 * name every image by digest: the same bytes on every deploy, and a security fix arrives as a
 * new digest (which Kubernetes pulls) instead of waiting behind a tag Docker Desktop already has.
 */
export const LOCK_FILE = 'images.lock.json';

export type ImageKey = keyof ImageSettings;

export interface LockedImage {
  /** The tag it was resolved from, e.g. "nextcloud:34-fpm-alpine" (upgrade moves the major). */
  readonly tag: string;
  /** Of the multi-arch index when the tag names one, so each PC pulls its own architecture. */
  readonly digest: string;
  /** What the image says it is (its version label or environment), when it says. */
  readonly version?: string;
  /** ISO time it was pinned. */
  readonly pinnedAt: string;
}

export interface ImageLock {
  readonly lockfileVersion: 1;
  readonly images: Partial<Record<ImageKey, LockedImage>>;
}

/** A reference split the way registries read it (docker.io names completed). */
export interface ImageRef {
  /** Host of the registry, e.g. "docker.io" or "ghcr.io". */
  readonly registry: string;
  /** Path in the registry, e.g. "library/nextcloud". */
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

/** Parses "nextcloud:34-fpm-alpine", "valkey/valkey:8@sha256:…", "ghcr.io/o/r:1". Pure. */
export function parseImageRef(ref: string): ImageRef {
  const at = ref.indexOf('@');
  const digest = at >= 0 ? ref.slice(at + 1) : undefined;
  const name = at >= 0 ? ref.slice(0, at) : ref;
  const slash = name.lastIndexOf('/');
  const colon = name.indexOf(':', slash + 1);
  const tag = colon >= 0 ? name.slice(colon + 1) : undefined;
  const path0 = colon >= 0 ? name.slice(0, colon) : name;
  const first = path0.split('/')[0];
  // As Docker decides: a first part with a dot or port, or "localhost", is a registry host.
  const hasHost = path0.includes('/') && (/[.:]/.test(first) || first === 'localhost');
  const registry = hasHost ? first : 'docker.io';
  let repository = hasHost ? path0.slice(first.length + 1) : path0;
  if (registry === 'docker.io' && !repository.includes('/')) repository = `library/${repository}`;
  return { registry, repository, tag, digest };
}

/** The reference without its digest: what a person reads and what the registry is asked for. */
export function tagOf(ref: string): string {
  const at = ref.indexOf('@');
  return at >= 0 ? ref.slice(0, at) : ref;
}

/** "34-fpm-alpine" → "-fpm-alpine", "1.28-alpine" → "-alpine": the variant a version change must keep. */
function flavourOf(ref: string): string {
  const r = parseImageRef(ref);
  return (r.tag ?? '').replace(/^v?[0-9]+(\.[0-9]+)*/, '');
}

/** The same image with another major: "nextcloud:34-fpm-alpine", 35 → "nextcloud:35-fpm-alpine". */
export function withMajor(ref: string, major: number): string {
  const t = tagOf(ref);
  const colon = t.indexOf(':', t.lastIndexOf('/') + 1);
  return `${t.slice(0, colon + 1)}${t.slice(colon + 1).replace(/^(v?)[0-9]+/, `$1${major}`)}`;
}

export type PinOutcome =
  | { readonly kind: 'pinned'; readonly image: string; readonly locked: LockedImage }
  | { readonly kind: 'as-set'; readonly image: string; readonly why: 'digest-in-settings' | 'not-locked' | 'settings-moved' | 'other-image' };

/**
 * Which image runs for one setting, given the lock. The lock's entry applies when it is the same
 * repository and variant at the same or a newer major (`upgrade` moved it on); a setting that
 * already names a digest, a newer major set by hand, or another image leaves the lock out. Pure.
 */
export function pinImage(setting: string, locked: LockedImage | undefined): PinOutcome {
  if (setting.includes('@')) return { kind: 'as-set', image: setting, why: 'digest-in-settings' };
  if (!locked) return { kind: 'as-set', image: setting, why: 'not-locked' };
  const a = parseImageRef(setting);
  const b = parseImageRef(locked.tag);
  if (a.registry !== b.registry || a.repository !== b.repository || flavourOf(setting) !== flavourOf(locked.tag)) {
    return { kind: 'as-set', image: setting, why: 'other-image' };
  }
  const set = imageMajor(setting);
  const lockedMajor = imageMajor(locked.tag);
  if (set === undefined || lockedMajor === undefined) {
    if (tagOf(setting) !== locked.tag) return { kind: 'as-set', image: setting, why: 'other-image' };
  } else if (lockedMajor < set) {
    return { kind: 'as-set', image: setting, why: 'settings-moved' };
  } else if (lockedMajor === set && tagOf(setting) !== locked.tag) {
    // Same major, another minor ("nginx:1.28" vs "nginx:1.30"): the settings chose it.
    return { kind: 'as-set', image: setting, why: 'settings-moved' };
  }
  return { kind: 'pinned', image: `${locked.tag}@${locked.digest}`, locked };
}

/** Applies the lock to every image setting. Pure. */
export function pinImages(images: Required<ImageSettings>, lock: ImageLock | undefined): { images: Required<ImageSettings>; outcomes: Record<ImageKey, PinOutcome> } {
  const out = {} as Record<ImageKey, string>;
  const outcomes = {} as Record<ImageKey, PinOutcome>;
  for (const key of Object.keys(images) as ImageKey[]) {
    const o = pinImage(images[key], lock?.images[key]);
    out[key] = o.image;
    outcomes[key] = o;
  }
  return { images: out, outcomes };
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** Checks a parsed lock file; returns what is wrong, or undefined. Pure. */
export function lockProblem(value: unknown): string | undefined {
  const v = value as ImageLock;
  if (!v || typeof v !== 'object' || v.lockfileVersion !== 1 || typeof v.images !== 'object' || v.images === null) {
    return 'it is not a homecloud image lock (lockfileVersion 1 with "images")';
  }
  for (const [key, e] of Object.entries(v.images)) {
    if (!e || typeof e.tag !== 'string' || typeof e.digest !== 'string' || !DIGEST.test(e.digest)) {
      return `its entry "${key}" needs a "tag" and a "digest" of the form sha256:<64 hex digits>`;
    }
  }
  return undefined;
}

/** Reads the lock; undefined when there is none. A damaged lock stops with what to do. */
export function readLock(file: string): ImageLock | undefined {
  if (!fs.existsSync(file)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserFacingError(`${file} is not valid JSON (${(e as Error).message}). Restore it from git (git checkout -- ${path.basename(file)}), `
      + 'or delete it and run `npm run update` to pin the images again.');
  }
  const why = lockProblem(parsed);
  if (why) throw new UserFacingError(`${file}: ${why}. Restore it from git, or delete it and run \`npm run update\`.`);
  return parsed as ImageLock;
}

/** Writes the lock whole or not at all (a crash mid-write leaves the old one). */
export function writeLock(file: string, lock: ImageLock): void {
  const sorted: Record<string, LockedImage> = {};
  for (const k of Object.keys(lock.images).sort()) sorted[k] = lock.images[k as ImageKey]!;
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify({ lockfileVersion: 1, images: sorted }, null, 2)}\n`);
  fs.renameSync(tmp, file);
}
