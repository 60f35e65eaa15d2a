import { Io } from './io';
import { Kube } from './kube';
import { Operation } from './maintenance';
import { HeldLock } from './maintenance-lock';

/** What the command line says, parsed (cli.ts) and checked. */
export interface Options {
  readonly command?: string;
  readonly context?: string;
  readonly namespace?: string;
  readonly output: 'text' | 'json';
  readonly dryRun: boolean;
  readonly wait: boolean;
  readonly timeoutSeconds?: number;
  readonly watch: boolean;
  readonly snapshot?: string;
  readonly to?: string;
  readonly from?: string;
  readonly keyFile?: string;
  readonly scheduleCopy: boolean;
  readonly yes: boolean;
  readonly force: boolean;
  readonly remove: boolean;
  readonly reset: boolean;
  readonly major?: number;
  readonly postgres?: number;
  readonly confirm: boolean;
  /** update: the nightly run of the PC's scheduled task (client/auto-update.ts). */
  readonly auto?: boolean;
  readonly help: boolean;
}

/** One option of the command line: `--name VALUE` (a string) or `--name` (a switch). */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  /** A one-letter alias (`-y`). */
  readonly short?: string;
  /** The value's placeholder in --help (`NAME`, `FOLDER`). */
  readonly value?: string;
  /** For --help: what it does, beginning with the command it is for where it is one command's. */
  readonly description: string;
}

/** One command of `homecloud` (one file in client/commands/). */
export interface Command {
  readonly name: string;
  /** For --help: what it does, in a line or two. */
  readonly description: string;
  /** The options only this command takes (the shared ones are in cli.ts). */
  readonly options: Record<string, OptionSpec>;
  /** False for a command that works on this PC alone (no Kubernetes needed). @default true */
  readonly needsCluster?: boolean;
  /**
   * The maintenance lock this run takes (client/maintenance.ts), for a command that changes data
   * or versions; undefined for one that only reads. cli.ts takes it around `run` and hands it in.
   */
  readonly lock?: (o: Options) => Operation | undefined;
  /** Waits for a running nightly backup without asking (the PC's copy copies what the night makes). */
  readonly waitsForNightly?: boolean;
  run(kube: Kube, o: Options, io: Io, lock?: HeldLock): Promise<number>;
}
