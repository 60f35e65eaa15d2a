import { certDer, describeCa } from './home-ca';
import { familyUrl, hostOf } from './family-address';
import { accountsProfile } from '../phones/accounts-profile';
import { configurationProfile, escapeMarkup as xml, escapeMarkup as html, stableUuid as uuidFrom } from '../phones/markup';
import { PHONE_FILES, PhonePageOptions, androidPage, iphonePage } from '../phones/phone-pages';
import { qrSvg } from '../phones/qr-svg';

/**
 * The welcome page and what it offers for download: the one place a phone can reach over plain
 * HTTP, to get the home CA before it trusts anything. Pure: the same CA always gives the same
 * files (so synth's output only changes when the CA does).
 */

/** The files of the welcome folder (served at WELCOME_PATH, see nginx-conf.ts). */
export const WELCOME_FILES = {
  page: 'index.html',
  certificate: 'homecloud-ca.crt',
  profile: 'homecloud.mobileconfig',
  ...PHONE_FILES,
} as const;

export interface WelcomeOptions {
  /** The home CA's certificate, PEM. */
  readonly caPem: string;
  /** The PC's name as the family knows it, shown in titles. */
  readonly label: string;
  /** The HTTPS port (443 leaves it out of links). */
  readonly httpsPort: number;
  /** The plain-HTTP port the welcome pages are served on (80 leaves it out of links). */
  readonly httpPort: number;
  /** The names and addresses the home cloud answers to (settings' trustedDomains). */
  readonly trustedDomains: readonly string[];
}

/** index.html, the .crt and the iOS profile, by file name. */
export function welcomeFiles(o: WelcomeOptions): Record<string, string> {
  const phones = phoneOptions(o);
  return {
    [WELCOME_FILES.page]: welcomePage(o),
    [WELCOME_FILES.certificate]: o.caPem,
    [WELCOME_FILES.profile]: mobileConfig(o),
    [WELCOME_FILES.android]: androidPage(phones),
    [WELCOME_FILES.iphone]: iphonePage(phones),
    [WELCOME_FILES.accounts]: accountsProfile({ host: new URL(phones.server).hostname, httpsPort: o.httpsPort, label: o.label }),
  };
}

/** The family's address for the phone pages, and the LAN addresses to fall back on. */
function phoneOptions(o: WelcomeOptions): PhonePageOptions {
  const server = familyUrl([...o.trustedDomains], o.httpsPort);
  const port = o.httpsPort === 443 ? '' : `:${o.httpsPort}`;
  const others = [...new Set(o.trustedDomains.map(hostOf))]
    .filter((h) => h !== 'localhost' && !h.startsWith('127.') && h !== '[::1]')
    .map((h) => `https://${h}${port}`)
    .filter((u) => u !== server);
  return { label: o.label, server, otherServers: others };
}

/** Where a phone opens a welcome file over plain HTTP, at the family's address (for QR codes). */
function welcomeUrl(o: WelcomeOptions, file: string): string {
  const host = new URL(familyUrl([...o.trustedDomains], o.httpsPort)).hostname;
  return `http://${host}${o.httpPort === 80 ? '' : `:${o.httpPort}`}/welcome/${file}`;
}

/**
 * An iOS/iPadOS/macOS configuration profile holding the CA as a `com.apple.security.root`
 * payload (Apple's "Configuration Profile Reference": Certificate payloads). UUIDs come from
 * the CA's fingerprint, so the same CA gives the same profile and installing it again replaces
 * it instead of adding a second.
 */
export function mobileConfig(o: Pick<WelcomeOptions, 'caPem' | 'label'>): string {
  const ca = describeCa(o.caPem);
  const id = ca.fingerprint.replace(/:/g, '').toLowerCase().slice(0, 16);
  const der = certDer(o.caPem).toString('base64').replace(/(.{52})/g, '$1\n\t\t\t').trim();
  return configurationProfile({
    payloads: `		<dict>
			<key>PayloadCertificateFileName</key>
			<string>${WELCOME_FILES.certificate}</string>
			<key>PayloadContent</key>
			<data>
			${der}
			</data>
			<key>PayloadDescription</key>
			<string>Lets this device check that it talks to your home cloud on ${xml(o.label)}.</string>
			<key>PayloadDisplayName</key>
			<string>${xml(ca.subject)}</string>
			<key>PayloadIdentifier</key>
			<string>io.homecloud.ca.${id}</string>
			<key>PayloadType</key>
			<string>com.apple.security.root</string>
			<key>PayloadUUID</key>
			<string>${uuidFrom(`${ca.fingerprint}/certificate`)}</string>
			<key>PayloadVersion</key>
			<integer>1</integer>
		</dict>
`,
    description: 'Your home cloud\'s own certificate authority. It can vouch only for your home\'s names and private addresses.',
    displayName: `homecloud on ${o.label}`,
    identifier: `io.homecloud.profile.${id}`,
    uuidSeed: `${ca.fingerprint}/profile`,
  });
}

/** The page: what this is, the fingerprint to compare, and the steps per platform. */
export function welcomePage(o: WelcomeOptions): string {
  const ca = describeCa(o.caPem);
  const port = o.httpsPort === 443 ? '' : `:${o.httpsPort}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>homecloud on ${html(o.label)}: set up this device</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 40em; margin: 1em auto; padding: 0 1em; line-height: 1.5; }
a.button { display: inline-block; padding: .6em 1em; margin: .3em 0; border-radius: .4em; background: #0082c9; color: #fff; text-decoration: none; }
code { word-break: break-all; }
details { margin: .6em 0; }
summary { font-weight: bold; cursor: pointer; }
svg.qr { width: 9em; height: 9em; margin-right: 1em; }
</style>
</head>
<body>
<h1>Your home cloud on ${html(o.label)}</h1>
<p>Your home cloud uses its own certificate authority, so that passwords and files are encrypted
on the Wi-Fi without anything leaving your home. Each phone, tablet and computer needs to trust it
once. It can vouch only for your home's own names and private addresses, never for other sites.</p>
<p>Its fingerprint (SHA-256), to compare with <code>npm run status</code> on the PC:<br><code>${ca.fingerprint}</code></p>

<details open id="iphone"><summary>iPhone and iPad</summary>
<ol>
<li>Open this page in <b>Safari</b> and tap <a class="button" href="${WELCOME_FILES.profile}">Download the profile</a>, then <b>Allow</b>.</li>
<li>Settings → <b>Profile Downloaded</b> (or General → VPN &amp; Device Management) → <b>Install</b>.</li>
<li>Settings → General → About → <b>Certificate Trust Settings</b>: switch on <b>full trust</b> for “${html(ca.subject)}”.</li>
</ol></details>

<details id="android"><summary>Android</summary>
<ol>
<li>Tap <a class="button" href="${WELCOME_FILES.certificate}">Download the certificate</a>.</li>
<li>Settings → Security → More security settings → Encryption &amp; credentials → <b>Install a certificate</b> → <b>CA certificate</b>, and pick the downloaded file (the menu names differ a little between phones).</li>
<li>The Nextcloud app and DAVx⁵ accept it; Chrome does too.</li>
</ol></details>

<details><summary>Windows</summary>
<ol>
<li>On the PC that runs homecloud: <code>npm run trust</code>.</li>
<li>On another Windows PC: <a class="button" href="${WELCOME_FILES.certificate}">Download the certificate</a>, then in a terminal in the download folder:
<code>certutil -user -addstore Root homecloud-ca.crt</code> and confirm with <b>Yes</b>.</li>
</ol></details>

<details><summary>Mac</summary>
<ol>
<li><a class="button" href="${WELCOME_FILES.profile}">Download the profile</a>, then System Settings → Privacy &amp; Security → Profiles → install it.</li>
</ol></details>

<h2>Then set up the apps</h2>
<p>One page per kind of phone: which app to install for files and photos, contacts, calendars, tasks, notes and text
messages, and exactly what to enter. Reading this on the PC? Scan the code with the phone's camera.</p>
<p><a class="button" href="${WELCOME_FILES.android}">Android</a> <a class="button" href="${WELCOME_FILES.iphone}">iPhone and iPad</a></p>
<p>${qrSvg(welcomeUrl(o, WELCOME_FILES.android), `QR code: the Android page, ${welcomeUrl(o, WELCOME_FILES.android)}`)}
${qrSvg(welcomeUrl(o, WELCOME_FILES.iphone), `QR code: the iPhone page, ${welcomeUrl(o, WELCOME_FILES.iphone)}`)}</p>

<h2>Or in a browser</h2>
<p>Open <a id="go" href="/">your home cloud over HTTPS</a>. Apps set up with an <code>http://</code>
address before: log in again in the app (or edit the account's server address) with <code>https://</code>.</p>
<script>
document.getElementById('go').href = 'https://' + location.hostname + '${port}/';
</script>
</body>
</html>
`;
}
