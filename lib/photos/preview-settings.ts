import * as k8s from '../../imports/k8s';
import type { Duration } from 'cdk8s';
import type { ResolvedSettings } from '../config/settings';

/**
 * Photo previews: the thumbnails the phones and the browser show, and the larger picture the
 * viewer opens. Measured with `npm run bench -- previews` (README, "Photos and thumbnails").
 */
export interface PreviewSettings {
  /**
   * Longest side, in pixels, of the largest preview Nextcloud keeps of a photo (the one its viewer
   * shows; the original opens on request). Nextcloud's own default is 4096.
   * @default 2048
   */
  readonly maxSize?: number;
  /**
   * JPEG quality of every preview, 1–100. Nextcloud's own default is 80.
   * @default 70
   */
  readonly quality?: number;
  /**
   * Make thumbnails ahead of time every night after the backup, so albums open at once instead of
   * making them while the family waits (with the same PHP workers that serve their sync).
   * @default true
   */
  readonly makeAhead?: boolean;
  /**
   * Local time the nightly thumbnail job starts, "HH:MM"; it first waits for the backup to end.
   * @default - an hour after backup.time
   */
  readonly time?: string;
  /**
   * The nightly thumbnail job stops after this long and goes on the next night, so a large
   * library is caught up over several nights and never meets the next backup.
   * @default Duration.hours(2)
   */
  readonly timeLimit?: Duration;
}

/**
 * Nextcloud's preview providers for a family's files: its defaults (Nextcloud's
 * PreviewManager::getEnabledDefaultProvider) and HEIC, the format iPhones take photos in. HEIC
 * goes through Imagick, which the nextcloud image ships with its HEIC module. Not Movie: the
 * image has no ffmpeg, so videos get no thumbnails (README).
 */
export const PREVIEW_PROVIDERS = [
  'OC\\Preview\\MarkDown', 'OC\\Preview\\TXT', 'OC\\Preview\\OpenDocument',
  'OC\\Preview\\PNG', 'OC\\Preview\\JPEG', 'OC\\Preview\\GIF', 'OC\\Preview\\BMP', 'OC\\Preview\\XBitmap', 'OC\\Preview\\Krita', 'OC\\Preview\\WebP',
  'OC\\Preview\\HEIC',
];

/** The app that makes previews ahead of time (`occ preview:pre-generate`, `preview:generate-all`). */
export const PREVIEW_APP = 'previewgenerator';

/**
 * The environment that sets previews up in Nextcloud (sync-settings.sh, on every start): which
 * files get previews, their largest size and quality, and which sizes are made ahead of time.
 */
export function previewSettingsEnv(s: ResolvedSettings): k8s.EnvVar[] {
  return [
    { name: 'HOMECLOUD_PREVIEW_PROVIDERS', value: PREVIEW_PROVIDERS.join(' ') },
    { name: 'HOMECLOUD_PREVIEW_MAX', value: String(s.previews.maxSize) },
    { name: 'HOMECLOUD_PREVIEW_QUALITY', value: String(s.previews.quality) },
  ];
}
