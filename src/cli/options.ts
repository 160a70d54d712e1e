// Option parsing shared by the commands: node:util parseArgs in strict mode, its errors turned
// into a UsageError (exit 2, one line, the command's usage after it), and the registry location
// flags every registry-reading command takes.
import { type ParseArgsConfig, parseArgs } from 'node:util';
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
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(`${command}: ${message.split('\n')[0]}\n\n${usage}`);
  }
  if (!allowPositionals && parsed.positionals.length > 0) {
    throw new UsageError(`${command}: unexpected argument '${parsed.positionals[0]}'\n\n${usage}`);
  }
  for (const [name, value] of Object.entries(parsed.values)) {
    if (value === '') throw new UsageError(`${command}: --${name} needs a value`);
  }
  return parsed;
}
