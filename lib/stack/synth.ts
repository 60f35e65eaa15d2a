import * as fs from 'fs';
import * as path from 'path';
import { loadOrCreateHomeCa } from '../https/ca-store';
import { buildApp } from './chart';
import { UserFacingError } from '../config/errors';
import { pinImages, readLock } from '../updates/image-lock';
import { loadOrCreateCredentials, ownerOnlyWhileWriting } from '../config/secrets-store';
import { SyncRunner, makeOwnerOnly, runSync } from '../config/windows-acl';
import { pcName, resolveSettings } from '../config/resolve-settings';
import { HomecloudSettings, HostFacts, SettingsError } from '../config/settings';

export interface SynthPaths {
  /** Folder the manifests are written to. */
  readonly outdir: string;
  /** The owner-only file holding the generated passwords. */
  readonly credentials: string;
  /** images.lock.json: the digests `npm run update` pinned. @default - no lock: images by tag */
  readonly lock?: string;
  /**
   * How to reach Windows' icacls, to make the credentials' folder and outdir private to the user
   * (file modes mean nothing there). @default - the real programs on Windows; none elsewhere
   */
  readonly windowsAcl?: SyncRunner;
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
    if (!settings.trustedDomains) stderr(pcNameNote(host));
    const privateFolder = privateFolderOnWindows(paths.windowsAcl, stderr);
    privateFolder(path.dirname(paths.credentials));
    // The CA first: a trusted name it may not certify stops synth before anything is written.
    const ca = loadOrCreateHomeCa(paths.credentials, resolved.trustedDomains, host.hostname, new Date(), stderr);
    const credentials = loadOrCreateCredentials(paths.credentials);
    // The manifests hold the Secrets (passwords, the backup key, the CA's key) in the clear.
    privateFolder(paths.outdir);
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

/** What synth says when the PC's name is also a public internet domain (see pcName); else nothing. */
function pcNameNote(host: HostFacts): string {
  if (pcName(host.hostname) === host.hostname) return '';
  return `homecloud: this PC's name "${host.hostname}" is also a public internet domain (.${host.hostname}), which the home CA must never `
    + `vouch for: phones reach the home cloud at ${[pcName(host.hostname), ...host.lanAddresses].join(' or ')} instead `
    + '(or rename the PC: Settings > System > About > Rename this PC)\n';
}

/**
 * On Windows, makes a folder private to the user before a secret is written into it, on every
 * synth (so every deploy repairs it: a copy or a move of the project loses its access list).
 * Elsewhere file modes do that (ownerOnlyWhileWriting, writeOwnerOnly).
 */
function privateFolderOnWindows(runner: SyncRunner | undefined, stderr: (s: string) => void): (folder: string) => void {
  const acl = runner ?? (process.platform === 'win32' ? runSync : undefined);
  return (folder) => {
    if (!acl) return;
    fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
    const problem = makeOwnerOnly(folder, acl);
    if (problem) stderr(`${problem}\n`);
  };
}
