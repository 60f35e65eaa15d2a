import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  ADMINISTRATORS_SID, SYSTEM_SID, aclReadersScript, exposedFolders, makeOwnerOnly, ownerOnlyAclArgs, readersOf, userSidOf,
} from '../../lib/config/windows-acl';
import { synth } from '../../lib/stack/synth';
import { HOST } from '../support/stack';

const ANNA = 'S-1-5-21-1004336348-1177238915-682003330-1001';
/** What `whoami /user /fo csv /nh` prints (the same on a German or Japanese Windows: CSV, no header). */
const WHOAMI = '"desktop-7h2k\\anna","S-1-5-21-1004336348-1177238915-682003330-1001"\r\n';

/** A recorded Windows: answers whoami, icacls and PowerShell's ACL query as a real one did. */
function windows(acl: Record<string, string[]> = {}) {
  const calls: string[][] = [];
  const run = (cmd: string, args: string[]) => {
    calls.push([cmd, ...args]);
    if (cmd === 'whoami') return { code: 0, output: WHOAMI };
    if (cmd === 'icacls') {
      acl[args[0]] = [ANNA, SYSTEM_SID, ADMINISTRATORS_SID];
      return { code: 0, output: `processed file: ${args[0]}\r\nSuccessfully processed 1 files; Failed processing 0 files\r\n` };
    }
    if (cmd === 'powershell') {
      const target = /-LiteralPath '((?:[^']|'')*)'/.exec(args[args.length - 1])![1].replace(/''/g, "'");
      return { code: 0, output: `${(acl[target] ?? [ANNA, SYSTEM_SID, ADMINISTRATORS_SID, 'S-1-5-11', 'S-1-5-32-545']).join('\r\n')}\r\n` };
    }
    return { code: 127, output: `${cmd}: not found` };
  };
  return { run, calls, acl };
}

describe('Windows: the folders that hold secrets, readable only by the installing user', () => {
  it('reads the user\'s SID from whoami\'s CSV, whatever the language', () => {
    expect(userSidOf(WHOAMI)).toBe(ANNA);
    expect(userSidOf('"PC-von-Jürgen\\Jürgen","S-1-5-21-1-2-3-1002"')).toBe('S-1-5-21-1-2-3-1002');
    expect(userSidOf('ERROR: something')).toBeUndefined();
  });

  it('builds icacls for the user, SYSTEM and Administrators by SID (names are translated on other languages), inheritance removed', () => {
    expect(ownerOnlyAclArgs('C:\\Users\\Anna & Tom\\homecloud\\.homecloud', ANNA)).toEqual([
      'C:\\Users\\Anna & Tom\\homecloud\\.homecloud', '/inheritance:r',
      '/grant:r', `*${ANNA}:(OI)(CI)F`, '*S-1-5-18:(OI)(CI)F', '*S-1-5-32-544:(OI)(CI)F',
    ]);
  });

  it('asks PowerShell for the readers by SID, the path quoted for it', () => {
    expect(aclReadersScript("C:\\Users\\O'Brien\\homecloud\\dist")).toContain("-LiteralPath 'C:\\Users\\O''Brien\\homecloud\\dist'");
    expect(readersOf(`${ANNA}\r\nS-1-5-18\r\nS-1-5-11\r\n\r\n`)).toEqual([ANNA, 'S-1-5-18', 'S-1-5-11']);
  });

  it('makes a folder owner-only through the runner, and removes any other reader left explicitly', () => {
    const w = windows({ 'C:\\p\\.homecloud': [ANNA, 'S-1-1-0'] });
    const acl = w.acl;
    // An explicit grant to Everyone survives /inheritance:r: it is removed by SID.
    const run = (cmd: string, args: string[]) => {
      const r = w.run(cmd, args);
      if (cmd === 'icacls' && args.includes('/inheritance:r')) acl[args[0]] = [ANNA, SYSTEM_SID, ADMINISTRATORS_SID, 'S-1-1-0'];
      if (cmd === 'icacls' && args.includes('/remove:g')) acl[args[0]] = [ANNA, SYSTEM_SID, ADMINISTRATORS_SID];
      return r;
    };
    expect(makeOwnerOnly('C:\\p\\.homecloud', run)).toBeUndefined();
    expect(w.calls.map((c) => c[0])).toEqual(['whoami', 'icacls', 'powershell', 'icacls']);
    expect(w.calls[3]).toEqual(['icacls', 'C:\\p\\.homecloud', '/remove:g', '*S-1-1-0']);
  });

  it('says what went wrong, naming the folder and the fix, when icacls refuses', () => {
    const run = (cmd: string) => (cmd === 'whoami' ? { code: 0, output: WHOAMI } : { code: 5, output: 'C:\\p\\dist: Access is denied.' });
    expect(makeOwnerOnly('C:\\p\\dist', run)).toMatch(/could not make C:\\p\\dist private to you \(Access is denied\.\).*user folder/s);
  });

  it('reports the folders other accounts can read, with the names Windows shows for well-known groups', () => {
    const w = windows({ 'C:\\p\\.homecloud': [ANNA, SYSTEM_SID], 'C:\\p\\dist': [ANNA, 'S-1-5-11', 'S-1-5-32-545'] });
    expect(exposedFolders(['C:\\p\\.homecloud', 'C:\\p\\dist'], w.run)).toEqual([{ folder: 'C:\\p\\dist', readers: ['Authenticated Users', 'Users'] }]);
  });

  it('synth on Windows makes .homecloud and dist owner-only (and on Linux never calls icacls)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-acl-'));
    const paths = { outdir: path.join(dir, 'dist'), credentials: path.join(dir, '.homecloud', 'credentials.json') };
    const w = windows();
    expect(synth({}, HOST, { ...paths, windowsAcl: w.run }, () => undefined)).toBe(0);
    expect(w.calls.filter((c) => c[0] === 'icacls' && c[2] === '/inheritance:r').map((c) => c[1]).sort()).toEqual([paths.credentials.replace(/[/\\]credentials\.json$/, ''), paths.outdir].sort());
    const linux = windows();
    expect(synth({}, HOST, paths, () => undefined)).toBe(0);
    expect(linux.calls).toEqual([]);
  });
});
