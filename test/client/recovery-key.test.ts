import { offerRecoveryKey } from '../../client/commands/deploy';
import { Io } from '../../client/io';
import { Kube } from '../../client/kube';

describe('the recovery key at install', () => {
  const KEY = 'correct-horse-battery-staple-42';
  const kube = (data?: Record<string, string>) => ({ get: async () => (data ? { data } : undefined) }) as unknown as Kube;
  const secret = { 'backup-key': Buffer.from(KEY).toString('base64') };
  const io = (answer?: string) => {
    const said = { out: '', err: '', asked: '' };
    const value: Io = {
      out: (t) => { said.out += t; },
      err: (t) => { said.err += t; },
      ...(answer !== undefined ? { ask: async (q: string) => { said.asked += q; return answer; } } : {}),
      now: () => new Date(),
      sleep: async () => undefined,
    };
    return { io: value, said };
  };

  it('is shown once the family asks for it (Enter or yes), with where to find it again', async () => {
    for (const answer of ['', 'y', 'Yes']) {
      const { io: i, said } = io(answer);
      await offerRecoveryKey(kube(secret), 'homecloud', i);
      expect(said.asked).toMatch(/encrypted with a recovery key.*write it down.*\nShow it now\? \[Y\/n\]/s);
      expect(said.out).toMatch(new RegExp(`backup recovery key: ${KEY}\\n\\(npm run admin-password shows it again\\)`));
    }
  });

  it('is never shown unasked: "no", or no terminal (output may be logged), only says where it is', async () => {
    const no = io('n');
    await offerRecoveryKey(kube(secret), 'homecloud', no.io);
    expect(no.said.out + no.said.err).not.toContain(KEY);
    expect(no.said.err).toMatch(/npm run admin-password shows it/);
    const script = io();
    await offerRecoveryKey(kube(secret), 'homecloud', script.io);
    expect(script.said.out + script.said.err).not.toContain(KEY);
    expect(script.said.err).toMatch(/encrypted with a recovery key.*npm run admin-password shows it/);
  });

  it('says so when the install has no key yet', async () => {
    await expect(offerRecoveryKey(kube(undefined), 'homecloud', io('').io)).rejects.toThrow(/not in namespace homecloud yet/);
  });
});
