/**
 * What may leave the home: the destinations the home cloud may contact, each with why, and the
 * family's choices that add one. The egress point admits exactly these (squid-conf.ts), the
 * install hooks switch off what would contact anything else (scripts/privacy.sh), and `status`
 * names each destination it lists by the purpose given here (client/egress-ledger.ts).
 */
export interface PrivacySettings {
  /**
   * Refuse new passwords found in the haveibeenpwned list of breached passwords. Each new or
   * changed password sends the first 5 hex characters of its SHA-1 to api.pwnedpasswords.com
   * (k-anonymity: the rest never leaves). Off by default: it is a third party the family did
   * not choose, and Nextcloud's length and common-password checks stay on without it.
   * @default false
   */
  readonly breachedPasswordCheck?: boolean;
  /**
   * Notifications on the phones while the Nextcloud app is closed. Nextcloud can only reach a
   * phone through Apple's or Google's push service, via Nextcloud GmbH's push-notifications.nextcloud.com
   * (it sees a device id, a token hash, the encrypted text and when). Off by default: the apps
   * still show notifications when opened, calendars and contacts sync as before, and file sync
   * uses Client Push, which stays at home.
   * @default false
   */
  readonly phoneNotifications?: boolean;
  /**
   * Photos' "Places": photos grouped by the town they were taken in. Turning it on downloads one
   * list of towns from download.nextcloud.com; the look-up itself is done at home.
   * @default false
   */
  readonly photoPlaces?: boolean;
  /**
   * More destinations the home cloud may contact: host names, or ".example.org" for every name
   * under it (e.g. an app's own service after installing it).
   * @default []
   */
  readonly allowHosts?: string[];
}

/** A destination the egress point admits, and why. */
export interface Destination {
  /** A host name, or ".example.org" for the name and every name under it. */
  readonly host: string;
  /** What contacts it and why, in the family's words. */
  readonly purpose: string;
  /** The setting that admits it, when one does (absent: always admitted). */
  readonly setting?: string;
}

export interface ResolvedPrivacy {
  readonly breachedPasswordCheck: boolean;
  readonly phoneNotifications: boolean;
  readonly photoPlaces: boolean;
  /** Every destination the egress point admits, the app store's first. */
  readonly destinations: Destination[];
}

/**
 * The app store: the app list and each app's details (apps.nextcloud.com), and the archives,
 * which the store's entries link to GitHub releases (github.com, which redirects to its download
 * hosts). Without them the family's apps (contacts, calendar, tasks, notes, Client Push,
 * thumbnails) could never be installed or patched. Nextcloud's connectivity check is pointed at
 * apps.nextcloud.com too (privacy.sh), so it reaches nothing else.
 */
export const APP_STORE: Destination[] = [
  { host: 'apps.nextcloud.com', purpose: 'the app store: installing and updating apps, and Nextcloud\'s internet check' },
  { host: 'github.com', purpose: 'app downloads (the app store links to GitHub releases)' },
  { host: 'objects.githubusercontent.com', purpose: 'app downloads (GitHub\'s download host)' },
  { host: 'release-assets.githubusercontent.com', purpose: 'app downloads (GitHub\'s download host)' },
];

/** What each family choice admits. */
export const CHOICES: Record<'breachedPasswordCheck' | 'phoneNotifications' | 'photoPlaces', Destination> = {
  breachedPasswordCheck: { host: 'api.pwnedpasswords.com', purpose: 'the breached-password check (5 characters of each new password\'s hash)', setting: 'privacy.breachedPasswordCheck' },
  phoneNotifications: { host: 'push-notifications.nextcloud.com', purpose: 'notifications to phones, through Apple and Google', setting: 'privacy.phoneNotifications' },
  photoPlaces: { host: 'download.nextcloud.com', purpose: 'Photos\' list of towns ("Places"), downloaded once', setting: 'privacy.photoPlaces' },
};

/** A host name as allowHosts takes it: letters, digits, "-" and dots, optionally a leading dot. Pure. */
export function isAllowHost(host: string): boolean {
  const name = host.startsWith('.') ? host.slice(1) : host;
  return name.length <= 253 && /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(name);
}

/** The destinations these choices admit, in a stable order. Pure. */
export function destinationsOf(p: Omit<ResolvedPrivacy, 'destinations'>, allowHosts: string[]): Destination[] {
  const chosen = (Object.keys(CHOICES) as Array<keyof typeof CHOICES>).filter((k) => p[k]).map((k) => CHOICES[k]);
  const extra = allowHosts.map((host) => ({ host, purpose: 'allowed in the settings', setting: 'privacy.allowHosts' }));
  const all = [...APP_STORE, ...chosen, ...extra];
  return all.filter((d, i) => all.findIndex((o) => o.host === d.host) === i);
}

/** The destination a contacted host falls under (".example.org" covers every name under it), if any. Pure. */
export function destinationOf(host: string, destinations: Destination[]): Destination | undefined {
  const h = host.toLowerCase();
  return destinations.find((d) => (d.host.startsWith('.') ? h === d.host.slice(1) || h.endsWith(d.host) : h === d.host));
}

/**
 * Apps Nextcloud ships enabled that contact servers on their own and that a family does not need:
 * the weather status (nominatim.openstreetmap.org, api.met.no, api.opentopodata.org: the address
 * typed, or the family's coordinates), the announcements feed (pushfeed.nextcloud.com) and the
 * usage survey (its report to Nextcloud GmbH). privacy.sh disables them on every start.
 */
export const QUIET_APPS = ['weather_status', 'nextcloud_announcements', 'survey_client'];
