import { spawnSync } from 'child_process';
import { X509Certificate } from 'crypto';
import * as os from 'os';
import { buildApp } from '../../lib/stack/chart';
import { createHomeCa, describeCa } from '../../lib/https/home-ca';
import { resolveSettings } from '../../lib/config/resolve-settings';
import { WELCOME_FILES, mobileConfig, welcomeFiles } from '../../lib/https/welcome-page';
import { commands, describeWhen } from '../support/requirements';
import { CREDENTIALS, HOST, K8sObject, containerOf, synthStack, testHomeCa } from '../support/stack';

const stack = synthStack();
const nextcloud = stack.get('Deployment', 'nextcloud');
const pod = nextcloud.spec.template.spec;
const envOf = (c: K8sObject) => Object.fromEntries(c.env.map((e: K8sObject) => [e.name, e.value]));

describe('the server certificate in the Nextcloud pod', () => {
  const init = pod.initContainers.find((c: K8sObject) => c.name === 'certificate');
  const renewer = containerOf(nextcloud, 'certificates');

  it('is issued before nginx starts and renewed by a container beside it, both from the Nextcloud image', () => {
    expect(init.command).toEqual(['php', '-n', '/homecloud/issue-certificate.php']);
    expect(renewer.command).toEqual(['/bin/sh', '/homecloud/certificate-loop.sh']);
    for (const c of [init, renewer]) {
      expect(c.image).toBe('nextcloud:34-fpm-alpine');
      expect(c.securityContext).toMatchObject({ runAsUser: 101, runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    }
    expect(envOf(renewer)).toMatchObject({ VALID_DAYS: '90', RENEW_DAYS: '45', CHECK_SECONDS: '21600' });
  });

  it('carries every trusted name and address', () => {
    expect(envOf(init)).toMatchObject({ HOMECLOUD_TLS_DNS: 'localhost familypc', HOMECLOUD_TLS_IP: '127.0.0.1 192.168.1.20' });
    const other = synthStack({ trustedDomains: ['photos.lan', '10.0.0.7:8080'] }).get('Deployment', 'nextcloud').spec.template.spec.initContainers[0];
    expect(envOf(other)).toMatchObject({ HOMECLOUD_TLS_DNS: 'localhost photos.lan', HOMECLOUD_TLS_IP: '127.0.0.1 10.0.0.7' });
  });

  it('mounts the CA\'s key only into the two issuing containers', () => {
    const withKey = [...pod.initContainers, ...pod.containers].filter((c: K8sObject) => c.volumeMounts.some((m: K8sObject) => m.name === 'homecloud-ca'));
    expect(withKey.map((c: K8sObject) => c.name).sort()).toEqual(['certificate', 'certificates']);
    const secret = stack.get('Secret', 'homecloud-ca');
    expect(Buffer.from(secret.data['ca.crt'], 'base64').toString()).toBe(testHomeCa().certPem);
  });

  it('lets only the nightly backup\'s offsite container read it besides them, read-only, into the encrypted repository', () => {
    const podsWithKey = stack.objects.flatMap((o: K8sObject) => {
      const spec = o.spec?.jobTemplate?.spec?.template?.spec ?? o.spec?.template?.spec;
      if (!spec || o.metadata.name === 'nextcloud') return [];
      return [...(spec.initContainers ?? []), ...spec.containers]
        .filter((c: K8sObject) => (c.volumeMounts ?? []).some((m: K8sObject) => m.name === 'homecloud-ca'))
        .map((c: K8sObject) => ({ owner: `${o.kind}/${o.metadata.name}`, container: c.name, mount: c.volumeMounts.find((m: K8sObject) => m.name === 'homecloud-ca') }));
    });
    expect(podsWithKey).toEqual([{ owner: 'CronJob/backup', container: 'offsite', mount: { name: 'homecloud-ca', mountPath: '/homecloud-ca', readOnly: true } }]);
    const offsite = stack.get('CronJob', 'backup').spec.jobTemplate.spec.template.spec.containers.find((c: K8sObject) => c.name === 'offsite');
    expect(envOf(offsite).CA_DIR).toBe('/homecloud-ca');
  });

  it('gives nginx the certificate read-only and php-fpm the CA\'s public certificate only', () => {
    const web = containerOf(nextcloud, 'web');
    expect(web.volumeMounts).toContainEqual({ name: 'tls', mountPath: '/run/homecloud/tls', readOnly: true });
    const fpm = containerOf(nextcloud, 'nextcloud');
    expect(envOf(fpm).HOMECLOUD_CA_FILE).toBe('/run/homecloud/welcome/homecloud-ca.crt');
    expect(fpm.volumeMounts.some((m: K8sObject) => m.name === 'tls' || m.name === 'homecloud-ca')).toBe(false);
  });

  it('rolls the pod (so a new certificate is issued) when the CA changes', () => {
    const hash = (d: K8sObject) => d.spec.template.metadata.annotations['homecloud/config-hash'];
    const { app } = buildApp(resolveSettings({}, HOST), CREDENTIALS, createHomeCa(['localhost'], 'other', new Date()), os.tmpdir());
    const other = app.charts.flatMap((c: K8sObject) => c.toJson()).find((o: K8sObject) => o.kind === 'Deployment' && o.metadata.name === 'nextcloud');
    expect(hash(other)).not.toBe(hash(nextcloud));
  });
});

describe('the welcome folder', () => {
  const files = stack.get('ConfigMap', 'nextcloud-welcome').data;

  it('holds the page, the CA, the iOS profile and the pages for each phone', () => {
    expect(Object.keys(files).sort()).toEqual(Object.values(WELCOME_FILES).sort());
    expect(new X509Certificate(files[WELCOME_FILES.certificate]).ca).toBe(true);
  });

  it('shows the fingerprint and the steps for each platform', () => {
    const page = files[WELCOME_FILES.page];
    expect(page).toContain(describeCa(testHomeCa().certPem).fingerprint);
    for (const words of ['full trust', 'Install a certificate', 'certutil -user -addstore Root homecloud-ca.crt', 'npm run trust', 'https://']) expect(page).toContain(words);
  });

  it('names the CA as phones list it, not in RFC 4514 escaping (a comma, quotes, "+", ";" and "<>" in it)', () => {
    const made = new Date('2026-12-05T10:00:00Z');
    for (const [label, shown] of [['vm', 'homecloud home CA (vm, 2026-12-05)'], ['Jürgen\'s "PC"+1;<x>', 'homecloud home CA (Jürgen\'s "PC"+1;<x>, 2026-12-05)']]) {
      const caPem = createHomeCa(['localhost'], label, made).certPem;
      expect(describeCa(caPem).subject).toBe(shown);
      const page = welcomeFiles({ caPem, label, httpsPort: 443, httpPort: 80, trustedDomains: ['localhost', 'familypc'] })[WELCOME_FILES.page];
      expect(page).not.toContain('\\,');
      expect(mobileConfig({ caPem, label })).toContain(`<string>${shown.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')}`);
    }
  });

  it('is the same for the same CA, so synth output changes only when the CA does', () => {
    const o = { caPem: testHomeCa().certPem, label: 'familypc', httpsPort: 443, httpPort: 80, trustedDomains: ['localhost', 'familypc'] };
    expect(welcomeFiles(o)).toEqual(welcomeFiles({ ...o }));
  });
});

describeWhen(commands(['python3'], 'apt-get install python3'), 'the iOS profile', () => {
  it('parses as a property list with the payloads iOS expects, holding the CA\'s DER bytes', () => {
    const ca = testHomeCa();
    const script = `
import plistlib, sys, json, base64
p = plistlib.loads(sys.stdin.buffer.read())
inner = p["PayloadContent"][0]
print(json.dumps({"type": p["PayloadType"], "version": p["PayloadVersion"], "uuid": p["PayloadUUID"], "id": p["PayloadIdentifier"],
  "inner": inner["PayloadType"], "innerVersion": inner["PayloadVersion"], "innerUuid": inner["PayloadUUID"],
  "der": base64.b64encode(inner["PayloadContent"]).decode()}))`;
    const r = spawnSync('python3', ['-c', script], { input: mobileConfig({ caPem: ca.certPem, label: 'familypc' }), encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const p = JSON.parse(r.stdout);
    expect(p).toMatchObject({ type: 'Configuration', version: 1, inner: 'com.apple.security.root', innerVersion: 1 });
    expect(p.uuid).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/);
    expect(p.innerUuid).not.toBe(p.uuid);
    expect(Buffer.from(p.der, 'base64')).toEqual(Buffer.from(new X509Certificate(ca.certPem).raw));
  });
});
