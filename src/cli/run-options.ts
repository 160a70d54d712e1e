// `s7supervisor run` options (design.md §1): a flag beats an environment variable beats the
// registry beats the default.
import { parseArgs } from 'node:util';
import type { RestartPolicy } from '../registry/model.js';
import { UsageError } from './errors.js';
import { parseErrorLine } from './options.js';

export const runHelp = `usage: s7supervisor run [options]
       s7supervisor run [options] -- CMD [ARG...]     (tini mode: supervise one command)

Supervises the components of the registry until SIGTERM/SIGINT; as PID 1 it also reaps orphans.

options:
  --registry FILE     the registry (else $S7SUPERVISOR_REGISTRY, else conf/SupervisorRegistry.xml under home)
  --home DIR          install folder relative paths resolve against (else $S7SUPERVISOR_HOME, else cwd)
  --port N            HTTP port for probes and metrics (else $S7SUPERVISOR_PORT, else <tcpport>, else 9910);
                      0 turns the HTTP server off
  --host ADDR         HTTP address (else $S7SUPERVISOR_HOST, else <host>, else 0.0.0.0)
  --socket PATH       control socket (else $S7SUPERVISOR_SOCKET, else <temp>/s7supervisor.sock)
  --log-level LEVEL   fatal|error|warn|info|debug|trace (else $LOG_LEVEL, else from <tracelevel>;
                      tini mode: else warn)
  --subreaper         become a child subreaper (the default when not PID 1)
  --restart POLICY    tini mode: always|on-failure|never (default never)
  --output MODE       tini mode: inherit (default: the child gets our stdio) or json
  -h, --help          this text

exit codes: 0 stopped on SIGTERM/SIGINT; 1 gave up (restart intensity exceeded);
  2 usage or registry error; 128+N forced stop by a second signal N;
  tini mode: the child's exit code, or 128+N when signal N killed it.`;

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof logLevels)[number];

export interface RunOptions {
  registry?: string;
  home?: string;
  port?: number;
  host?: string;
  socket?: string;
  logLevel?: LogLevel;
  subreaper: boolean;
  /** tini mode only */
  restart: RestartPolicy;
  output: 'inherit' | 'json';
  /** tini mode when present: the command and its arguments */
  command?: string[];
  help: boolean;
}

export function parseRunOptions(argv: string[], env: NodeJS.ProcessEnv): RunOptions {
  const dashDash = argv.indexOf('--');
  const own = dashDash === -1 ? argv : argv.slice(0, dashDash);
  const command = dashDash === -1 ? undefined : argv.slice(dashDash + 1);
  let values: ReturnType<typeof parse>['values'];
  let positionals: string[];
  try {
    ({ values, positionals } = parse(own));
  } catch (error) {
    throw new UsageError(`run: ${parseErrorLine('run', error, runOptionsConfig)}`);
  }
  if (positionals.length > 0)
    throw new UsageError(
      `run: unexpected argument '${positionals[0]}' (a command to supervise goes after --)`,
    );
  if (command !== undefined && command.length === 0) throw new UsageError('run: no command after --');
  const tini = command !== undefined;
  if (!tini && (values.restart !== undefined || values.output !== undefined))
    throw new UsageError('run: --restart and --output are for tini mode (run [options] -- CMD)');

  const restart = values.restart ?? 'never';
  if (restart !== 'always' && restart !== 'on-failure' && restart !== 'never')
    throw new UsageError(`run: --restart must be always, on-failure or never, not '${restart}'`);
  const output = values.output ?? 'inherit';
  if (output !== 'inherit' && output !== 'json')
    throw new UsageError(`run: --output must be inherit or json, not '${output}'`);
  const logLevel = values['log-level'] ?? env.LOG_LEVEL;
  if (logLevel !== undefined && !logLevels.includes(logLevel as LogLevel))
    throw new UsageError(`run: log level must be one of ${logLevels.join(', ')}, not '${logLevel}'`);

  const port = parsePort(
    values.port ?? env.S7SUPERVISOR_PORT,
    values.port !== undefined ? '--port' : 'S7SUPERVISOR_PORT',
  );
  const host = values.host ?? env.S7SUPERVISOR_HOST;
  const socket = values.socket ?? env.S7SUPERVISOR_SOCKET;
  return {
    ...(values.registry !== undefined ? { registry: values.registry } : {}),
    ...(values.home !== undefined ? { home: values.home } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(host ? { host } : {}),
    ...(socket ? { socket } : {}),
    ...(logLevel !== undefined ? { logLevel: logLevel as LogLevel } : {}),
    subreaper: values.subreaper ?? false,
    restart,
    output,
    ...(command !== undefined ? { command } : {}),
    help: values.help ?? false,
  };
}

const runOptionsConfig = {
  registry: { type: 'string' },
  home: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  socket: { type: 'string' },
  'log-level': { type: 'string' },
  subreaper: { type: 'boolean' },
  restart: { type: 'string' },
  output: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parse(args: string[]) {
  return parseArgs({ args, allowPositionals: true, strict: true, options: runOptionsConfig });
}

function parsePort(value: string | undefined, source: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535)
    throw new UsageError(`run: ${source} must be a port number 0-65535, not '${value}'`);
  return port;
}
