import {
  HALF_DONE_STEPS, LEASE_NAME, decide, holderOf, interruptedWords, leaseBody, maintenanceReport, microTime,
} from '../../client/maintenance';

// The maintenance lock's decisions, on Leases as the API server returns them (the lock itself,
// on a real API server: test/integration/maintenance.test.ts).
const NOW = new Date('2026-12-06T22:00:00Z');
const lease = (op: string, renewedSecondsAgo: number, extra: Record<string, string> = {}) => ({
  metadata: {
    name: LEASE_NAME, resourceVersion: '42',
    annotations: { 'homecloud.io/operation': op, 'homecloud.io/from': 'this PC (FAMILY-PC, anna)', 'homecloud.io/step': '', ...extra },
  },
  spec: {
    holderIdentity: `${op}@FAMILY-PC:1234:abcdef`, leaseDurationSeconds: 60,
    acquireTime: '2026-12-06T21:40:00.000000Z', renewTime: microTime(new Date(NOW.getTime() - renewedSecondsAgo * 1000)),
  },
});

describe('the maintenance lock, decided', () => {
  it('is free without a Lease or without a holder', () => {
    expect(holderOf(undefined, NOW)).toBeUndefined();
    expect(holderOf({ spec: { holderIdentity: '' } }, NOW)).toBeUndefined();
    expect(decide('restore', undefined)).toEqual({ action: 'take' });
  });

  it('knows a holder alive by its renewals, and a dead one by their absence', () => {
    expect(holderOf(lease('restore', 59), NOW)?.alive).toBe(true);
    expect(holderOf(lease('restore', 61), NOW)?.alive).toBe(false);
  });

  it('refuses a second command while another runs, naming it, its start and where it runs', () => {
    const d = decide('backup', holderOf(lease('restore', 5, { 'homecloud.io/step': 'restoring' }), NOW));
    expect(d.action).toBe('refuse');
    expect(d.action === 'refuse' && d.why).toMatch(/^A restore started at \d\d:\d\d from this PC \(FAMILY-PC, anna\) \(now: restoring\) is still running; only one thing at a time\./);
  });

  it('offers to wait for the nightly backup, which ends by itself', () => {
    expect(decide('update', holderOf(lease('nightly', 5), NOW)).action).toBe('offer-wait');
    expect(decide('nightly', holderOf(lease('nightly', 5), NOW)).action).toBe('refuse');
  });

  it('takes over from a dead holder, handing on its record', () => {
    const d = decide('update', holderOf(lease('backup', 600, { 'homecloud.io/step': 'started', 'homecloud.io/undo': 'resume-backups' }), NOW));
    expect(d.action).toBe('take-over');
    expect(d.action === 'take-over' && d.dead.undo).toEqual(['resume-backups']);
  });

  it('lets nothing but the restore that finishes it (or an uninstall) build on a half-restored home cloud', () => {
    const dead = holderOf(lease('restore', 600, { 'homecloud.io/step': 'restoring', 'homecloud.io/detail': 'snapshot=2026-12-05T013000Z job=restore-20261206214100' }), NOW)!;
    expect(dead.detail).toEqual({ snapshot: '2026-12-05T013000Z', job: 'restore-20261206214100' });
    for (const op of ['backup', 'nightly', 'update', 'upgrade', 'rollback', 'export', 'offsite', 'admin-password'] as const) {
      const d = decide(op, dead);
      expect(d.action).toBe('refuse');
      expect(d.action === 'refuse' && d.why).toMatch(/half-restored\. Run `npm run restore -- --snapshot 2026-12-05T013000Z` to finish it/);
    }
    expect(decide('restore', dead).action).toBe('take-over');
    expect(decide('uninstall', dead).action).toBe('take-over');
    expect(HALF_DONE_STEPS.has('restoring')).toBe(true);
  });

  it('says what a dead holder was doing, for the next command and for status', () => {
    const h = holderOf(lease('update', 600, { 'homecloud.io/step': 'deploying the new images' }), NOW)!;
    expect(interruptedWords(h)).toMatch(/^an update started at \d\d:\d\d from this PC \(FAMILY-PC, anna\) was cut short \(the PC shut down, the window closed or the pod was stopped\) at "deploying the new images"\.$/);
    expect(maintenanceReport(lease('update', 600), NOW)).toEqual({ interrupted: expect.stringMatching(/was cut short/) });
    expect(maintenanceReport(lease('restore', 600, { 'homecloud.io/step': 'restoring' }), NOW)).toEqual({ interrupted: expect.stringMatching(/half-restored/), halfDone: true });
    expect(maintenanceReport(lease('nightly', 5), NOW)).toEqual({ running: expect.stringMatching(/^The nightly backup started at/) });
    expect(maintenanceReport(undefined, NOW)).toBeUndefined();
  });

  it('writes a Lease the API server takes: MicroTime with six decimals, the version it replaces, the record', () => {
    expect(microTime(new Date('2026-12-06T22:00:00.123Z'))).toBe('2026-12-06T22:00:00.123000Z');
    const body = leaseBody('homecloud', 'restore@pc', 'restore', 'this PC', NOW, { step: 'restoring', detail: { snapshot: 'S' }, undo: ['start-nextcloud'] }, lease('nightly', 600));
    expect(body.metadata.resourceVersion).toBe('42');
    expect(body.metadata.annotations).toMatchObject({ 'homecloud.io/step': 'restoring', 'homecloud.io/detail': 'snapshot=S', 'homecloud.io/undo': 'start-nextcloud' });
    expect(body.spec).toEqual({ holderIdentity: 'restore@pc', leaseDurationSeconds: 60, acquireTime: '2026-12-06T22:00:00.000000Z', renewTime: '2026-12-06T22:00:00.000000Z' });
  });
});
