import {
  AutoUpdateRecord, autoUpdateLine, backupNeeded, boundWords, nightGate, notRefused, notification, outcomeRecord,
} from '../../client/auto-update';
import { keptPostgres, updateWarnings, updatesReport } from '../../client/update-report';
import { ImageAnswer } from '../../client/updates';

const NOW = new Date('2026-12-07T03:30:00Z');
const nginx: ImageAnswer = { key: 'nginx', tag: 'nginx:1.28-alpine', from: 'sha256:aaa', to: 'sha256:bbb' };
const nextcloud: ImageAnswer = { key: 'nextcloud', tag: 'nextcloud:34-fpm-alpine', from: 'sha256:ccc', to: 'sha256:ddd', version: '34.0.3' };

describe('the nightly update waits for a good backup', () => {
  it('goes on after a good backup of tonight', () => {
    expect(nightGate({ last: { result: 'success', time: '2026-12-07T02:31:00Z' } }, NOW)).toEqual({ go: true });
  });
  it.each([
    ['no backup yet', {}, /no backup has run yet/],
    ['a failed one', { last: { result: 'failed' as const, time: '2026-12-07T02:31:00Z', error: 'the database did not answer' } }, /the last backup failed \(the database did not answer\); nothing is updated without a good backup/],
    ['a skipped one', { last: { result: 'skipped' as const, time: '2026-12-07T02:31:00Z' } }, /the last backup was skipped/],
    ['a good one of three days ago', { last: { result: 'success' as const, time: '2026-12-04T02:31:00Z' } }, /the last good backup is from 2026-12-04T02:31:00Z, not from tonight/],
  ])('stays put after %s, saying why', (_what, backup, why) => {
    const g = nightGate(backup, NOW);
    expect(g.go).toBe(false);
    expect(g.go === false && g.why).toMatch(why);
  });
  it('waits while the backup still runs', () => {
    expect(nightGate({ last: { result: 'running' } }, NOW)).toMatchObject({ go: false, wait: true });
  });
});

describe('what a night installs, and the backup before it', () => {
  it('never tries again a build it took back, but does try a newer one of the same tag', () => {
    const before: AutoUpdateRecord = { at: '2026-12-06T03:30:00Z', result: 'rolled back', words: '', refused: ['nextcloud:34-fpm-alpine@sha256:ddd'] };
    expect(notRefused([nginx, nextcloud], before)).toEqual({ install: [nginx], refused: [nextcloud] });
    expect(notRefused([{ ...nextcloud, to: 'sha256:eee' }], before).install).toHaveLength(1);
  });
  it('backs up only when Nextcloud (whose start migrates the data) changes', () => {
    expect(backupNeeded([nginx])).toBe(false);
    expect(backupNeeded([{ key: 'postgres' }, { key: 'cache' }, { key: 'backupStore' }, { key: 'egress' }])).toBe(false);
    expect(backupNeeded([nginx, nextcloud])).toBe(true);
  });
});

describe('what a night leaves for status and for the administrator', () => {
  it('a healthy install: the builds and their versions', () => {
    const r = outcomeRecord(NOW, [nginx, nextcloud], true, 900, undefined);
    expect(r).toMatchObject({ result: 'updated', refused: [] });
    expect(r.words).toBe('installed new builds of nginx:1.28-alpine, nextcloud:34-fpm-alpine (34.0.3); the home cloud is healthy');
    expect(notification(r)).toEqual({ subject: 'homecloud installed security updates', message: `Tonight homecloud ${r.words}.` });
  });
  it('taken back: remembered as refused, said as a warning and in Nextcloud', () => {
    const r = outcomeRecord(NOW, [nextcloud], false, 900, { at: '', result: 'up to date', words: '', refused: ['nginx:1.28-alpine@sha256:000'] });
    expect(r.result).toBe('rolled back');
    expect(r.refused).toEqual(['nginx:1.28-alpine@sha256:000', 'nextcloud:34-fpm-alpine@sha256:ddd']);
    expect(r.words).toMatch(/^new builds of nextcloud:34-fpm-alpine \(34\.0\.3\) did not become healthy within 15 minutes, so the images from before run again/);
    expect(autoUpdateLine(r, true)).toMatchObject({ when: NOW.toISOString(), warn: true });
    const n = notification(r)!;
    expect(n.subject.length).toBeLessThanOrEqual(255);
    expect(n.message).toMatch(/as they were before/);
    expect(outcomeRecord(NOW, [nextcloud], false, 900, undefined, false).result).toBe('failed');
  });
  it('says a bound that is not whole minutes in seconds', () => {
    expect(boundWords(900)).toBe('15 minutes');
    expect(boundWords(60)).toBe('1 minute');
    expect(boundWords(20)).toBe('20 seconds');
  });
  it('a quiet night tells nobody; status shows the switch and the last night', () => {
    const quiet: AutoUpdateRecord = { at: NOW.toISOString(), result: 'up to date', words: 'no new builds of the images in use', refused: [] };
    expect(notification(quiet)).toBeUndefined();
    expect(autoUpdateLine(quiet, true)).toEqual({ when: NOW.toISOString(), words: 'no new builds of the images in use', warn: false, on: true });
    expect(autoUpdateLine(undefined, false)).toMatchObject({ on: false, words: expect.stringMatching(/^off \(main\.ts: updates\.automatic\)/) });
  });
  it('status: a taken-back night is a warning; waiting builds name the night that installs them', () => {
    const r = outcomeRecord(NOW, [nextcloud], false, 900, undefined);
    const u = updatesReport({ lanAddresses: [], automaticUpdates: { on: true, record: r }, imageCheck: { checkedAt: NOW.toISOString(), waiting: [{ tag: nextcloud.tag }] } }, NOW);
    expect(updateWarnings(u, NOW)).toEqual([
      `The last automatic update: ${r.words}.`,
      '1 image update(s) waiting since the last check: the next night installs them after its backup, or npm run update installs them now (with a backup first where data can change).',
    ]);
  });
});

describe('the old PostgreSQL folder kept after a move', () => {
  const move = { at: '2026-12-01T20:00:00Z', from: 18, to: 19 };
  it('is shown until its 14 days are over, and not once the move was confirmed', () => {
    expect(keptPostgres(move, NOW)).toEqual({ from: 18, to: 19, until: '2026-12-15T20:00:00.000Z' });
    expect(keptPostgres(move, new Date('2026-12-16T00:00:00Z'))).toBeUndefined();
    expect(keptPostgres({ ...move, confirmedAt: '2026-12-02T10:00:00Z' }, NOW)).toBeUndefined();
    expect(keptPostgres(undefined, NOW)).toBeUndefined();
  });
});
