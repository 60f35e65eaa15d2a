import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildApp } from '../../lib/stack/chart';
import { HomeCa, createHomeCa } from '../../lib/https/home-ca';
import { Credentials } from '../../lib/config/secrets-store';
import { resolveSettings } from '../../lib/config/resolve-settings';
import { HomecloudSettings, HostFacts } from '../../lib/config/settings';

/** A PC as synth would see it; fixed so tests do not depend on the machine they run on. */
export const HOST: HostFacts = { hostname: 'familypc', lanAddresses: ['192.168.1.20'], timeZone: 'Europe/Berlin', region: 'DE', homeDir: 'C:\\Users\\Anna' };

/** Recognisable fake passwords, so a test can look for them in output. */
export const CREDENTIALS: Credentials = {
  postgresPassword: 'test-postgres-password-0001',
  adminPassword: 'test-admin-password-0002',
  cachePassword: 'test-cache-password-0003',
  backupKey: 'test-backup-key-0004',
};

/** One home CA per test process (made like synth makes it, for HOST's names). */
let testCa: HomeCa | undefined;
export function testHomeCa(): HomeCa {
  testCa ??= createHomeCa(['localhost', HOST.hostname, ...HOST.lanAddresses], HOST.hostname, new Date());
  return testCa;
}

// Kubernetes objects are open-ended JSON; tests read them as such.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type K8sObject = any;

export interface Stack {
  readonly objects: K8sObject[];
  /** The one object of this kind and name; fails the test when there is none. */
  get(kind: string, name: string): K8sObject;
  ofKind(kind: string): K8sObject[];
  /** Every container and init container of every pod template (Deployments and CronJobs' jobs). */
  containers(): Array<{ owner: string; container: K8sObject }>;
  podTemplates(): Array<{ owner: string; template: K8sObject }>;
}

/** Synthesizes the stack in memory, in output order. */
export function synthStack(settings: HomecloudSettings = {}, host: HostFacts = HOST): Stack {
  const { app } = buildApp(resolveSettings(settings, host), CREDENTIALS, testHomeCa(), fs.mkdtempSync(path.join(os.tmpdir(), 'hc-')), host.hostname);
  const objects: K8sObject[] = app.charts.flatMap((c) => c.toJson());
  const podTemplates = () => objects.flatMap((o) => {
    if (o.kind === 'Deployment') return [{ owner: `Deployment/${o.metadata.name}`, template: o.spec.template }];
    if (o.kind === 'CronJob') return [{ owner: `CronJob/${o.metadata.name}`, template: o.spec.jobTemplate.spec.template }];
    return [];
  });
  return {
    objects,
    get(kind, name) {
      const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
      if (!found) throw new Error(`no ${kind} named ${name} in the synthesized stack`);
      return found;
    },
    ofKind: (kind) => objects.filter((o) => o.kind === kind),
    podTemplates,
    containers: () => podTemplates().flatMap(({ owner, template }) => [...(template.spec.initContainers ?? []), ...template.spec.containers]
      .map((container: K8sObject) => ({ owner, container }))),
  };
}

export function containerOf(deployment: K8sObject, name: string): K8sObject {
  const c = deployment.spec.template.spec.containers.find((x: K8sObject) => x.name === name);
  if (!c) throw new Error(`no container ${name} in ${deployment.metadata.name}`);
  return c;
}
