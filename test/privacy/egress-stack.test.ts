import { resolveSettings } from '../../lib/config/resolve-settings';
import { SettingsError } from '../../lib/config/settings';
import { HOST, K8sObject, containerOf, synthStack } from '../support/stack';

// The egress point and its policies as synthesized: read back from the manifests.
describe('the egress point in the manifests', () => {
  const stack = synthStack();
  const egress = stack.get('Deployment', 'egress');
  const squid = containerOf(egress, 'egress');
  const conf: string = stack.get('ConfigMap', 'egress-config').data['squid.conf'];

  it('admits exactly the app store by default, and each family choice once chosen', () => {
    const admitted = (c: string) => c.split('\n').filter((l) => l.startsWith('acl allowed dstdomain')).flatMap((l) => l.split(' ').slice(4));
    expect(admitted(conf)).toEqual(['apps.nextcloud.com', 'github.com', 'objects.githubusercontent.com', 'release-assets.githubusercontent.com']);
    const chosen = synthStack({ privacy: { phoneNotifications: true, allowHosts: ['Maps.Example.org'] } }).get('ConfigMap', 'egress-config').data['squid.conf'];
    expect(admitted(chosen).slice(4)).toEqual(['push-notifications.nextcloud.com', 'maps.example.org']);
    expect(conf).toMatch(/^http_access deny all$/m);
  });

  it('points Nextcloud at it by its Service, on its port', () => {
    const fpm = containerOf(stack.get('Deployment', 'nextcloud'), 'nextcloud');
    const service = stack.get('Service', 'egress');
    expect(fpm.env.find((e: K8sObject) => e.name === 'HOMECLOUD_PROXY').value).toBe(`${service.metadata.name}:${service.spec.ports[0].port}`);
    expect(squid.ports[0].containerPort).toBe(service.spec.ports[0].port);
  });

  it('runs Squid as its own unprivileged user, one copy, with its ledger on a volume of its own', () => {
    expect(egress.spec.replicas).toBe(1);
    expect(squid.securityContext).toMatchObject({ runAsUser: 13, runAsNonRoot: true, readOnlyRootFilesystem: true });
    expect(squid.volumeMounts.find((m: K8sObject) => m.mountPath === '/var/log/squid').name).toBe('ledger');
    expect(stack.get('PersistentVolumeClaim', 'egress-ledger')).toBeDefined();
    expect(squid.image).toBe('ubuntu/squid:6.6-24.04_beta');
  });

  it('lets no pod of the namespace out but the egress point, and the egress point only to web ports', () => {
    const inside = stack.get('NetworkPolicy', 'egress-inside-only').spec;
    expect(inside.podSelector).toEqual({});
    expect(inside.policyTypes).toEqual(['Egress']);
    expect(inside.egress.flatMap((r: K8sObject) => r.to ?? [])).toEqual(expect.arrayContaining([{ podSelector: {} }]));
    // The PC's LAN address (a trusted domain): Nextcloud's requests to its own address.
    expect(JSON.stringify(inside.egress)).toMatch(/192\.168\.1\.20\/32/);
    expect(JSON.stringify(inside.egress)).not.toMatch(/0\.0\.0\.0/);
    const out = stack.get('NetworkPolicy', 'egress-point-out').spec;
    expect(out.podSelector.matchLabels).toEqual(egress.spec.selector.matchLabels);
    expect(out.egress).toEqual([{ ports: [{ protocol: 'TCP', port: 80 }, { protocol: 'TCP', port: 443 }] }]);
  });
});

describe('privacy settings', () => {
  it('names the setting and the fix for a host that is not a host name', () => {
    let error: unknown;
    try {
      resolveSettings({ privacy: { allowHosts: ['https://maps.example.org/tiles'] } }, HOST);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SettingsError);
    expect((error as SettingsError).problems).toEqual([
      'privacy.allowHosts[0] = "https://maps.example.org/tiles" is not valid: use a host name such as "api.example.org", or ".example.org" for every name under it (no "https://", path or port).',
    ]);
  });
});
