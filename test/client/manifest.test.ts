import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseManifest } from '../../client/manifest';
import { verifySnapshotFolder } from '../../client/commands/export';
import { applets } from '../support/busybox';
import { commands, describeWhen } from '../support/requirements';
import { scriptPath } from '../../lib/config/container-scripts';

describe('parseManifest', () => {
  it('reads plain and escaped lines, names as bytes', () => {
    const sum = 'a'.repeat(64);
    const text = Buffer.concat([
      Buffer.from(`${sum}  data/plain name.txt\n\\${sum}  data/line\\nbreak \\\\ and\\r\n${sum}  bad-`),
      Buffer.from([0xff]), Buffer.from('\n'),
    ]);
    const [plain, escaped, invalid] = parseManifest(text);
    expect(plain.name.toString()).toBe('data/plain name.txt');
    expect(escaped.name.toString()).toBe('data/line\nbreak \\ and\r');
    expect(escaped.key).toBe('data/line\\nbreak \\\\ and\\r');
    expect(invalid.name).toEqual(Buffer.concat([Buffer.from('bad-'), Buffer.from([0xff])]));
  });
  it('says which line is not a checksum line', () => {
    expect(() => parseManifest(Buffer.from('not a sum\n'))).toThrow(/MANIFEST: not a checksum line: not a sum/);
  });
});

describeWhen(commands(['busybox'], 'apt-get install busybox'), 'an exported snapshot folder with hard names', () => {
  it('is verified by the client exactly as manifest.sh wrote it, and rot is named', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-manifest-'));
    const files = path.join(dir, 'files');
    fs.mkdirSync(path.join(files, 'data'), { recursive: true });
    const names = [Buffer.from('data/Geburtstag Müller.jpg'), Buffer.from('data/line\nbreak'), Buffer.from('data/back\\slash'),
      Buffer.concat([Buffer.from('data/x'), Buffer.from([0xfe])])];
    names.forEach((n, i) => fs.writeFileSync(Buffer.concat([Buffer.from(files + '/'), n]), `file ${i}`));
    fs.writeFileSync(path.join(dir, 'database.dump'), 'dump');
    execFileSync('sh', ['-c', 'sha256sum database.dump > database.sha256'], { cwd: dir });
    const manifest = execFileSync('busybox', ['sh', '-c', `cd files && find . -type f -print0 | sh ${scriptPath('backup/manifest.sh')} sum .`],
      { cwd: dir, env: { PATH: `${applets()}:/usr/bin:/bin`, LC_ALL: 'C' } });
    fs.writeFileSync(path.join(dir, 'MANIFEST'), manifest);
    expect(await verifySnapshotFolder(dir)).toEqual([]);
    fs.writeFileSync(Buffer.concat([Buffer.from(files + '/'), names[1]]), 'rotten');
    expect(await verifySnapshotFolder(dir)).toEqual(['data/line\\nbreak']);
  });
});
