import * as path from 'path';
import { loadOrCreateHomeCa } from '../https/ca-store';
import { buildApp } from './chart';
import { UserFacingError } from '../config/errors';
import { pinImages, readLock } from '../updates/image-lock';
import { loadOrCreateCredentials, ownerOnlyWhileWriting } from '../config/secrets-store';
import { pcName, resolveSettings } from '../config/resolve-settings';
import { HomecloudSettings, HostFacts, SettingsError } from '../config/settings';

export interface SynthPaths {
  /** Folder the manifests are written to. */
  readonly outdir: string;
  /** The owner-only file holding the generated passwords. */
  readonly credentials: string;
  /** images.lock.json: the digests `npm run update` pinned. @default - no lock: images by tag */
  readonly lock?: string;
}

/** The manifest file synth writes inside `outdir`. */
export const MANIFEST_FILE = 'app.k8s.yaml';

/**
 * Resolves the settings, loads (or creates) the credentials and writes the manifests.
 * Returns the exit code: 0 written, 1 the settings or the credentials file need fixing
 * (the message on stderr says how; no stack trace for a user's mistake).
 */
export function synth(settings: HomecloudSettings, host: HostFacts, paths: SynthPaths, stderr: (s: string) => void): number {
  try {
    const unpinned = resolveSettings(settings, host);
    const pins = pinImages(unpinned.images, paths.lock ? readLock(paths.lock) : undefined);
    const resolved = { ...unpinned, images: pins.images };
    for (const [key, o] of Object.entries(pins.outcomes)) {
      if (o.kind === 'as-set' && (o.why === 'settings-moved' || o.why === 'other-image')) {
        stderr(`homecloud: images.${key} is set to ${o.image}, not what images.lock.json pinned: it runs by tag until \`npm run update\` pins it\n`);
      }
    }
    if (!settings.trustedDomains && pcName(host.hostname) !== host.hostname) {
      stderr(`homecloud: this PC's name "${host.hostname}" is also a public internet domain (.${host.hostname}), which the home CA must never `
        + `vouch for: phones reach the home cloud at ${[pcName(host.hostname), ...host.lanAddresses].join(' or ')} instead `
        + '(or rename the PC: Settings > System > About > Rename this PC)\n');
    }
    // The CA first: a trusted name it may not certify stops synth before anything is written.
    const ca = loadOrCreateHomeCa(paths.credentials, resolved.trustedDomains, host.hostname, new Date(), stderr);
    const credentials = loadOrCreateCredentials(paths.credentials);
    // The manifests hold the Secrets (passwords, the backup key, the CA's key) in the clear.
    ownerOnlyWhileWriting(paths.outdir, () => buildApp(resolved, credentials, ca, paths.outdir, host.hostname).app.synth());
    const host0 = resolved.trustedDomains.find((d) => d !== 'localhost' && d !== '127.0.0.1') ?? 'localhost';
    stderr(`homecloud: wrote ${path.join(paths.outdir, MANIFEST_FILE)} (namespace ${resolved.namespace}; once deployed, `
      + `set up each phone at http://${host0}${resolved.httpPort === 80 ? '' : `:${resolved.httpPort}`}/welcome/ `
      + `and open https://${host0}${resolved.httpsPort === 443 ? '' : `:${resolved.httpsPort}`}/)\n`);
    return 0;
  } catch (e) {
    if (e instanceof SettingsError || e instanceof UserFacingError) {
      stderr(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
