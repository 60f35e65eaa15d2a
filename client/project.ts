/**
 * This project folder on the PC: where dist/, the credentials, the image lock and the state
 * files are, synthesizing on demand, and the settings main.ts gives.
 */
import * as fs from 'fs';
import * as path from 'path';
import { UserFacingError } from '../lib/config/errors';
import { detectHostFacts } from '../lib/config/host-facts';
import { resolveSettings } from '../lib/config/resolve-settings';
import { ResolvedSettings, SettingsError } from '../lib/config/settings';
import { caFiles } from '../lib/https/ca-store';
import { MANIFEST_FILE } from '../lib/stack/synth';
import { LOCK_FILE, pinImages, readLock } from '../lib/updates/image-lock';
import { Manifests, isStale, readManifests, readNamespace } from './apply';
import { Options } from './command';
import { UpdateContext } from './image-change';
import { Io, confirm } from './io';
import { Registry } from './registry';

/** The project folder (package.json, main.ts, dist/). */
export const ROOT = path.join(__dirname, '..');
export function manifestPath(): string {
  return process.env.HOMECLOUD_OUTDIR ? path.join(process.env.HOMECLOUD_OUTDIR, MANIFEST_FILE) : path.join(ROOT, 'dist', MANIFEST_FILE);
}

export function namespaceOf(o: Options): string {
  if (o.namespace) return o.namespace;
  const file = manifestPath();
  return fs.existsSync(file) ? readNamespace(file) : 'homecloud';
}

/** Synthesizes first when dist/ is missing or older than the settings and constructs. */
export function freshManifests(io: Io) {
  const file = manifestPath();
  const ca = caFiles(credentialsFile());
  if (isStale(file, [...['main.ts', 'lib'].map((p) => path.join(ROOT, p)), lockFile(), ca.cert, ca.key])) {
    io.err('settings or constructs changed since the last synth: synthesizing\n');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const code = (require('../main.ts') as typeof import('../main')).main();
    if (code !== 0) throw new UserFacingError('synth failed (see the message above); nothing was deployed.');
  }
  return readManifests(file);
}

/** Synthesizes now, whatever the file times say (the image lock just changed). */
export function synthNow(io: Io): Manifests {
  io.err('synthesizing with the new images\n');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const code = (require('../main.ts') as typeof import('../main')).main();
  if (code !== 0) throw new UserFacingError('synth failed (see the message above); nothing was deployed.');
  return readManifests(manifestPath());
}

export function lockFile(): string {
  return process.env.HOMECLOUD_IMAGE_LOCK ?? path.join(ROOT, LOCK_FILE);
}

/** Files beside the credentials (owner-only, per install, never committed). */
export function stateFile(name: string): string {
  return path.join(path.dirname(credentialsFile()), name);
}

/**
 * Where each registry is asked: HOMECLOUD_REGISTRIES="docker.io=http://mirror:5000,…" for a
 * registry mirror (and the tests' own registry); otherwise the registries themselves.
 */
export function registryEndpoints(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (process.env.HOMECLOUD_REGISTRIES ?? '').split(',').filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0 || !/^https?:\/\//.test(pair.slice(eq + 1))) {
      throw new UserFacingError(`HOMECLOUD_REGISTRIES: "${pair}" is not host=URL, e.g. docker.io=http://192.168.1.5:5000`);
    }
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

export function updateContext(o: Options, io: Io): UpdateContext {
  return {
    namespace: namespaceOf(o),
    lockFile: lockFile(),
    checkFile: stateFile('image-check.json'),
    rollbackFile: stateFile('rollback.json'),
    registry: new Registry({ endpoints: registryEndpoints() }),
    appStore: process.env.HOMECLOUD_APPSTORE ?? 'https://apps.nextcloud.com',
    dryRun: o.dryRun,
    yes: o.yes,
    force: o.force,
    timeoutSeconds: o.timeoutSeconds,
    imageState: () => {
      const images = currentSettings().images;
      const lock = readLock(lockFile());
      return { images, outcomes: pinImages(images, lock).outcomes, lock };
    },
    synth: () => synthNow(io),
    confirm: (question, expected) => confirm(io, o, question, expected),
  };
}

/** main.ts's settings for this PC, as synth resolves them. */
export function currentSettings(): ResolvedSettings {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { settings } = require('../main.ts') as typeof import('../main');
  try {
    return resolveSettings(settings, detectHostFacts());
  } catch (e) {
    if (e instanceof SettingsError) throw new UserFacingError(e.message);
    throw e;
  }
}

/** The owner-only folder of the credentials and the home CA (as main.ts finds it). */
export function credentialsFile(): string {
  return process.env.HOMECLOUD_CREDENTIALS ?? path.join(ROOT, '.homecloud', 'credentials.json');
}
