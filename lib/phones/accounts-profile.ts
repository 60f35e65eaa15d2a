import { configurationProfile, escapeMarkup as xml, stableUuid } from './markup';

export interface AccountsProfileOptions {
  /** The host phones use (no scheme, no port), e.g. `familypc.local`. */
  readonly host: string;
  readonly httpsPort: number;
  /** The PC's name as the family knows it, shown in the account names. */
  readonly label: string;
}

/**
 * An iOS configuration profile with a CalDAV and a CardDAV account for the home cloud (Apple's
 * Device Management "CalDAV" and "CardDAV" payloads): one tap instead of typing a server address
 * twice in Settings. It holds no user name or password: iOS asks for both while installing, so the
 * same file serves every family member and nothing secret is on the welcome page.
 * The principal URL is Nextcloud's DAV root: with it iOS finds the user's calendars and address
 * books after logging in, without relying on the .well-known redirects.
 */
export function accountsProfile(o: AccountsProfileOptions): string {
  const base = `https://${o.host}${o.httpsPort === 443 ? '' : `:${o.httpsPort}`}/remote.php/dav/`;
  const seed = `${o.host}:${o.httpsPort}`;
  const account = (kind: 'CalDAV' | 'CardDAV', what: string) => `		<dict>
			<key>${kind}AccountDescription</key>
			<string>${xml(`${what} on ${o.label}`)}</string>
			<key>${kind}HostName</key>
			<string>${xml(o.host)}</string>
			<key>${kind}Port</key>
			<integer>${o.httpsPort}</integer>
			<key>${kind}PrincipalURL</key>
			<string>${xml(base)}</string>
			<key>${kind}UseSSL</key>
			<true/>
			<key>PayloadDisplayName</key>
			<string>${xml(what)}</string>
			<key>PayloadIdentifier</key>
			<string>io.homecloud.accounts.${kind.toLowerCase()}</string>
			<key>PayloadType</key>
			<string>com.apple.${kind.toLowerCase()}.account</string>
			<key>PayloadUUID</key>
			<string>${stableUuid(`${seed}/${kind}`)}</string>
			<key>PayloadVersion</key>
			<integer>1</integer>
		</dict>
`;
  return configurationProfile({
    payloads: account('CalDAV', 'Calendars and reminders') + account('CardDAV', 'Contacts'),
    description: 'Your family\'s calendars, reminders and contacts from your home cloud. iOS asks for your user name and password while installing.',
    displayName: `homecloud accounts on ${o.label}`,
    identifier: 'io.homecloud.accounts',
    uuidSeed: `${seed}/accounts`,
  });
}
