import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from '../../client/cli';
import { lostWords } from '../../client/commands/restore';
import { Io } from '../../client/io';
import { copyFolderOf, intact, parseListing, planMirror } from '../../client/offsite';
import { treeBytes, uploadProgress, withProgress } from '../../client/progress';
import { TaskSpec, UPDATE_TASK, copyTimeAfter, registerTask, removeTask, taskXml } from '../../client/schedule';
import { scheduleUpdates } from '../../client/commands/deploy';
import { Manifests } from '../../client/apply';
import { Options } from '../../client/command';
import { commands, describeWhen } from '../support/requirements';

const h = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

describe('progress on long waits (restore --from: the upload and the restore of a whole library)', () => {
  /** A clock that moves only when someone sleeps. */
  const fakeIo = () => {
    let t = 0;
    const err: string[] = [];
    const io: Io = { out: () => undefined, err: (x) => { err.push(x); }, now: () => new Date(t), sleep: async (ms) => { t += ms; await new Promise((r) => setImmediate(r)); } };
    return { io, err };
  };
  it('says how far it is every interval while the work runs, and nothing once it is done', async () => {
    const { io, err } = fakeIo();
    let finish!: (v: string) => void;
    const work = new Promise<string>((r) => { finish = r; });
    let asked = 0;
    const waiting = withProgress(work, io, 30_000, async (spent) => {
      asked++;
      if (asked === 3) finish('result');
      return `still busy, ${spent / 1000} s`;
    });
    await expect(waiting).resolves.toBe('result');
    expect(err).toEqual(['still busy, 30 s\n', 'still busy, 60 s\n']);
  });
  it('passes a failure through, and a failing progress query costs nothing', async () => {
    const { io, err } = fakeIo();
    let fail!: (e: Error) => void;
    const work = new Promise<string>((_, r) => { fail = r; });
    let asked = 0;
    const waiting = withProgress(work, io, 1000, async () => {
      if (++asked === 2) fail(new Error('disk full'));
      throw new Error('exec failed');
    });
    await expect(waiting).rejects.toThrow('disk full');
    expect(err).toEqual([]);
  });
  it('an upload says how much of the copy has arrived', () => {
    expect(uploadProgress(1_171_875, 4e9, 600_000)).toBe('uploaded 1200 of 4000 MB (30%), 10m00s');
    // du counts blocks: never more than all of it.
    expect(uploadProgress(5_000_000, 4e9, 1000)).toBe('uploaded 4000 of 4000 MB (100%), 1s');
  });
  it('measures the copy it uploads', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-tree-'));
    fs.mkdirSync(path.join(dir, 'data', 'aa'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'config'), Buffer.alloc(155));
    fs.writeFileSync(path.join(dir, 'data', 'aa', 'pack'), Buffer.alloc(4096));
    expect(treeBytes(dir)).toBe(4251);
  });
});

describe('planning a copy of the repository', () => {
  const source = new Map<string, number>([
    ['config', 155], [`keys/${h('k')}`, 400], [`data/aa/${h('pack1')}`, 4_000_000], [`data/bb/${h('pack2')}`, 5_000_000],
    [`index/${h('i2')}`, 900], [`snapshots/${h('s2')}`, 300],
  ]);

  it('fetches packs before the indexes that point at them, before the snapshots, and config last', () => {
    const plan = planMirror(source, new Map());
    expect(plan.copy.map((r) => r.split('/')[0])).toEqual(['keys', 'data', 'data', 'index', 'snapshots', 'config']);
    expect(plan.remove).toEqual([]);
  });
  it('fetches only what is missing or cut short, and removes what retention dropped, snapshots first', () => {
    const target = new Map<string, number>([
      ['config', 155], [`keys/${h('k')}`, 400], [`data/aa/${h('pack1')}`, 4_000_000], [`data/bb/${h('pack2')}`, 1_000],
      [`data/cc/${h('old')}`, 3_000_000], [`index/${h('i1')}`, 800], [`snapshots/${h('s1')}`, 300], ['.homecloud-write-test.1', 0],
    ]);
    const plan = planMirror(source, target);
    expect(plan.copy).toEqual([`data/bb/${h('pack2')}`, `index/${h('i2')}`, `snapshots/${h('s2')}`]);
    expect(plan.remove).toEqual([`snapshots/${h('s1')}`, `index/${h('i1')}`, `data/cc/${h('old')}`]);
  });
  it('never removes the config, and ignores files that are not the repository\'s', () => {
    const plan = planMirror(new Map(), new Map([['config', 1], ['README.txt', 5]]));
    expect(plan.remove).toEqual([]);
  });
  it('checks a file against its name (config against its size)', () => {
    expect(intact(`data/aa/${h('pack')}`, Buffer.from('pack'), 4)).toBe(true);
    expect(intact(`data/aa/${h('pack')}`, Buffer.from('pacK'), 4)).toBe(false);
    expect(intact('config', Buffer.alloc(155), 155)).toBe(true);
  });
  it('reads the pod\'s listing, leaving out restic\'s lock files', () => {
    expect(parseListing(`155 ./config\n400 ./keys/${h('k')}\n12 ./locks/${h('l')}\n\n`)).toEqual(new Map([['config', 155], [`keys/${h('k')}`, 400]]));
  });
  it('finds the copy whether the user names its folder or the repository in it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-copy-'));
    fs.mkdirSync(path.join(dir, 'repository'));
    fs.writeFileSync(path.join(dir, 'repository', 'config'), 'x');
    expect(copyFolderOf(dir)).toBe(dir);
    expect(copyFolderOf(path.join(dir, 'repository'))).toBe(dir);
    expect(copyFolderOf(os.tmpdir())).toBeUndefined();
  });
});

describe('the Windows scheduled task', () => {
  const spec: TaskSpec = { node: 'C:\\Program Files\\nodejs\\node.exe', script: 'C:\\Users\\Anna & Tom\\homecloud\\bin\\homecloud.js',
    projectDir: 'C:\\Users\\Anna & Tom\\homecloud', time: '04:30', extraArgs: ['--namespace', 'grandma'] };

  it('runs two hours after the backup, daily', () => {
    expect(copyTimeAfter('30 2 * * *')).toBe('04:30');
    expect(copyTimeAfter('15 23 * * *')).toBe('01:15');
  });
  it('catches up a copy missed while the PC was off, on battery too, one at a time, as the signed-in user', () => {
    const xml = taskXml(spec);
    expect(xml).toMatch(/<StartWhenAvailable>true<\/StartWhenAvailable>/);
    expect(xml).toMatch(/<DisallowStartIfOnBatteries>false<\/DisallowStartIfOnBatteries>/);
    expect(xml).toMatch(/<MultipleInstancesPolicy>IgnoreNew<\/MultipleInstancesPolicy>/);
    expect(xml).toMatch(/<LogonType>InteractiveToken<\/LogonType>/);
    expect(xml).toMatch(/<StartBoundary>2026-01-01T04:30:00<\/StartBoundary>/);
    expect(xml).toContain('<Arguments>&quot;C:\\Users\\Anna &amp; Tom\\homecloud\\bin\\homecloud.js&quot; offsite &quot;--namespace&quot; &quot;grandma&quot;</Arguments>');
  });
  const python = commands(['python3'], 'apt-get install python3');
  describeWhen(python, 'its XML', () => {
    it('is well-formed, in Task Scheduler\'s namespace', () => {
      const r = spawnSync('python3', ['-c', 'import sys, xml.dom.minidom as m; d = m.parseString(sys.stdin.buffer.read()); print(d.documentElement.namespaceURI)'],
        { input: taskXml(spec).replace('encoding="UTF-16"', 'encoding="UTF-8"'), encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe('http://schemas.microsoft.com/windows/2004/02/mit/task');
    });
  });
  it('is registered from a UTF-16 file with schtasks /Create /XML, and removed with /Delete', async () => {
    const calls: string[][] = [];
    let file = Buffer.alloc(0);
    const run = async (cmd: string, args: string[]) => {
      calls.push([cmd, ...args]);
      const xml = args.indexOf('/XML');
      if (xml >= 0) file = fs.readFileSync(args[xml + 1]);
      return { code: 0, output: '' };
    };
    await registerTask(run, spec);
    expect(calls[0].slice(0, 5)).toEqual(['schtasks', '/Create', '/F', '/TN', 'homecloud offsite copy']);
    expect(file.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xfe]));
    expect(file.toString('utf16le')).toContain('<Task version="1.2"');
    expect(fs.existsSync(calls[0][6])).toBe(false); // the temporary file is gone
    expect(await removeTask(run)).toBe(true);
    expect(calls.slice(1)).toEqual([['schtasks', '/Query', '/TN', 'homecloud offsite copy'], ['schtasks', '/Delete', '/F', '/TN', 'homecloud offsite copy']]);
  });
  it('the nightly security update is a second task, running update --auto at its own time', async () => {
    const xml = taskXml({ ...spec, time: '03:30', task: UPDATE_TASK });
    expect(xml).toContain('<Arguments>&quot;C:\\Users\\Anna &amp; Tom\\homecloud\\bin\\homecloud.js&quot; update --auto &quot;--namespace&quot; &quot;grandma&quot;</Arguments>');
    expect(xml).toMatch(/<StartBoundary>2026-01-01T03:30:00<\/StartBoundary>/);
    expect(xml).toMatch(/<Description>Installs new builds \(security fixes\)/);
  });
  describe('deploy keeps the update task as main.ts says (updates.automatic, updates.time)', () => {
    const manifests = (at?: string) => ({ objects: [{ kind: 'CronJob', metadata: { name: 'backup', ...(at ? { annotations: { 'homecloud.io/automatic-updates': at } } : {}) } }] }) as unknown as Manifests;
    const o = { namespace: 'grandma' } as Options;
    const recorder = (existing: boolean) => {
      const calls: string[][] = [];
      const run = async (cmd: string, args: string[]) => {
        calls.push([cmd, ...args.filter((a) => !a.endsWith('.xml'))]);
        return { code: args[0] === '/Query' && !existing ? 1 : 0, output: '' };
      };
      return { calls, run };
    };
    const said: string[] = [];
    const io = { out: () => undefined, err: (t: string) => { said.push(t); }, now: () => new Date(), sleep: async () => undefined } as unknown as Io;
    it('registers it (or replaces one at another time), saying so the first time only', async () => {
      const first = recorder(false);
      await scheduleUpdates(manifests('03:30'), o, io, first.run, 'win32');
      expect(first.calls).toEqual([['schtasks', '/Query', '/TN', 'homecloud security updates'], ['schtasks', '/Create', '/F', '/TN', 'homecloud security updates', '/XML']]);
      expect(said.join('')).toMatch(/security updates install themselves each night at 03:30, after the backup .*updates: \{ automatic: false \} in main\.ts turns them off/);
      said.length = 0;
      const again = recorder(true);
      await scheduleUpdates(manifests('04:10'), o, io, again.run, 'win32');
      expect(again.calls.map((c) => c[1])).toEqual(['/Query', '/Create']);
      expect(said).toEqual([]);
    });
    it('removes it when main.ts turns it off', async () => {
      const off = recorder(true);
      await scheduleUpdates(manifests('off'), o, io, off.run, 'win32');
      expect(off.calls).toEqual([['schtasks', '/Query', '/TN', 'homecloud security updates'], ['schtasks', '/Delete', '/F', '/TN', 'homecloud security updates']]);
      expect(said.pop()).toMatch(/automatic updates are off \(main\.ts\): removed the task/);
    });
    it('leaves an install from before the switch alone, and says what to schedule where there is no Task Scheduler', async () => {
      const none = recorder(false);
      await scheduleUpdates(manifests(), o, io, none.run, 'win32');
      await scheduleUpdates(manifests('03:30'), o, io, none.run, 'linux');
      expect(none.calls).toEqual([]);
      expect(said.pop()).toMatch(/npm run update -- --auto` daily at 03:30/);
    });
  });
  it('says what Task Scheduler said when it refuses', async () => {
    await expect(registerTask(async () => ({ code: 1, output: 'ERROR: Access is denied.' }), spec)).rejects.toThrow(/Task Scheduler refused the task: ERROR: Access is denied\./);
  });
});

describe('command line', () => {
  it('reads restore --from, --key-file and deploy --schedule-copy', () => {
    expect(parseArgs(['restore', '--from', 'D:\\homecloud-backups', '--key-file', 'key.txt'])).toMatchObject({ command: 'restore', from: 'D:\\homecloud-backups', keyFile: 'key.txt' });
    expect(parseArgs(['deploy', '--schedule-copy'])).toMatchObject({ command: 'deploy', scheduleCopy: true });
    expect(parseArgs(['offsite', '--to', 'E:\\copy'])).toMatchObject({ command: 'offsite', to: 'E:\\copy' });
  });
  it('asks for a value after --from', () => {
    expect(() => parseArgs(['restore', '--from'])).toThrow(/--from needs a value/);
  });
});

describe('restore --from from a copy that could give back only part of a snapshot', () => {
  it('says nothing when nothing was lost', () => expect(lostWords([])).toBe(''));
  it('names each lost file as the family knows it, at most 20, and where the rest are listed', () => {
    const lost = Array.from({ length: 23 }, (_, i) => `data/alice/files/Photos/IMG_${i}.jpg`);
    const words = lostWords(lost);
    expect(words).toMatch(/^23 file\(s\) could not be read from the copy \(damaged there\) and are not back:\n  alice\/files\/Photos\/IMG_0\.jpg\n/);
    expect(words.match(/^ {2}alice\//gm)).toHaveLength(20);
    expect(words).toMatch(/… and 3 more \(listed in the snapshot's LOST file\)\nLook for them on the phones or PCs they came from\.\n$/);
  });
});
