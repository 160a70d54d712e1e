#!/usr/bin/env node
// Entry point: picks the command and turns its result into an exit code. Each command lives in
// its own module and returns the exit code; user mistakes surface as one readable line.
import { closest } from '../registry/values.js';
import { EXIT_INTERNAL_ERROR, EXIT_USAGE } from '../supervisor/exit-codes.js';
import { holdEarlySignals } from './early-signals.js';
import { UsageError } from './errors.js';

// first, before anything is loaded: a supervisor must not lose a signal that comes early
if (process.argv[2] === 'run') holdEarlySignals();

type Command = (argv: string[]) => Promise<number>;

const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  run: {
    summary: 'supervise the components of a registry (or one command after --)',
    load: async () => (await import('./run.js')).runCommand,
  },
  check: {
    summary: 'validate the registry and print the resolved start plan',
    load: async () => (await import('./check.js')).checkCommand,
  },
  status: {
    summary: 'show the components of the running supervisor (id, state, pid, uptime, memory, restarts)',
    load: async () => (await import('./status.js')).statusCommand,
  },
  start: {
    summary: 'start a component of the running supervisor',
    load: async () => (await import('./component-control.js')).startCommand,
  },
  stop: {
    summary: 'stop a component; it stays stopped until started again',
    load: async () => (await import('./component-control.js')).stopCommand,
  },
  restart: {
    summary: 'restart a component (no ID: every component)',
    load: async () => (await import('./component-control.js')).restartCommand,
  },
  logs: {
    summary: 'print the last lines the components printed, merged in time order (-f to follow)',
    load: async () => (await import('./logs.js')).logsCommand,
  },
  reload: {
    summary: 're-read the registry in the running supervisor (as SIGHUP) and apply the difference',
    load: async () => (await import('./reload.js')).reloadCommand,
  },
  signal: {
    summary: "send a signal (HUP, USR1, a number...) to a component's process group",
    load: async () => (await import('./signal.js')).signalCommand,
  },
  convert: {
    summary: 'print a registry equivalent to a supervisord.conf, a Procfile or a process-compose.yaml',
    load: async () => (await import('./convert.js')).convertCommand,
  },
  probe: {
    summary: 'exit 0 if the livez or readyz endpoint answers 200 (for a Docker HEALTHCHECK)',
    load: async () => (await import('./probe.js')).probeCommand,
  },
};

/** what main answers itself, listed with the commands */
const builtins: Record<string, string> = {
  help: "this list, or a command's help (help COMMAND)",
  version: 'print the version',
};

function usage(): string {
  const entries = [
    ...Object.entries(commands).map(([name, { summary }]) => [name, summary]),
    ...Object.entries(builtins),
  ];
  const width = Math.max(...entries.map(([name = '']) => name.length));
  return [
    'usage: s7supervisor <command> [options]',
    '',
    'commands:',
    ...entries.map(([name = '', summary]) => `  ${name.padEnd(width)}  ${summary}`),
    '',
    "Run 's7supervisor help <command>' (or '<command> --help') for a command's options.",
  ].join('\n');
}

/** a mistyped command: one line, with the command it is closest to */
function unknownCommand(name: string): UsageError {
  const names = [...Object.keys(commands), ...Object.keys(builtins)];
  const near = closest(name.replace(/^-+/, ''), names) ?? closest(name, ['--help', '--version']);
  return new UsageError(
    `unknown command '${name}' (${near ? `did you mean ${near}?` : `the commands are ${names.join(', ')}`})`,
  );
}

async function help(topics: string[]): Promise<number> {
  const [topic, ...extra] = topics;
  if (extra.length > 0) throw new UsageError(`help: one command at a time, not also '${extra[0]}'`);
  if (topic === undefined || topic === 'help') {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  if (topic === 'version') {
    process.stdout.write(
      'usage: s7supervisor version\n\nPrints the version of s7supervisor (also: --version).\n',
    );
    return 0;
  }
  const command = commands[topic];
  if (!command) throw unknownCommand(topic);
  // each command prints its own help for --help: one text, wherever it is asked for
  return (await command.load())(['--help']);
}

async function printVersion(args: string[]): Promise<number> {
  if (args.length > 0) throw new UsageError(`version: unexpected argument '${args[0]}'`);
  const { version } = await import('../meta/version.js');
  process.stdout.write(`${version}\n`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stdout.write(`${usage()}\n`);
    return EXIT_USAGE;
  }
  if (name === 'help' || name === '--help' || name === '-h') return help(rest);
  if (name === 'version' || name === '--version' || name === '-V') return printVersion(rest);
  const command = commands[name];
  if (!command) throw unknownCommand(name);
  return (await command.load())(rest);
}

const argv = process.argv.slice(2);
main(argv).then(
  (code) => {
    process.exitCode = code;
    // `run` has flushed what it could within its bounds: a write still pending to a reader that
    // does not read (or a client that does not hang up) must not keep a PID 1 alive
    if (process.argv[2] === 'run') process.exit(code);
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      // "run: unknown option ..." from the run command reads "s7supervisor run: unknown option ..."
      const name = argv[0] === '--help' || argv[0] === '-h' ? 'help' : argv[0];
      const own = name !== undefined && error.message.startsWith(`${name}: `);
      process.stderr.write(`s7supervisor${own ? ' ' : ': '}${error.message}\n`);
      process.exitCode = EXIT_USAGE;
      return;
    }
    // A bug of ours, not a user's mistake: the stack is what a maintainer needs.
    process.stderr.write(
      `s7supervisor: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = EXIT_INTERNAL_ERROR;
  },
);
