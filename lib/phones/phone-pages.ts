import { ANDROID_APPS, IPHONE_APPS, PHOTO_FOLDER, PhoneApp, SMS_FOLDER } from './apps';
import { escapeMarkup as html } from './markup';
import { qrSvg } from './qr-svg';

/**
 * The two welcome pages after the home CA: one for Android, one for iPhone. Each lists every
 * service, the app to install and where to get it, and the exact addresses and settings of this
 * home cloud, with QR codes for the addresses (read from the PC's screen by the phone's camera).
 * Pure: the same settings give the same pages. Nothing on them is secret: they are served on
 * plain HTTP to anyone on the home network, before a phone trusts the home CA.
 */

/** The pages and the iOS accounts profile, in the welcome folder beside index.html. */
export const PHONE_FILES = {
  android: 'android.html',
  iphone: 'iphone.html',
  accounts: 'homecloud-accounts.mobileconfig',
} as const;

export interface PhonePageOptions {
  /** The PC's name as the family knows it, shown in titles. */
  readonly label: string;
  /** The address the family uses, e.g. `https://familypc.local` (family-address.ts). */
  readonly server: string;
  /** Other addresses that reach the home cloud (the PC's LAN addresses), for a phone that cannot use the name. */
  readonly otherServers: readonly string[];
}

export function androidPage(o: PhonePageOptions): string {
  const a = ANDROID_APPS;
  const dav = `${o.server}/remote.php/dav`;
  return page(o, 'Android', `
<ol class="steps">
<li><h2>Trust the home cloud</h2>
<p>If you have not yet: <a href="./#android">install the home CA</a> (Android section). The apps below refuse the connection without it.</p></li>

<li><h2>Files and photos</h2>
${app(a.files)}
<p>Open it, tap <b>Log in</b>, and enter the server address:</p>
${address(o.server, 'server address')}
<p>Log in with your own Nextcloud user name and password. Then, for the camera: ☰ → <b>Settings</b> → <b>Auto upload</b>,
switch on <b>Camera</b> (or DCIM) and set its remote folder to <code>${PHOTO_FOLDER}</code>. Photos upload on Wi-Fi by default.</p></li>

<li><h2>Contacts, calendars and task lists</h2>
${app(a.dav)}
<p>Tap <b>+</b> → <b>Login with URL and user name</b>:</p>
${address(dav, 'base URL')}
<p>Enter your Nextcloud user name and password (or an app password from Nextcloud → your picture →
<b>Personal settings</b> → <b>Security</b>). Then select the address books and calendars to sync.</p></li>

<li><h2>Tasks</h2>
${app(a.tasks)}
<p>Install it after DAVx⁵: DAVx⁵ hands it your task lists, nothing to type.</p></li>

<li><h2>Notes</h2>
${app(a.notes)}
<p>Open it and choose the account of the Nextcloud app (no second login).</p></li>

<li><h2>Text messages (SMS)</h2>
${app(a.sms)}
<p>SMS live only on the phone until something copies them. In SMS Import / Export: <b>Settings</b> → choose a folder
on the phone (for example <code>SMS</code>) and switch on <b>Schedule export</b> (daily). Then in the Nextcloud app:
<b>Settings</b> → <b>Auto upload</b> → ⋮ → <b>Set up a custom folder</b>: the local folder is the export folder, the remote folder
<code>${SMS_FOLDER}</code> (the home cloud makes it in every account; the app makes it if it is not there yet). Your messages are then in your home cloud, and in its nightly backup.</p></li>
</ol>`);
}

export function iphonePage(o: PhonePageOptions): string {
  const a = IPHONE_APPS;
  const host = new URL(o.server).host;
  return page(o, 'iPhone and iPad', `
<ol class="steps">
<li><h2>Trust the home cloud</h2>
<p>If you have not yet: <a href="./#iphone">install the home CA and switch on full trust</a> (iPhone section).
Calendars and contacts refuse the connection without it.</p></li>

<li><h2>Files and photos</h2>
${app(a.files)}
<p>Open it, tap <b>Log in</b>, and enter the server address:</p>
${address(o.server, 'server address')}
<p>Then, for the camera: <b>More</b> → <b>Settings</b> → <b>Auto upload</b>, switch on photos (and videos) and choose the folder
<code>${PHOTO_FOLDER}</code>. iPhone photos stay HEIC, as taken; the home cloud makes their thumbnails.</p></li>

<li><h2>Calendars, reminders and contacts</h2>
<p>No app to install: the built-in Calendar, Reminders and Contacts apps sync with the home cloud.</p>
<p>In Safari, tap <a class="button" href="${PHONE_FILES.accounts}">Download the accounts profile</a>, then <b>Allow</b>.
Settings → <b>Profile Downloaded</b> → <b>Install</b>, and enter your Nextcloud user name and password when asked.</p>
<p>Or by hand: Settings → Apps → Calendar → Calendar Accounts → Add Account → Other → <b>Add CalDAV Account</b>
(for contacts: Settings → Apps → Contacts → Contacts Accounts → Other → <b>Add CardDAV Account</b>), with the server</p>
${address(host, 'server for CalDAV and CardDAV')}
<p>and your Nextcloud user name and password.</p></li>

<li><h2>Notes</h2>
${app(a.notes)}
<p>In its settings, enter the server address above and your user name and password.</p></li>

<li><h2>Text messages</h2>
<p>iPhones do not let any app read messages, so nothing on the phone can copy them home by itself. What works: back the
iPhone up on the Windows PC (the Apple Devices app), and export the messages from that backup into a folder the Nextcloud
desktop app syncs. The README (“Text messages from an iPhone”) has the steps.</p></li>
</ol>`);
}

/** A page around the steps: the same head and style as the CA page, the other addresses at the end. */
function page(o: PhonePageOptions, phone: string, steps: string): string {
  const others = o.otherServers.length === 0 ? '' : `
<h2>If the phone cannot open ${html(o.server)}</h2>
<p>Some phones do not find the PC by its name. Use one of its addresses instead, in every step above:</p>
<ul>${o.otherServers.map((s) => `<li><code>${html(s)}</code></li>`).join('')}</ul>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>homecloud on ${html(o.label)}: set up an ${html(phone)}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 40em; margin: 1em auto; padding: 0 1em; line-height: 1.5; }
a.button { display: inline-block; padding: .5em .9em; margin: .2em .3em .2em 0; border-radius: .4em; background: #0082c9; color: #fff; text-decoration: none; }
code { word-break: break-all; user-select: all; font-size: 1.05em; }
ol.steps > li { margin-bottom: 1.5em; }
h2 { font-size: 1.15em; margin: .2em 0; }
figure { margin: .4em 0; }
figcaption { font-size: .9em; color: #555; }
svg.qr { width: 9em; height: 9em; }
</style>
</head>
<body>
<h1>Set up an ${html(phone)} for your home cloud on ${html(o.label)}</h1>
<p>Reading this on the PC? Each address below has a QR code: point the phone's camera at it instead of typing.</p>
${steps}
${others}
<p><a href="./">Back to the first page</a></p>
</body>
</html>
`;
}

function app(a: PhoneApp): string {
  return `<p><b>${html(a.name)}</b> (${html(a.for)}): ${a.get.map((l) => `<a class="button" href="${html(l.url)}">${html(l.store)}</a>`).join(' ')}</p>`;
}

/** An address to copy, with its QR code. */
function address(text: string, what: string): string {
  return `<figure><code>${html(text)}</code>${qrSvg(text, `QR code: ${what} ${text}`)}<figcaption>${html(what)}</figcaption></figure>`;
}
