import { K8sObject, containerOf, synthStack } from '../support/stack';

const stack = synthStack();
const nextcloud = stack.get('Deployment', 'nextcloud');
const push = containerOf(nextcloud, 'push');
const env = Object.fromEntries(push.env.map((e: K8sObject) => [e.name, e.value ?? e.valueFrom]));

describe('Client Push in the Nextcloud pod', () => {
  it('runs the app\'s own server from the Nextcloud image as www-data, reading the web root only', () => {
    expect(push.image).toBe('nextcloud:34-fpm-alpine');
    expect(push.command).toEqual(['/bin/sh', '/homecloud/push-run.sh']);
    expect(push.securityContext).toMatchObject({ runAsUser: 82, runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(push.volumeMounts).toContainEqual({ name: 'html', mountPath: '/var/www/html', readOnly: true });
    expect(stack.get('ConfigMap', 'nextcloud-scripts').data['push-run.sh']).toMatch(/^#!\/bin\/sh/);
  });

  it('never decides whether the home cloud is up: no probe, so a push server still installing leaves the site served', () => {
    expect([push.readinessProbe, push.livenessProbe, push.startupProbe]).toEqual([undefined, undefined, undefined]);
  });

  it('reaches the cache with the password from the Secret (Kubernetes builds the URL), and Nextcloud over the pod\'s loopback', () => {
    expect(env.REDIS_HOST_PASSWORD).toEqual({ secretKeyRef: { name: 'homecloud-credentials', key: 'cache-password' } });
    expect(env.REDIS_URL).toBe('redis://:$(REDIS_HOST_PASSWORD)@cache:6379');
    // The password variable comes first: Kubernetes expands $(VAR) only from earlier entries.
    expect(push.env.findIndex((e: K8sObject) => e.name === 'REDIS_HOST_PASSWORD')).toBeLessThan(push.env.findIndex((e: K8sObject) => e.name === 'REDIS_URL'));
    expect(env).toMatchObject({ NEXTCLOUD_URL: 'https://localhost', ALLOW_SELF_SIGNED: 'true', PORT: '7867' });
    expect(synthStack({ httpsPort: 8443 }).get('Deployment', 'nextcloud').spec.template.spec.containers
      .find((c: K8sObject) => c.name === 'push').env.find((e: K8sObject) => e.name === 'NEXTCLOUD_URL').value).toBe('https://localhost:8443');
  });

  it('is small: a few MiB for a family\'s WebSockets', () => {
    expect(push.resources.limits).toEqual({ cpu: '250m', memory: '32Mi' });
  });

  it('is reached through nginx at /push/, with the WebSocket upgrade', () => {
    const conf = stack.get('ConfigMap', 'nextcloud-web').data['nginx.conf'];
    const location = /location \^~ \/push\/ \{[^}]*\}/.exec(conf)![0];
    expect(location).toContain('proxy_pass http://127.0.0.1:7867/;');
    expect(location).toContain('proxy_set_header Upgrade $http_upgrade;');
    expect(location).toContain('proxy_set_header Connection "Upgrade";');
  });
});
