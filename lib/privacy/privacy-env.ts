import * as k8s from '../../imports/k8s';
import { ResolvedSettings } from '../config/settings';
import { hostOf } from '../https/family-address';
import { APP_STORE, QUIET_APPS } from './privacy-settings';

/**
 * The environment of the privacy hook (lib/nextcloud/scripts/privacy.sh): where Nextcloud sends
 * its outbound requests (`proxy`), what stays inside the pod (`proxyexclude`: its own addresses,
 * which resolve to the pod's loopback), the internet check's host, the family's choices and the
 * apps to keep disabled.
 */
export function privacyEnv(s: ResolvedSettings, proxy: string): k8s.EnvVar[] {
  const own = [...new Set(['localhost', '127.0.0.1', '::1', ...s.trustedDomains.map(hostOf).map((h) => h.replace(/^\[|\]$/g, ''))])];
  return [
    { name: 'HOMECLOUD_PROXY', value: proxy },
    { name: 'HOMECLOUD_PROXY_EXCLUDE', value: own.join(' ') },
    { name: 'HOMECLOUD_CONNECTIVITY_CHECK', value: APP_STORE[0].host },
    { name: 'HOMECLOUD_BREACH_CHECK', value: s.privacy.breachedPasswordCheck ? '1' : '0' },
    { name: 'HOMECLOUD_PHOTO_PLACES', value: s.privacy.photoPlaces ? '1' : '0' },
    { name: 'HOMECLOUD_QUIET_APPS', value: QUIET_APPS.join(' ') },
  ];
}
