// eslint-disable-next-line @typescript-eslint/no-require-imports
const { environmentProblem, nodeProblem } = require('../../scripts/preflight') as {
  environmentProblem(e: unknown): string | undefined;
  nodeProblem(version: string, minimumMajor: number): string | undefined;
};

describe('preflight: a broken environment in one sentence', () => {
  it('accepts the Node.js that engines allows', () => expect(nodeProblem('20.20.2', 20)).toBeUndefined());
  it('names an older Node.js and the fix', () => {
    expect(nodeProblem('v18.19.0', 20)).toBe('homecloud needs Node.js 20 or newer; this PC runs Node.js 18.19.0. '
      + 'Install the current LTS from nodejs.org, then run `npm ci --omit=dev` again.');
  });
  it('names a missing package', () => {
    const e = Object.assign(new Error("Cannot find module 'esbuild'\nRequire stack:\n- /x/scripts/ts-register.js"), { code: 'MODULE_NOT_FOUND' });
    expect(environmentProblem(e)).toMatch(/^homecloud cannot start: the package esbuild is missing from node_modules\. Run `npm ci --omit=dev` in /);
  });
  it('names the package of a missing file inside node_modules', () => {
    const e = Object.assign(new Error("Cannot find module '/x/node_modules/@kubernetes/client-node/dist/config.js'"), { code: 'MODULE_NOT_FOUND' });
    expect(environmentProblem(e)).toMatch(/the package @kubernetes\/client-node is missing/);
  });
  it('calls a missing file of homecloud itself a damaged checkout', () => {
    const e = Object.assign(new Error("Cannot find module '../client/cli.ts'"), { code: 'MODULE_NOT_FOUND' });
    expect(environmentProblem(e)).toBe('homecloud cannot start: its own file ../client/cli.ts is missing. Unpack or clone the project again.');
  });
  it('leaves homecloud\'s own errors alone (they are reported as bugs)', () => {
    expect(environmentProblem(new TypeError('x is undefined'))).toBeUndefined();
  });
});
