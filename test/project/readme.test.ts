import * as fs from 'fs';
import * as path from 'path';

// The README is what a family follows, usually by copying commands into PowerShell. PowerShell
// itself cannot be installed here, so this reads each command with PowerShell's quoting rules:
// enough to catch broken quotes, brackets and stray characters, not a full parser.
const README = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');

function powershellBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^( *)```powershell\n([\s\S]*?)^\1```$/gm)].map((m) => m[2].replace(new RegExp(`^${m[1]}`, 'gm'), ''));
}

/** Why a line would not parse as a PowerShell command, or undefined. */
export function powershellProblem(line: string): string | undefined {
  const closing: string[] = [];
  const pairs: Record<string, string> = { '(': ')', '{': '}', '[': ']' };
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '#' && (i === 0 || /\s/.test(line[i - 1])) && closing.length === 0) break; // a comment
    if (c === '`') { i++; continue; } // PowerShell's escape character
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) return `unterminated '…' string at column ${i + 1}`;
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      while (j < line.length && line[j] !== '"') j += line[j] === '`' ? 2 : 1;
      if (j >= line.length) return `unterminated "…" string at column ${i + 1}`;
      const inner = line.slice(i + 1, j);
      const unbalanced = powershellProblem(inner.replace(/[^${}()]/g, ' ').replace(/\$/g, ' '));
      if (unbalanced) return `inside the string at column ${i + 1}: ${unbalanced}`;
      i = j;
    } else if (pairs[c]) {
      closing.push(pairs[c]);
    } else if (Object.values(pairs).includes(c)) {
      if (closing.pop() !== c) return `unbalanced "${c}" at column ${i + 1}`;
    }
  }
  return closing.length ? `"${closing[closing.length - 1]}" missing` : undefined;
}

describe('README', () => {
  it('has no control characters (an escaped "\\2" once became an invisible U+0082)', () => {
    const bad = [...README].map((c, i) => [c.codePointAt(0)!, i]).filter(([code]) => (code < 0x20 && code !== 0x0a) || (code >= 0x7f && code <= 0x9f));
    expect(bad.map(([code, at]) => `U+${code.toString(16).padStart(4, '0')} at ${README.slice(0, at).split('\n').length}`)).toEqual([]);
  });

  const commands = powershellBlocks(README).flatMap((block) => block.split('\n')).filter((l) => l.trim() && !l.trim().startsWith('#'));

  it('shows PowerShell commands', () => expect(commands.length).toBeGreaterThan(20));

  it.each(commands)('parses: %s', (line) => {
    expect(powershellProblem(line)).toBeUndefined();
    // Each command starts with a program, a cmdlet or a variable assignment.
    expect(line).toMatch(/^(npm|kubectl|node|New-NetFirewallRule|Set-Location|\$[A-Za-z]+ = )/);
  });

  it('names only npm scripts that exist (npm run offsite was once documented before it was a script)', () => {
    const scripts = Object.keys(JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')).scripts);
    const named = [...new Set([...README.matchAll(/npm run ([a-z][a-z-]*)/g)].map((m) => m[1]))];
    expect(named.length).toBeGreaterThan(8);
    expect(named.filter((n) => !scripts.includes(n))).toEqual([]);
  });

  it('never writes a Windows path right after a kubectl cp source (kubectl reads "D:" as a pod)', () => {
    expect(commands.filter((l) => /kubectl cp .* [A-Za-z]:\\/.test(l))).toEqual([]);
  });

  it('gives the test command', () => expect(README).toMatch(/^npm test\b/m));
});

describe('the PowerShell reader itself', () => {
  it.each([
    ['kubectl cp "homecloud/${pod}:/x" y', undefined],
    ["$pod = kubectl get pod -o jsonpath='{.items[0].metadata.name}'", undefined],
    ['kubectl cp "homecloud/${pod:/x" y', 'inside the string at column 12: "}" missing'],
    ["kubectl get pod -o jsonpath='{.items[0]", "unterminated '…' string at column 29"],
    ['npm run x -- (a', '")" missing'],
  ])('%s → %s', (line, problem) => expect(powershellProblem(line)).toBe(problem));
});
