#!/usr/bin/env node
// Entry point: picks the command and turns its result into an exit code. Each command lives in
// its own module and returns the exit code; user mistakes surface as one readable line.
import { UsageError } from './errors.js';

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
  reload: {
    summary: 're-read the registry in the running supervisor (as SIGHUP) and apply the difference',
    load: async () => (await import('./reload.js')).reloadCommand,
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

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  return [
    'usage: s7supervisor <command> [options]',
    '',
    'commands:',
    ...Object.entries(commands).map(([name, { summary }]) => `  ${name.padEnd(width)}  ${summary}`),
    '',
    "Run 's7supervisor <command> --help' for a command's options.",
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    const { version } = await import('./version.js');
    process.stdout.write(`${version}\n`);
    return 0;
  }
  const command = commands[name];
  if (!command) throw new UsageError(`unknown command '${name}'\n\n${usage()}`);
  return (await command.load())(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`s7supervisor: ${error.message}\n`);
      process.exitCode = 2;
      return;
    }
    // A bug of ours, not a user's mistake: the stack is what a maintainer needs.
    process.stderr.write(
      `s7supervisor: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 70;
  },
);
