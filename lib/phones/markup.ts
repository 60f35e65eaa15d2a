import { createHash } from 'crypto';

/** Escapes text for HTML and XML (property lists): element content and quoted attributes. */
export function escapeMarkup(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * A version-4-shaped UUID from a hash: stable for the same input, so a profile installed again
 * replaces the one before instead of adding a second.
 */
export function stableUuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest();
  h[6] = (h[6] & 0x0f) | 0x40;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex').toUpperCase();
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

export interface ProfileOptions {
  /** The payloads, each a `<dict>` indented by two tabs. */
  readonly payloads: string;
  readonly displayName: string;
  readonly description: string;
  readonly identifier: string;
  /** Seeds the profile's UUID (stableUuid). */
  readonly uuidSeed: string;
}

/**
 * An Apple configuration profile around its payloads (Apple's Device Management "TopLevel"):
 * unsigned, so the phone says "Not Signed", which is true; removable by the family.
 */
export function configurationProfile(o: ProfileOptions): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>PayloadContent</key>
	<array>
${o.payloads}	</array>
	<key>PayloadDescription</key>
	<string>${escapeMarkup(o.description)}</string>
	<key>PayloadDisplayName</key>
	<string>${escapeMarkup(o.displayName)}</string>
	<key>PayloadIdentifier</key>
	<string>${escapeMarkup(o.identifier)}</string>
	<key>PayloadRemovalDisallowed</key>
	<false/>
	<key>PayloadType</key>
	<string>Configuration</string>
	<key>PayloadUUID</key>
	<string>${stableUuid(o.uuidSeed)}</string>
	<key>PayloadVersion</key>
	<integer>1</integer>
</dict>
</plist>
`;
}
