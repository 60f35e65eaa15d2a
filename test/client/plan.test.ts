import { applyOrder, ownedBy, pruneCandidates } from '../../client/plan';
import { collectionPath, objectPath } from '../../client/kinds';
import { upgradeProblems } from '../../client/upgrade-guard';
import { isStale } from '../../client/apply';
import { jobFromCronJob } from '../../client/jobs';
import { elapsed } from '../../client/progress';
import { synthStack } from '../support/stack';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const stack = synthStack();
const labels = ownedBy('homecloud');
const ref = (kind: string, name: string, l?: Record<string, string>) => ({ apiVersion: 'v1', kind, metadata: { name, namespace: 'homecloud', labels: l } });

describe('apply order', () => {
  const order = applyOrder(stack.objects).map((o) => o.kind);

  it('applies the namespace first and the workloads after everything they use', () => {
    expect(order[0]).toBe('Namespace');
    const last = (k: string) => order.lastIndexOf(k);
    const first = (k: string) => order.indexOf(k);
    expect(last('Secret')).toBeLessThan(first('Deployment'));
    expect(last('ConfigMap')).toBeLessThan(first('Deployment'));
    expect(last('PersistentVolumeClaim')).toBeLessThan(first('Deployment'));
    expect(last('Deployment')).toBeLessThan(first('CronJob'));
  });

  it('keeps the synthesized order within a kind', () => {
    const configMaps = applyOrder(stack.objects).filter((o) => o.kind === 'ConfigMap').map((o) => o.metadata.name);
    expect(configMaps).toEqual(stack.ofKind('ConfigMap').map((o) => o.metadata.name));
  });

  it('knows the API path of every kind it applies', () => {
    expect(objectPath(stack.get('Deployment', 'nextcloud'))).toBe('/apis/apps/v1/namespaces/homecloud/deployments/nextcloud');
    expect(objectPath(stack.get('Namespace', 'homecloud'))).toBe('/api/v1/namespaces/homecloud');
    expect(collectionPath('NetworkPolicy', 'homecloud')).toBe('/apis/networking.k8s.io/v1/namespaces/homecloud/networkpolicies');
    for (const o of stack.objects) expect(() => objectPath(o)).not.toThrow();
  });
});

describe('prune selection', () => {
  it('selects an object homecloud created that is no longer synthesized', () => {
    const live = [ref('ConfigMap', 'retired', labels), ref('ConfigMap', 'nextcloud-web', labels)];
    expect(pruneCandidates(live, stack.objects, 'homecloud').map((o) => o.metadata.name)).toEqual(['retired']);
  });
  it('never selects an object without all of homecloud\'s labels', () => {
    const live = [ref('ConfigMap', 'by-hand'), ref('ConfigMap', 'half', { 'app.kubernetes.io/part-of': 'homecloud' })];
    expect(pruneCandidates(live, stack.objects, 'homecloud')).toEqual([]);
  });
  it('never selects another instance\'s objects', () => {
    const other = ref('ConfigMap', 'retired', { ...labels, 'app.kubernetes.io/instance': 'grandma' });
    expect(pruneCandidates([other], stack.objects, 'homecloud')).toEqual([]);
  });
  it('never selects the namespace or kinds it does not manage', () => {
    expect(pruneCandidates([ref('Namespace', 'homecloud', labels), ref('Job', 'backup-123', labels)], [], 'homecloud')).toEqual([]);
  });
});

describe('upgrade guard', () => {
  const desired = { nextcloudImage: 'nextcloud:34-fpm-alpine', postgresImage: 'postgres:18-alpine' };
  it('allows one Nextcloud major at a time', () => {
    expect(upgradeProblems({ nextcloudImage: 'nextcloud:33-fpm-alpine', postgresImage: 'postgres:18-alpine', databaseVolumeExists: true }, desired)).toEqual([]);
  });
  it('refuses two majors at once and names the next step', () => {
    const p = upgradeProblems({ nextcloudImage: 'nextcloud:32-fpm-alpine', databaseVolumeExists: true }, desired);
    expect(p[0]).toMatch(/one major version at a time: 32 → 33 first, then on to 34\. Set images\.nextcloud back to 32 in main\.ts and run `npm run upgrade -- --major 34`/);
  });
  it('refuses going back a major', () => {
    expect(upgradeProblems({ nextcloudImage: 'nextcloud:35-fpm-alpine', databaseVolumeExists: true }, desired)[0]).toMatch(/older than the running Nextcloud 35/);
  });
  it('refuses a PostgreSQL major change over existing data and explains dump and restore', () => {
    const p = upgradeProblems({ postgresImage: 'postgres:17-alpine', databaseVolumeExists: true }, desired);
    expect(p[0]).toMatch(/holds PostgreSQL 17 data, which PostgreSQL 18 cannot open\. Keep images\.postgres at 17\..*by hand: run a backup.*"PostgreSQL older than 18"/);
  });
  it('from 18 on, names the command that moves the database', () => {
    const p = upgradeProblems({ postgresImage: 'postgres:18-alpine', databaseVolumeExists: true }, { ...desired, postgresImage: 'postgres:19-alpine' });
    expect(p[0]).toMatch(/Keep images\.postgres at 18 in main\.ts and run `npm run upgrade -- --postgres 19`: it copies the data into 19, checks every row/);
    const down = upgradeProblems({ postgresImage: 'postgres:19-alpine', databaseVolumeExists: true }, desired);
    expect(down[0]).toMatch(/cannot go back a major/);
  });
  it('allows any PostgreSQL major on a fresh install', () => {
    expect(upgradeProblems({ databaseVolumeExists: false }, desired)).toEqual([]);
  });
});

describe('jobs from templates', () => {
  const cron = { ...stack.get('CronJob', 'restore'), metadata: { ...stack.get('CronJob', 'restore').metadata, uid: 'u-1' } };
  const job = jobFromCronJob(cron, 'restore-1', { RESTORE_SNAPSHOT: '2026-11-26T013000Z' }, ['check']);
  it('copies the template and points back at its CronJob', () => {
    expect(job.spec.template.spec.containers).toEqual(cron.spec.jobTemplate.spec.template.spec.containers);
    expect(job.metadata.ownerReferences[0]).toMatchObject({ kind: 'CronJob', name: 'restore', uid: 'u-1' });
  });
  it('sets the chosen snapshot only where asked', () => {
    const env = (name: string) => [...job.spec.template.spec.initContainers, ...job.spec.template.spec.containers]
      .find((c: { name: string }) => c.name === name).env.map((e: { name: string }) => e.name);
    expect(env('check')).toContain('RESTORE_SNAPSHOT');
    expect(env('files')).not.toContain('RESTORE_SNAPSHOT');
  });
  it('leaves the template itself alone', () => {
    expect(JSON.stringify(cron)).not.toMatch(/RESTORE_SNAPSHOT/);
  });
});

describe('small helpers', () => {
  it('formats elapsed time', () => {
    expect(elapsed(5_400)).toBe('5s');
    expect(elapsed(65_000)).toBe('1m05s');
  });
  it('calls dist/ stale when a source is newer', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-stale-'));
    const manifest = path.join(dir, 'app.k8s.yaml');
    const source = path.join(dir, 'lib');
    fs.mkdirSync(source);
    expect(isStale(manifest, [source])).toBe(true);
    fs.writeFileSync(path.join(source, 'a.ts'), '');
    fs.writeFileSync(manifest, '');
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(manifest, later, later);
    expect(isStale(manifest, [source])).toBe(false);
    fs.utimesSync(path.join(source, 'a.ts'), new Date(Date.now() + 10000), new Date(Date.now() + 10000));
    expect(isStale(manifest, [source])).toBe(true);
  });
});

describe('API errors', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ApiError } = require('../../client/kube') as typeof import('../../client/kube');
  it('name the object and the field the server rejected', () => {
    const e = new ApiError(422, 'Deployment/nextcloud', {
      message: 'Deployment.apps "nextcloud" is invalid',
      details: { causes: [{ field: 'spec.template.spec.containers[0].image', message: 'Required value' }] },
    });
    expect(e.message).toBe('Kubernetes refused Deployment/nextcloud: spec.template.spec.containers[0].image: Required value');
  });
  it('fall back to the server\'s message', () => {
    expect(new ApiError(403, 'ConfigMap/x', { message: 'forbidden' }).message).toBe('Kubernetes refused ConfigMap/x: forbidden');
  });
});

describe('reading dist/', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { readNamespace, readManifests } = require('../../client/apply') as typeof import('../../client/apply');
  it('finds the namespace from the first document alone, as the full read does', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-ns-'));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { synth } = require('../../lib/stack/synth') as typeof import('../../lib/stack/synth');
    synth({ namespace: 'grandma' }, { hostname: 'pc', lanAddresses: [], timeZone: 'UTC' }, { outdir: dir, credentials: path.join(dir, 'c.json') }, () => undefined);
    const file = path.join(dir, 'app.k8s.yaml');
    expect(readNamespace(file)).toBe('grandma');
    expect(readManifests(file).namespace).toBe('grandma');
  });
});
