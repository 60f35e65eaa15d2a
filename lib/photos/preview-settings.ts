import * as k8s from '../../imports/k8s';
import { ResolvedSettings } from '../config/settings';

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
