import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

// The layout is part of the design (README, "How the code is laid out"): a newcomer opens one
// folder of lib/ per concern and one file of client/commands/ per command, and none of them is
// too long to read in one sitting.
const ROOT = path.join(__dirname, '..', '..');
const MAX_FILE_LINES = 400;
const MAX_FUNCTION_LINES = 80;

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

const FILES = ['lib', 'client'].flatMap((d) => sources(path.join(ROOT, d)));
const rel = (f: string) => path.relative(ROOT, f);

/** Every function, method, arrow function and constructor longer than the limit: "file:line name (N lines)". */
function longFunctions(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = end - start + 1;
      const name = node.name && ts.isIdentifier(node.name) ? node.name.text : '(anonymous)';
      if (lines > MAX_FUNCTION_LINES) found.push(`${rel(file)}:${start + 1} ${name} (${lines} lines)`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

describe('the layout a newcomer reads', () => {
  it(`has no file in lib/ or client/ longer than ${MAX_FILE_LINES} lines`, () => {
    const long = FILES.map((f) => ({ f: rel(f), n: fs.readFileSync(f, 'utf8').split('\n').length - 1 }))
      .filter((x) => x.n > MAX_FILE_LINES).map((x) => `${x.f} (${x.n} lines)`);
    expect(long).toEqual([]);
  });

  it(`has no function in lib/ or client/ longer than ${MAX_FUNCTION_LINES} lines`, () => {
    expect(FILES.flatMap(longFunctions)).toEqual([]);
  });

  it('keeps each concern a user would name in one folder of lib/, its container scripts beside its constructs', () => {
    for (const concern of ['backup', 'database', 'https', 'nextcloud', 'updates', 'stack', 'config']) {
      expect([concern, fs.existsSync(path.join(ROOT, 'lib', concern))]).toEqual([concern, true]);
    }
    expect(fs.readdirSync(path.join(ROOT, 'lib')).filter((e) => e.endsWith('.ts'))).toEqual([]);
    expect(fs.existsSync(path.join(ROOT, 'lib', 'scripts'))).toBe(false);
  });

  it('has one file per command in client/commands/, each exporting its description, options and run', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { COMMANDS } = require('../../client/commands') as typeof import('../../client/commands');
    const files = fs.readdirSync(path.join(ROOT, 'client', 'commands')).filter((f) => f !== 'index.ts').map((f) => f.replace(/\.ts$/, '')).sort();
    expect(COMMANDS.map((c) => c.name).sort()).toEqual(files);
    for (const c of COMMANDS) {
      expect([c.name, typeof c.description, typeof c.run]).toEqual([c.name, 'string', 'function']);
    }
  });
});
