// `s7supervisor check`: validate the registry and print the resolved start plan. Exit 0 when it
// is valid, 2 with one line per problem when it is not, or when the command is misused.
import { RegistryError } from '../registry/errors.js';
import { loadRegistry } from '../registry/load.js';
import { locateRegistry } from '../registry/locate.js';
import { formatPlan } from '../registry/plan.js';
import { EXIT_USAGE } from '../supervisor/exit-codes.js';
import { parseCommandOptions, registryOptions, registryOptionsHelp } from './options.js';

export const checkHelp = `usage: s7supervisor check [--registry FILE] [--home DIR]

Validates the registry and prints the resolved start plan: the config, then the priority groups in
start order with each server's command line, working directory, checks, stop signal and timeout,
restart policy, the servers it starts after (dependsOn, with the condition), its kind, schedule and
next run, memory limit and env files, then the shutdown order. Environment variables and env files
are shown by name: their values never are.

options:
${registryOptionsHelp}

exit codes: 0 the registry is valid; 2 it is not (one line per problem on stderr), or usage error.`;

export async function checkCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandOptions('check', argv, registryOptions, { usage: checkHelp });
  if (values.help) {
    process.stdout.write(`${checkHelp}\n`);
    return 0;
  }
  const { file, home } = locateRegistry(values, process.env);
  try {
    const registry = loadRegistry(file, home, process.env);
    process.stdout.write(formatPlan(registry));
    return 0;
  } catch (error) {
    if (!(error instanceof RegistryError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return EXIT_USAGE;
  }
}
