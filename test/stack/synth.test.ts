import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { synth } from '../../lib/stack/synth';
import { HOST } from '../support/stack';

const ROOT = path.join(__dirname, '..', '..');

describe('npm run synth', () => {
  it('writes the manifests and says where, on stderr', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-synth-'));
    const run = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'synth.js')], {
      cwd: ROOT, encoding: 'utf8',
      env: { ...process.env, HOMECLOUD_OUTDIR: path.join(dir, 'out'), HOMECLOUD_CREDENTIALS: path.join(dir, 'c.json') },
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/wrote .*app\.k8s\.yaml/);
    expect(fs.readFileSync(path.join(dir, 'out', 'app.k8s.yaml'), 'utf8')).toMatch(/^apiVersion: v1\nkind: Namespace/);
  });

  it('stops on a bad setting with the message only, no stack trace, exit code 1', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-synth-'));
    const out: string[] = [];
    const code = synth({ backup: { time: '2:30am' } }, HOST, { outdir: path.join(dir, 'out'), credentials: path.join(dir, 'c.json') }, (s) => out.push(s));
    expect(code).toBe(1);
    expect(out.join('')).toMatch(/^homecloud settings have 1 problem.*\n {2}- backup\.time = "2:30am" is not valid: use a 24-hour time "HH:MM"/);
    expect(out.join('')).not.toMatch(/\bat .*\.ts:\d+/);
    expect(fs.existsSync(path.join(dir, 'out'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'c.json'))).toBe(false);
  });
});
