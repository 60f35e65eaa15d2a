import { Duration } from 'cdk8s';
import * as path from 'path';
import { detectHostFacts } from './lib/config/host-facts';
import { LOCK_FILE } from './lib/updates/image-lock';
import { HomecloudSettings } from './lib/config/settings';
import { synth } from './lib/stack/synth';

/**
 * Your home cloud's settings. Every field is optional; lib/config/settings.ts documents each one
 * and its default. After editing, run `npm run synth` (or `npm run deploy`).
 */
export const settings: HomecloudSettings = {
  // timeZone: 'Europe/Berlin',
  // trustedDomains: ['localhost', 'homepc', '192.168.1.20'],
  // phoneRegion: 'DE',
  // backup: { time: '03:15', timeout: Duration.hours(6), retention: { daily: 7, weekly: 4, monthly: 6 } },
  // storage: { nextcloud: '200Gi', backups: '400Gi' },
};

// The settings that are a span of time (backup.timeout, backup.catchUpWindow) take a Duration:
// Duration.hours(6), Duration.minutes(90).
export { Duration };

/** Writes dist/app.k8s.yaml; the exit code is 0 when written, 1 when a setting needs fixing. */
export function main(): number {
  return synth(settings, detectHostFacts(), {
    outdir: process.env.HOMECLOUD_OUTDIR ?? path.join(__dirname, 'dist'),
    // Git-ignored and owner-only; back it up with your backups.
    credentials: process.env.HOMECLOUD_CREDENTIALS ?? path.join(__dirname, '.homecloud', 'credentials.json'),
    // The image digests `npm run update` pinned (commit it, like package-lock.json).
    lock: process.env.HOMECLOUD_IMAGE_LOCK ?? path.join(__dirname, LOCK_FILE),
  }, (s) => process.stderr.write(s));
}

if (require.main === module) process.exitCode = main();
