/**
 * The command line: parses argv with Node's own util.parseArgs, builds --help from the commands'
 * own descriptions (client/commands/, one file each), and dispatches. Nothing else lives here.
 */
import { parseArgs as parseArgv } from 'util';
import { UserFacingError } from '../lib/config/errors';
import { Options, OptionSpec } from './command';
import { COMMANDS } from './commands';
import { EXIT, Io } from './io';
import { Kube, connect } from './kube';
import { withLock } from './maintenance-lock';
import { namespaceOf } from './project';

// bin/homecloud.js takes the terminal from here, with run().
export { processIo } from './io';

/** The options every command may be given (each command adds its own). */
const SHARED_OPTIONS: Record<string, OptionSpec> = {
  context: { type: 'string', value: 'NAME', description: 'act on this Kubernetes context instead of docker-desktop' },
  namespace: { type: 'string', value: 'NS', description: 'the namespace (default: the one in dist/, else homecloud)' },
  output: { type: 'string', short: 'o', value: 'json', description: 'machine-readable results (status, deploy, backup)' },
  'dry-run': { type: 'boolean', description: 'deploy: show what would change, using the server; update: only check' },
  timeout: { type: 'string', value: 'SECS', description: 'how long to wait (deploy: 1800, uninstall: 600; backup: as long as backup.timeout lets it run)' },
  snapshot: { type: 'string', value: 'NAME', description: 'restore/export: which snapshot (default: the newest)' },
  to: { type: 'string', value: 'FOLDER', description: 'export, offsite: where to copy it (e.g. D:\\homecloud-backups)' },
  yes: { type: 'boolean', short: 'y', description: 'do not ask for confirmation (restore, uninstall)' },
  force: { type: 'boolean', description: 'deploy: even when Kubernetes looks too small for it; upgrade: even when an app has no release for the new major' },
};
const HELP_OPTION: Record<string, OptionSpec> = { help: { type: 'boolean', short: 'h', description: 'this text' } };
const ALL_OPTIONS: Record<string, OptionSpec> = Object.assign({}, SHARED_OPTIONS, ...COMMANDS.map((c) => c.options), HELP_OPTION);

/** Words wrapped to `width` columns, each line after the first indented by `indent`. */
function wrap(text: string, indent: number, width = 79): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && indent + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  return lines.join(`\n${' '.repeat(indent)}`);
}

/** --help, from the commands' and options' own descriptions, so it cannot drift from them. */
function helpText(): string {
  const column = 19;
  const row = (left: string, text: string) => `  ${left.padEnd(column - 3)} ${wrap(text, column)}`;
  const optionLeft = (name: string, o: OptionSpec) => `--${name}${o.value ? ` ${o.value}` : ''}`;
  return `homecloud — install, check, back up and remove your home cloud

Usage: npm run <command> [-- options]     (or: npx homecloud <command> [options])

Commands:
${COMMANDS.map((c) => row(c.name, c.description)).join('\n')}

Options:
${Object.entries(ALL_OPTIONS).map(([name, o]) => row(optionLeft(name, o), o.description)).join('\n')}

Exit codes: 0 healthy / done, 1 not healthy, 2 could not run.
Results go to standard output, progress and messages to standard error.
`;
}

/** util.parseArgs's own errors, in this program's words. */
function explainParseError(e: Error & { code?: string }): UserFacingError {
  const option = /'(?:-\w, )?(-[^' ]+)/.exec(e.message)?.[1] ?? '';
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return new UserFacingError(`unknown option ${option} (see --help)`);
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    return new UserFacingError(ALL_OPTIONS[option.replace(/^-+/, '')]?.type === 'boolean' || /does not take an argument/.test(e.message)
      ? `${option} takes no value (see --help)` : `${option} needs a value (see --help)`);
  }
  return new UserFacingError(`${e.message} (see --help)`);
}

/** A whole number ≥ 1 for --major/--postgres, or a user-facing error naming the flag. */
function majorOption(flag: '--major' | '--postgres', v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) {
    throw new UserFacingError(`${flag} takes a major version such as ${flag === '--major' ? '35 (Nextcloud)' : '19 (PostgreSQL)'}, not "${v}"`);
  }
  return n;
}

/** Parses argv; throws a UserFacingError naming the bad argument. Pure. */
export function parseArgs(argv: string[]): Options {
  let parsed: ReturnType<typeof parseArgv>;
  try {
    parsed = parseArgv({ args: argv, options: ALL_OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    throw explainParseError(e as Error);
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  const str = (k: string) => v[k] as string | undefined;
  const flag = (k: string) => v[k] === true;
  const [command, second] = parsed.positionals;
  if (second !== undefined) throw new UserFacingError(`one command at a time: "${command}" and "${second}" (see --help)`);
  if (command !== undefined && !COMMANDS.some((c) => c.name === command)) {
    throw new UserFacingError(`unknown command "${command}"; commands: ${COMMANDS.map((c) => c.name).join(', ')}`);
  }
  const output = str('output') ?? 'text';
  if (output !== 'json' && output !== 'text') throw new UserFacingError(`--output takes "json" or "text", not "${output}"`);
  const timeout = str('timeout');
  if (timeout !== undefined && !(Number.isFinite(Number(timeout)) && Number(timeout) > 0)) {
    throw new UserFacingError(`--timeout takes a number of seconds, not "${timeout}"`);
  }
  const snapshot = str('snapshot');
  if (snapshot && !/^\d{4}-\d\d-\d\dT\d{6}Z$/.test(snapshot)) {
    throw new UserFacingError(`--snapshot takes a snapshot name like 2026-11-26T013000Z, not "${snapshot}"`);
  }
  return {
    command, context: str('context'), namespace: str('namespace'), output, dryRun: flag('dry-run'), wait: !flag('no-wait'),
    timeoutSeconds: timeout === undefined ? undefined : Number(timeout), watch: flag('watch'), snapshot, to: str('to'), from: str('from'),
    keyFile: str('key-file'), scheduleCopy: flag('schedule-copy'), yes: flag('yes'), force: flag('force'), remove: flag('remove'),
    reset: flag('reset'), major: majorOption('--major', str('major')), postgres: majorOption('--postgres', str('postgres')),
    confirm: flag('confirm'), auto: flag('auto'), help: flag('help'),
  };
}

/** Runs one command; returns the exit code. Never throws for a user's or the cluster's problem. */
export async function run(argv: string[], io: Io, connectTo: typeof connect = connect): Promise<number> {
  try {
    const o = parseArgs(argv);
    const command = COMMANDS.find((c) => c.name === o.command);
    if (o.help || !command) {
      (o.help ? io.out : io.err)(helpText());
      return o.help ? EXIT.OK : EXIT.COULD_NOT_RUN;
    }
    const kube = command.needsCluster === false ? undefined! : await connectTo({ context: o.context });
    const op = command.lock?.(o);
    // Nothing installed: nothing to protect, and no namespace to hold the lock in.
    if (!op || !(await kube.get(`/api/v1/namespaces/${namespaceOf(o)}`))) return await command.run(kube, o, io);
    return await withLock(kube as Kube, namespaceOf(o), op, io, { yes: o.yes || command.waitsForNightly === true }, (lock) => command.run(kube, o, io, lock));
  } catch (e) {
    if (e instanceof UserFacingError) {
      io.err(`homecloud: ${e.message}\n`);
      return EXIT.COULD_NOT_RUN;
    }
    throw e;
  }
}
