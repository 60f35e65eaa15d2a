import { familyUrl, inPodHostNames } from '../../lib/https/family-address';

describe('the address the family uses (overwrite.cli.url)', () => {
  it('prefers the first LAN name over addresses and localhost', () => {
    expect(familyUrl(['localhost', '127.0.0.1', 'familypc', '192.168.1.20'], 443)).toBe('https://familypc');
  });
  it('takes the first LAN address when there is no name', () => {
    expect(familyUrl(['localhost', '192.168.1.20', '10.0.0.5'], 443)).toBe('https://192.168.1.20');
  });
  it('adds the port when it is not 443 (the address is HTTPS)', () => {
    expect(familyUrl(['familypc'], 8443)).toBe('https://familypc:8443');
  });
  it('ignores a port written into a trusted domain', () => {
    expect(familyUrl(['familypc:8080'], 443)).toBe('https://familypc');
  });
  it('falls back to localhost when only loopback names are trusted', () => {
    expect(familyUrl(['localhost', '127.0.0.1'], 443)).toBe('https://localhost');
  });
  it('keeps IPv6 addresses in brackets', () => {
    expect(familyUrl(['localhost', 'fe80::1'], 443)).toBe('https://[fe80::1]');
  });
});

describe('names the Nextcloud pod resolves to itself', () => {
  it('lists LAN names once, without ports, loopback names or addresses', () => {
    expect(inPodHostNames(['localhost', '127.0.0.1', 'familypc', 'familypc:8080', 'cloud.home.lan', '192.168.1.20', '[fe80::1]']))
      .toEqual(['familypc', 'cloud.home.lan']);
  });
});
