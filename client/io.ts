import * as readline from 'readline';
import { UserFacingError } from '../lib/config/errors';

/** Exit codes: documented in --help and the README. */
export const EXIT = { OK: 0, UNHEALTHY: 1, COULD_NOT_RUN: 2 } as const;

/** Where commands write: results to `out` (stdout), progress and messages to `err` (stderr). */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Asks a yes/no style question on an interactive terminal; undefined when there is none. */
  ask?(question: string): Promise<string>;
  now(): Date;
  sleep(ms: number): Promise<void>;
}

/** Asks for the expected word unless --yes; without a terminal, says how to confirm. */
export async function confirm(io: Io, o: { readonly yes: boolean }, question: string, expected: string): Promise<void> {
  if (o.yes) return;
  if (!io.ask) throw new UserFacingError(`${question}\nThis needs a confirmation: run it in a terminal, or add --yes.`);
  const answer = (await io.ask(`${question}\nType "${expected}" to continue: `)).trim();
  if (answer !== expected) throw new UserFacingError('Not confirmed; nothing was changed.');
}

export function printJson(io: Io, value: unknown) {
  io.out(`${JSON.stringify(value, null, 2)}\n`);
}

/** The real terminal. */
export function processIo(): Io {
  const interactive = process.stdin.isTTY && process.stderr.isTTY;
  return {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    ask: interactive ? (q) => new Promise((resolve) => {
      const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
      rl.question(q, (a) => { rl.close(); resolve(a); });
    }) : undefined,
    now: () => new Date(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  };
}
