import { spawnSync } from 'child_process';
import jsQR from 'jsqr';
import { ANDROID_APPS, IPHONE_APPS, SMS_FOLDER } from '../../lib/phones/apps';
import { WELCOME_FILES } from '../../lib/https/welcome-page';
import { commands, describeWhen } from '../support/requirements';
import { CREDENTIALS, synthStack, testHomeCa } from '../support/stack';

/** The welcome folder as synth writes it (the ConfigMap nginx serves at /welcome/). */
function welcomeFolder(settings = {}): Record<string, string> {
  return synthStack(settings).get('ConfigMap', 'nextcloud-welcome').data;
}

/** Every QR code of a page, decoded by a QR reader from the pixels its SVG draws. */
function decodeQrCodes(page: string): string[] {
  return [...page.matchAll(/<svg class="qr"[^>]*viewBox="0 0 (\d+) \1"[^>]*>.*?<path fill="#000" d="([^"]*)"\/><\/svg>/g)].map(([, boxText, d]) => {
    const scale = 4;
    const box = Number(boxText);
    const side = box * scale;
    const pixels = new Uint8ClampedArray(side * side * 4).fill(255);
    for (const [, x, y, w] of d.matchAll(/M(\d+) (\d+)h(\d+)v1h-\d+z/g)) {
      for (let py = Number(y) * scale; py < (Number(y) + 1) * scale; py++) {
        for (let px = Number(x) * scale; px < (Number(x) + Number(w)) * scale; px++) pixels.fill(0, (py * side + px) * 4, (py * side + px) * 4 + 3);
      }
    }
    const code = jsQR(pixels, side, side);
    if (!code) throw new Error('a QR code on the page does not decode');
    return code.data;
  });
}

const hrefs = (page: string) => [...page.matchAll(/href="([^"]*)"/g)].map((m) => m[1].replace(/&amp;/g, '&'));

describe('the welcome pages for each phone', () => {
  const files = welcomeFolder();
  const android = files[WELCOME_FILES.android];
  const iphone = files[WELCOME_FILES.iphone];

  it('give this home cloud\'s exact addresses: the server, the DAV URL and the host for iOS accounts', () => {
    expect(android).toContain('<code>https://familypc</code>');
    expect(android).toContain('<code>https://familypc/remote.php/dav</code>');
    expect(iphone).toContain('<code>https://familypc</code>');
    expect(iphone).toContain('<code>familypc</code>');
    // A phone that does not resolve the PC's name gets its LAN address.
    for (const p of [android, iphone]) expect(p).toContain('<code>https://192.168.1.20</code>');
  });

  it('name an app with where to get it for every service, Android and iPhone', () => {
    for (const a of Object.values(ANDROID_APPS)) {
      expect(android).toContain(`<b>${a.name}</b>`);
      for (const l of a.get) expect(hrefs(android)).toContain(l.url);
    }
    for (const a of Object.values(IPHONE_APPS)) {
      expect(iphone).toContain(`<b>${a.name}</b>`);
      for (const l of a.get) expect(hrefs(iphone)).toContain(l.url);
    }
    expect(android).toContain(`<code>${SMS_FOLDER}</code>`);
    expect(iphone).toMatch(/iPhones do not let any app read messages/);
  });

  it('link only to the stores, to this folder\'s own files and to the CA steps on the first page', () => {
    const stores = [...Object.values(ANDROID_APPS), ...Object.values(IPHONE_APPS)].flatMap((a) => a.get.map((l) => l.url));
    const anchors = [...files[WELCOME_FILES.page].matchAll(/id="([^"]+)"/g)].map((m) => m[1]);
    for (const page of [android, iphone, files[WELCOME_FILES.page]]) {
      for (const href of hrefs(page)) {
        if (href.startsWith('https://')) expect(stores).toContain(href);
        else if (href.startsWith('./#')) expect(anchors).toContain(href.slice(3));
        else if (href !== './' && href !== '/') expect(Object.keys(files)).toContain(href);
      }
    }
  });

  it('have QR codes that decode to the addresses shown beside them', () => {
    expect(decodeQrCodes(android)).toEqual(['https://familypc', 'https://familypc/remote.php/dav']);
    expect(decodeQrCodes(iphone)).toEqual(['https://familypc', 'familypc']);
  });

  it('are reached from the first page, whose QR codes open them on a phone over plain HTTP', () => {
    const first = files[WELCOME_FILES.page];
    expect(hrefs(first)).toEqual(expect.arrayContaining([WELCOME_FILES.android, WELCOME_FILES.iphone]));
    expect(decodeQrCodes(first)).toEqual(['http://familypc/welcome/android.html', 'http://familypc/welcome/iphone.html']);
  });

  it('carry the ports when they are not the standard ones', () => {
    const other = welcomeFolder({ httpPort: 8080, httpsPort: 8443, trustedDomains: ['localhost', 'photos.lan', '10.0.0.7'] });
    expect(decodeQrCodes(other[WELCOME_FILES.android])).toEqual(['https://photos.lan:8443', 'https://photos.lan:8443/remote.php/dav']);
    expect(other[WELCOME_FILES.android]).toContain('<code>https://10.0.0.7:8443</code>');
    expect(decodeQrCodes(other[WELCOME_FILES.iphone])).toEqual(['https://photos.lan:8443', 'photos.lan:8443']);
    expect(decodeQrCodes(other[WELCOME_FILES.page])).toEqual(['http://photos.lan:8080/welcome/android.html', 'http://photos.lan:8080/welcome/iphone.html']);
    expect(other[WELCOME_FILES.accounts]).toContain('<integer>8443</integer>');
  });

  it('hold no secret: no password, key or token of this install', () => {
    const secrets = [...Object.values(CREDENTIALS).filter((v): v is string => typeof v === 'string' && v.length >= 8), testHomeCa().keyPem.split('\n')[1]];
    expect(secrets.length).toBeGreaterThan(3);
    for (const [name, text] of Object.entries(files)) for (const s of secrets) expect({ name, leaks: text.includes(s) }).toEqual({ name, leaks: false });
  });
});

describeWhen(commands(['python3'], 'apt-get install python3'), 'the iOS accounts profile', () => {
  it('parses as a property list with a CalDAV and a CardDAV account for this server, and no user name or password', () => {
    const script = `
import plistlib, sys, json
p = plistlib.loads(sys.stdin.buffer.read())
print(json.dumps({"type": p["PayloadType"], "accounts": p["PayloadContent"]}))`;
    const r = spawnSync('python3', ['-c', script], { input: welcomeFolder()[WELCOME_FILES.accounts], encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const p = JSON.parse(r.stdout);
    expect(p.type).toBe('Configuration');
    expect(p.accounts.map((a: Record<string, unknown>) => a.PayloadType)).toEqual(['com.apple.caldav.account', 'com.apple.carddav.account']);
    for (const a of p.accounts) {
      const kind = a.PayloadType === 'com.apple.caldav.account' ? 'CalDAV' : 'CardDAV';
      expect(a).toMatchObject({ [`${kind}HostName`]: 'familypc', [`${kind}Port`]: 443, [`${kind}UseSSL`]: true, [`${kind}PrincipalURL`]: 'https://familypc/remote.php/dav/' });
      expect(Object.keys(a).filter((k) => /Username|Password/.test(k))).toEqual([]);
      expect(a.PayloadUUID).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/);
    }
  });
});
