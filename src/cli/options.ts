// Option parsing shared by the commands: node:util parseArgs in strict mode, its errors turned
// into a UsageError (exit 2, one line, the command's usage after it), and the registry location
// flags every registry-reading command takes.
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { closest } from '../registry/values.js';
import { UsageError } from './errors.js';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** --registry, --home and --help, as `check` and `run` take them */
export const registryOptions = {
  registry: { type: 'string' },
  home: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionsConfig;

export const registryOptionsHelp = `  --registry FILE     the registry (else $S7SUPERVISOR_REGISTRY, else conf/SupervisorRegistry.xml under home)
  --home DIR          install folder relative paths resolve against (else $S7SUPERVISOR_HOME, else cwd)
  -h, --help          this text`;

/**
 * Parses `argv` for `command`. Positionals are refused unless `allowPositionals`; an empty value
 * for a string option ("--home ''") is refused, as it is never what was meant.
 */
export function parseCommandOptions<const O extends OptionsConfig>(
  command: string,
  argv: string[],
  options: O,
  { usage, allowPositionals = false }: { usage: string; allowPositionals?: boolean },
) {
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>
  >;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${command}: ${parseErrorLine(command, error, options)}`);
  }
  if (!allowPositionals && parsed.positionals.length > 0) {
    throw new UsageError(`${command}: unexpected argument '${parsed.positionals[0]}'\n\n${usage}`);
  }
  for (const [name, value] of Object.entries(parsed.values)) {
    if (value === '') throw new UsageError(`${command}: --${name} needs a value`);
  }
  return parsed;
}

/**
 * One line for what node:util parseArgs refused, in our words: its own text talks about
 * positionals after '--' and `<value>` placeholders, which is not what a mistyped flag needs.
 */
export function parseErrorLine(command: string, error: unknown, options: OptionsConfig): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const quoted = /'([^']*)'/.exec(message)?.[1] ?? '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const hint = suggestOption(quoted, options);
    return `unknown option '${quoted}' (${hint ? `did you mean ${hint}?` : `see s7supervisor help ${command}`})`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const name = /--[A-Za-z0-9-]+/.exec(quoted)?.[0] ?? quoted;
    return message.includes('does not take an argument') ? `${name} takes no value` : `${name} needs a value`;
  }
  return message.split('\n')[0] ?? message;
}

/** the option meant by a mistyped one: the closest long name, or the one long name a short letter starts */
function suggestOption(given: string, options: OptionsConfig): string | undefined {
  const names = Object.keys(options);
  if (given.startsWith('--')) {
    const near = closest(given.slice(2), names);
    return near === undefined ? undefined : `--${near}`;
  }
  const letter = given.slice(1);
  const starting = names.filter((name) => name.startsWith(letter));
  return letter.length === 1 && starting.length === 1 ? `--${starting[0]}` : undefined;
}
