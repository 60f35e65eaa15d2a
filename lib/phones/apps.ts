/**
 * The apps each phone needs, and where to get them: one list, so the two welcome pages and the
 * README name the same apps. Links are the stores' own pages for the app's package or id.
 */
export interface StoreLink {
  readonly store: string;
  readonly url: string;
}

export interface PhoneApp {
  readonly name: string;
  /** What the family uses it for, in a few words. */
  readonly for: string;
  readonly get: StoreLink[];
}

const fdroid = (id: string): StoreLink => ({ store: 'F-Droid', url: `https://f-droid.org/packages/${id}/` });
const play = (id: string): StoreLink => ({ store: 'Google Play', url: `https://play.google.com/store/apps/details?id=${id}` });
const appStore = (slug: string, id: string): StoreLink => ({ store: 'App Store', url: `https://apps.apple.com/app/${slug}/id${id}` });

export const ANDROID_APPS = {
  files: { name: 'Nextcloud', for: 'files, and photos uploaded from the camera', get: [fdroid('com.nextcloud.client'), play('com.nextcloud.client')] },
  dav: { name: 'DAVx⁵', for: 'contacts, calendars and task lists', get: [fdroid('at.bitfire.davdroid'), play('at.bitfire.davdroid')] },
  tasks: { name: 'jtx Board', for: 'tasks (Tasks.org works too)', get: [fdroid('at.techbee.jtx'), play('at.techbee.jtx')] },
  notes: { name: 'Nextcloud Notes', for: 'notes', get: [fdroid('it.niedermann.owncloud.notes'), play('it.niedermann.owncloud.notes')] },
  // Published on F-Droid only.
  sms: { name: 'SMS Import / Export', for: 'SMS, MMS and call logs, exported every night', get: [fdroid('com.github.tmo1.sms_ie')] },
} satisfies Record<string, PhoneApp>;

export const IPHONE_APPS = {
  files: { name: 'Nextcloud', for: 'files, and photos uploaded from the camera', get: [appStore('nextcloud', '1125420102')] },
  notes: { name: 'Nextcloud Notes', for: 'notes', get: [appStore('nextcloud-notes', '813973264')] },
} satisfies Record<string, PhoneApp>;

/** Where each phone's camera uploads, in the family member's own files (the same on both phones). */
export const PHOTO_FOLDER = '/Photos';
/** Where Android's SMS archives arrive; homecloud creates it in every account. */
export const SMS_FOLDER = '/SMS';
