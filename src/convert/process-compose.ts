// process-compose.yaml to registry servers. Commands run through process-compose's shell (bash -c
// unless `shell:` says otherwise; here /bin/sh -c, which every image has) unless they are plain
// words; depends_on becomes <dependsOn> with the condition it names, and a process others wait to
// complete a oneshot. Every process has the same startPriority: the dependencies alone order the
// start, as in process-compose (a priority level per depth would also hold a process back for
// unrelated ones of the level before). Probes, availability and shutdown map onto checks,
// restart and stop settings. What has no equivalent becomes a note (an XML comment).

import { constants } from 'node:os';
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { DependencyCondition } from '../registry/model.js';
import { composeParts, isLiteral, type Part, registryText } from './compose-variables.js';
import {
  type Amount,
  ConvertError,
  type ConvertedCheck,
  type ConvertedRegistry,
  type ConvertedServer,
  literal,
  uniqueIds,
} from './model.js';
import { fromShellLine } from './shell.js';

type Path = Array<string | number>;

/** the parsed file, with the line of any value for messages */
class Source {
  readonly lines = new LineCounter();
  readonly document;
  expandVariables = true;

  constructor(
    readonly file: string,
    text: string,
  ) {
    this.document = parseDocument(text, { lineCounter: this.lines, prettyErrors: false });
    const error = this.document.errors[0];
    if (error) {
      throw new ConvertError(
        file,
        this.lines.linePos(error.pos[0]).line,
        `not valid YAML: ${error.message.split('\n')[0]}`,
      );
    }
  }

  /** the line of the setting at `path` (of its name, in a mapping), or of the nearest one above it */
  line(path: Path): number | undefined {
    for (let depth = path.length; depth > 0; depth--) {
      const parent =
        depth === 1 ? this.document.contents : this.document.getIn(path.slice(0, depth - 1), true);
      const last = path[depth - 1];
      const node = isMap(parent)
        ? (parent.items.find((pair) => isScalar(pair.key) && pair.key.value === last)?.key as
            | Node
            | undefined)
        : isSeq(parent) && typeof last === 'number'
          ? (parent.items[last] as Node | undefined)
          : undefined;
      if (node?.range) return this.lines.linePos(node.range[0]).line;
    }
    return undefined;
  }

  fail(path: Path, reason: string): never {
    throw new ConvertError(this.file, this.line(path), `${path.join('.')}: ${reason}`);
  }

  value(path: Path): unknown {
    const node = this.document.getIn(path, true) as Node | undefined;
    return node === undefined ? undefined : (node.toJSON() as unknown);
  }

  keys(path: Path): string[] {
    const node = path.length === 0 ? this.document.contents : this.document.getIn(path, true);
    if (node === undefined || node === null) return [];
    if (!isMap(node)) this.fail(path, 'expected a mapping of settings');
    return node.items.map((pair) => String((pair.key as Node | null)?.toJSON() ?? pair.key));
  }

  /** a text setting, its variables resolved as process-compose does when it loads the file */
  parts(path: Path): Part[] | undefined {
    const value = this.value(path);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean')
      this.fail(path, 'expected a text value');
    if (!this.expandVariables) return [String(value)];
    try {
      return composeParts(String(value));
    } catch (error) {
      return this.fail(path, (error as Error).message);
    }
  }

  text(path: Path): string | undefined {
    const parts = this.parts(path);
    return parts === undefined ? undefined : registryText(parts);
  }

  /** a number of seconds or a count, or a variable standing for one */
  amount(path: Path, { min = 0 } = {}): Amount | undefined {
    const value = this.value(path);
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'number' && Number.isFinite(value) && value >= min) return value;
    if (typeof value === 'string') {
      if (/^\d+(\.\d+)?$/.test(value.trim()) && Number(value) >= min) return Number(value);
      const parts = this.parts(path) ?? [];
      if (parts.length === 1 && typeof parts[0] === 'object') return `\${${parts[0].env}}`;
    }
    return this.fail(
      path,
      `expected a number${min > 0 ? ` of at least ${min}` : ''}, got ${JSON.stringify(value)}`,
    );
  }

  list(path: Path): unknown[] | undefined {
    const node = this.document.getIn(path, true);
    if (node === undefined || node === null) return undefined;
    if (!isSeq(node)) this.fail(path, 'expected a list');
    return node.items.map((item) => (item as Node | null)?.toJSON() as unknown);
  }
}

function shown(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  const flat = (text ?? '').replace(/\s+/g, ' ');
  return flat.length > 80 ? `${flat.slice(0, 77)}...` : flat;
}

/** why a process setting has no equivalent */
const processReasons: Record<string, string> = {
  env_file: "the file is not read: put its variables in <environment>, or in the supervisor's environment",
  ready_log_line: 'readiness does not come from log lines here: give it a readiness check',
  is_daemon: 'a server must stay in the foreground: run it without daemonizing',
  log_location: "output goes to the supervisor's stdout, one JSON log record per line",
  log_configuration: "output goes to the supervisor's stdout, one JSON log record per line",
  namespace: 'there are no namespaces',
  is_tty: 'components get pipes, not a terminal',
  is_interactive: 'components get no standard input',
  is_foreground: 'every server runs in the background of the supervisor',
  is_elevated: 'run the supervisor as root, and use <user> for the servers that must not be',
  launch_timeout_seconds: 'a program that cannot be started is fatal at once',
  vars: 'there are no templates: {{.NAME}} stays as written',
  is_template_disabled: 'there are no templates',
  schedule: 'there are no scheduled runs yet',
  watch: 'files are not watched: restart with s7supervisor restart ID',
  success_exit_codes: 'on-failure counts only exit code 0 as a success',
  disable_ansi_colors: 'output is passed on as written',
  extends: 'extends is not followed: convert the file it names too',
  is_dotenv_disabled: 'no .env file is read',
  monitor_for: 'output is not monitored',
  monitor_silence_threshold: 'output is not monitored',
  mcp: 'there is no MCP server',
  truncate_log: "output goes to the supervisor's stdout",
};

const topReasons: Record<string, string> = {
  log_location: 'the supervisor logs JSON lines to stdout; <log> in <config> adds a daily file',
  log_level: "<tracelevel> in <config>, or run's log-level option",
  log_length: "output goes to the supervisor's stdout",
  log_configuration: 'the supervisor logs JSON lines to stdout',
  is_strict: 's7supervisor check validates a registry',
  is_tui_disabled: 'there is no TUI: the status page and s7supervisor status show the servers',
  vars: 'there are no templates: {{.NAME}} stays as written',
  env_cmds: 'no command is run to compute variables',
  extends: 'extends is not followed: convert the file it names too',
  is_dotenv_disabled: "no .env file is read: the supervisor's environment is",
  disable_env_expansion: '$NAME stays as written',
};

const processHandled = new Set([
  'command',
  'entrypoint',
  'description',
  'working_dir',
  'environment',
  'availability',
  'depends_on',
  'readiness_probe',
  'liveness_probe',
  'shutdown',
  'disabled',
  'replicas',
]);

const conditions = [
  'process_started',
  'process_healthy',
  'process_completed',
  'process_completed_successfully',
  'process_log_ready',
] as const;
type Condition = (typeof conditions)[number];

/** process-compose's condition → the registry's (design.md §3 rev. 2) */
const registryCondition: Record<Condition, DependencyCondition> = {
  process_started: 'started',
  process_healthy: 'ready',
  process_completed: 'completed',
  process_completed_successfully: 'succeeded',
  // no log lines here: the nearest is ready (its readiness check, or once started without one)
  process_log_ready: 'ready',
};

/** conditions that wait for a process to end: only a oneshot does */
const waitsForCompletion = (condition: Condition) =>
  registryCondition[condition] === 'completed' || registryCondition[condition] === 'succeeded';

interface Process {
  name: string;
  dependsOn: Array<{ name: string; condition: Condition; explicit: boolean }>;
  server: ConvertedServer;
  replicas: number;
}

/** `NAME=value` list entries (or a mapping, which process-compose's schema does not allow but people write) */
function environment(source: Source, path: Path): Array<[string, string]> {
  const node = source.document.getIn(path, true);
  if (node === undefined || node === null) return [];
  if (isMap(node)) return source.keys(path).map((name) => [name, source.text([...path, name]) ?? '']);
  const items = source.list(path) ?? [];
  return items.map((item, index): [string, string] => {
    const parts = source.parts([...path, index]) ?? [];
    const first = parts[0];
    if (typeof item !== 'string' || typeof first !== 'string' || !first.includes('='))
      return source.fail([...path, index], `expected "NAME=value", got ${JSON.stringify(item)}`);
    const equals = first.indexOf('=');
    return [first.slice(0, equals), registryText([first.slice(equals + 1), ...parts.slice(1)])];
  });
}

function isEmpty(parts: Part[]): boolean {
  return parts.every((part) => typeof part === 'string' && part.trim() === '');
}

/** the program and arguments of a command line run through process-compose's shell */
function shellCommand(parts: Part[], shell: [string, string]): { command: string; args: string[] } {
  if (isLiteral(parts)) {
    const line = fromShellLine(parts.join(''), shell);
    return { command: literal(line.command), args: line.args.map(literal) };
  }
  // a variable's value goes through the shell, as process-compose's expanded command line does
  return { command: literal(shell[0]), args: [literal(shell[1]), registryText(parts).trim()] };
}

function signalName(source: Source, path: Path): string | undefined {
  const value = source.value(path);
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') {
    const name = Object.entries(constants.signals).find(([, number]) => number === value)?.[0];
    if (name) return name;
  } else if (typeof value === 'string') {
    const upper = value.trim().toUpperCase();
    const name = /^\d+$/.test(upper)
      ? Object.entries(constants.signals).find(([, number]) => number === Number(upper))?.[0]
      : upper.startsWith('SIG')
        ? upper
        : `SIG${upper}`;
    if (name && Object.hasOwn(constants.signals, name)) return name;
  }
  return source.fail(path, `unknown signal ${JSON.stringify(value)}`);
}

function probe(
  source: Source,
  path: Path,
  shell: [string, string],
  workingDir: string | undefined,
  notes: string[],
  kind: string,
): ConvertedCheck | undefined {
  if (source.value(path) === undefined || source.value(path) === null) return undefined;
  const keys = source.keys(path);
  const check: Partial<ConvertedCheck> = {};
  for (const key of keys) {
    const at = [...path, key];
    switch (key) {
      case 'exec': {
        const parts = source.parts([...at, 'command']);
        if (parts === undefined || isEmpty(parts)) return source.fail(at, 'an exec probe needs a command');
        const ownDir = source.parts([...at, 'working_dir']);
        const dir = ownDir === undefined ? workingDir : isLiteral(ownDir) ? ownDir.join('') : undefined;
        if (ownDir !== undefined && dir === undefined)
          notes.push(`${kind}.exec.working_dir: holds a variable: the check runs in the supervisor's folder`);
        // process-compose runs the probe in the process's folder; the registry's exec checks run
        // in the supervisor's, so the shell changes folder first
        const line =
          dir === undefined ? parts : ['cd ', `'${dir.replaceAll("'", `'\\''`)}'`, ' && ', ...parts];
        const { command, args } = shellCommand(line, shell);
        Object.assign(check, { type: 'exec', command, args });
        for (const extra of source.keys(at))
          if (extra !== 'command' && extra !== 'working_dir')
            notes.push(`${kind}.exec.${extra}: no equivalent: not a process-compose setting`);
        break;
      }
      case 'http_get': {
        const host = source.text([...at, 'host']) ?? '127.0.0.1';
        const scheme = source.text([...at, 'scheme']) ?? 'http';
        const port = source.text([...at, 'port']);
        const pathText = source.text([...at, 'path']) ?? '/';
        check.type = 'http';
        check.url = `${scheme}://${host}${port ? `:${port}` : ''}${pathText.startsWith('/') ? '' : '/'}${pathText}`;
        for (const extra of source.keys(at)) {
          if (extra === 'headers')
            notes.push(`${kind}.http_get.headers: no equivalent: an http check sends no extra headers`);
          else if (extra === 'status_code')
            notes.push(
              `${kind}.http_get.status_code=${shown(source.value([...at, extra]))}: no equivalent: an http check passes on any answer from 200 to 399`,
            );
          else if (!['host', 'scheme', 'port', 'path', 'num_port'].includes(extra))
            notes.push(`${kind}.http_get.${extra}: no equivalent: not a process-compose setting`);
        }
        break;
      }
      case 'period_seconds':
        check.interval = source.amount(at, { min: 1 });
        break;
      case 'timeout_seconds':
        check.timeout = source.amount(at, { min: 1 });
        break;
      case 'failure_threshold':
        check.failureThreshold = source.amount(at, { min: 1 });
        break;
      case 'success_threshold': {
        const value = source.value(at);
        if (value !== 1)
          notes.push(`${kind}.success_threshold=${shown(value)}: no equivalent: one passing check is enough`);
        break;
      }
      case 'initial_delay_seconds': {
        const value = source.value(at);
        if (value !== 0)
          notes.push(
            `${kind}.initial_delay_seconds=${shown(value)}: no equivalent: the first check runs at once`,
          );
        break;
      }
      default:
        notes.push(`${kind}.${key}: no equivalent: not a process-compose probe setting`);
    }
  }
  if (check.type === undefined) source.fail(path, 'a probe needs exec or http_get');
  return check as ConvertedCheck;
}

function availability(source: Source, path: Path, server: ConvertedServer): void {
  const restart = source.value([...path, 'restart']) ?? 'no';
  const policies: Record<string, 'always' | 'on-failure' | 'never'> = {
    always: 'always',
    on_failure: 'on-failure',
    exit_on_failure: 'never',
    no: 'never',
  };
  const policy = typeof restart === 'string' ? policies[restart] : undefined;
  if (policy === undefined)
    source.fail(
      [...path, 'restart'],
      `expected always, on_failure, exit_on_failure or no, got ${JSON.stringify(restart)}`,
    );
  server.restart = { policy };
  if (restart === 'exit_on_failure')
    server.notes.push(
      'availability.restart=exit_on_failure: no equivalent: process-compose stops everything when it fails; here it is not restarted and the others run on',
    );
  const backoff = source.amount([...path, 'backoff_seconds']);
  if (backoff !== undefined && policy !== 'never') {
    // process-compose waits the same time before every restart
    server.restart.backoffInitial = backoff;
    server.restart.backoffMax = backoff;
  }
  for (const key of source.keys(path)) {
    if (key === 'restart' || key === 'backoff_seconds') continue;
    const value = shown(source.value([...path, key]));
    const reasons: Record<string, string> = {
      max_restarts:
        'there is no limit per server: <restartIntensity> in <config> bounds the restarts of all servers together, then the supervisor gives up',
      exit_on_end: 'the supervisor runs until it is stopped',
      exit_on_skipped: 'the supervisor runs until it is stopped',
    };
    server.notes.push(
      `availability.${key}=${value}: no equivalent: ${reasons[key] ?? 'not a process-compose setting'}`,
    );
  }
}

function shutdown(source: Source, path: Path, server: ConvertedServer): void {
  for (const key of source.keys(path)) {
    const at = [...path, key];
    if (key === 'signal') server.stopSignal = signalName(source, at);
    else if (key === 'timeout_seconds') server.stopTimeout = source.amount(at);
    else if (key === 'command')
      server.notes.push(
        `shutdown.command=${shown(source.value(at))}: no equivalent: a server is stopped by its stopSignal to its process group`,
      );
    else if (key === 'parent_only')
      server.notes.push(
        `shutdown.parent_only=${shown(source.value(at))}: no equivalent: the stop signal goes to the whole process group`,
      );
    else server.notes.push(`shutdown.${key}=${shown(source.value(at))}: no equivalent`);
  }
}

function readProcess(
  source: Source,
  name: string,
  shell: [string, string],
  globalEnv: Array<[string, string]>,
): Process {
  const path = ['processes', name];
  const keys = source.keys(path);
  const notes: string[] = [];
  const server: ConvertedServer = { id: '', notes, command: '', args: [], env: [] };

  const entrypoint = source.list([...path, 'entrypoint']);
  const commandParts = source.parts([...path, 'command']);
  if (commandParts !== undefined && !isEmpty(commandParts)) {
    Object.assign(server, shellCommand(commandParts, shell));
    if (entrypoint) notes.push('entrypoint: not used, as process-compose does when command is set');
  } else if (entrypoint && entrypoint.length > 0) {
    // an entrypoint is executed as it is, no shell
    const words = entrypoint.map((_, index) => source.text([...path, 'entrypoint', index]) ?? '');
    server.command = words[0] ?? '';
    server.args = words.slice(1);
  } else {
    source.fail(path, 'no command: every process needs command (or entrypoint)');
  }

  const description = source.text([...path, 'description']);
  if (description !== undefined) server.description = description;
  const workingDir = source.text([...path, 'working_dir']);
  if (workingDir !== undefined) server.workingDirectory = workingDir;
  const own = environment(source, [...path, 'environment']);
  const ownNames = new Set(own.map(([n]) => n));
  server.env = [...globalEnv.filter(([n]) => !ownNames.has(n)), ...own];

  const condition = (dep: string): { condition: Condition; explicit: boolean } => {
    const at = [...path, 'depends_on', dep, 'condition'];
    const value = source.value(at);
    // process-compose's zero value: a dependency without a condition waits for completion
    if (value === undefined || value === null) return { condition: 'process_completed', explicit: false };
    if (typeof value !== 'string' || !conditions.includes(value as Condition))
      source.fail(at, `expected ${conditions.join(', ')}, got ${JSON.stringify(value)}`);
    return { condition: value as Condition, explicit: true };
  };
  const dependsOn = source.keys([...path, 'depends_on']).map((dep) => ({ name: dep, ...condition(dep) }));

  const rawWorkingDir = source.parts([...path, 'working_dir']);
  const probeDir = rawWorkingDir && isLiteral(rawWorkingDir) ? rawWorkingDir.join('') : undefined;
  for (const [key, kind] of [
    ['readiness_probe', 'readiness'],
    ['liveness_probe', 'liveness'],
  ] as const) {
    const check = probe(source, [...path, key], shell, probeDir, notes, key);
    if (check) server[kind] = check;
  }
  if ((server.readiness?.type === 'exec' || server.liveness?.type === 'exec') && own.length > 0)
    notes.push(
      "an exec check runs with the supervisor's environment, not with this server's <environment> as process-compose's probes do",
    );

  availability(source, [...path, 'availability'], server);
  shutdown(source, [...path, 'shutdown'], server);
  const replicas = source.amount([...path, 'replicas'], { min: 1 }) ?? 1;
  if (typeof replicas !== 'number') source.fail([...path, 'replicas'], 'expected a number, not a variable');

  for (const key of keys) {
    if (processHandled.has(key)) continue;
    notes.push(
      `${key}=${shown(source.value([...path, key]))}: no equivalent: ${processReasons[key] ?? 'not a process-compose setting'}`,
    );
  }
  if (source.value([...path, 'disabled']) === true)
    server.leftOut = `disabled: process "${name}" does not start with the others, and a registry starts every server: it is left out (remove these comment marks to have it started)`;
  return { name, dependsOn, server, replicas };
}

/**
 * Every depends_on names a process of the file and none is part of a cycle: said here with the
 * YAML line, before the registry checker would say it of the converted file.
 */
function checkDependencies(source: Source, processes: Map<string, Process>): void {
  const level = new Map<string, number>();
  const visiting: string[] = [];
  const visit = (name: string): number => {
    const known = level.get(name);
    if (known !== undefined) return known;
    if (visiting.includes(name))
      source.fail(
        ['processes', name, 'depends_on'],
        `depends_on forms a cycle: ${[...visiting.slice(visiting.indexOf(name)), name].join(' -> ')}`,
      );
    visiting.push(name);
    let mine = 1;
    for (const dep of processes.get(name)?.dependsOn ?? []) {
      if (!processes.has(dep.name))
        source.fail(
          ['processes', name, 'depends_on', dep.name],
          `"${dep.name}" is not a process of this file`,
        );
      mine = Math.max(mine, visit(dep.name) + 1);
    }
    visiting.pop();
    level.set(name, mine);
    return mine;
  };
  for (const name of processes.keys()) visit(name);
}

/** how one depends_on entry was mapped, when the <dependsOn> it became does not say it all */
function dependencyNote(dep: Process['dependsOn'][number], target: Process): string | undefined {
  const name = dep.name;
  const condition = registryCondition[dep.condition];
  const head = `depends_on ${name} (${dep.explicit ? dep.condition : 'no condition: process-compose waits for process_completed'}): `;
  if (dep.condition === 'process_log_ready')
    return `${head}no equivalent: there is no ready_log_line; waits for ${name} to be ready instead (condition ready)`;
  if (condition === 'ready' && target.server.readiness === undefined)
    return `${head}condition ready: ${name} has no readiness check, so that is once it has started`;
  if (!dep.explicit) return `${head}condition ${condition}`;
  return undefined;
}

export function convertProcessCompose(text: string, file: string): ConvertedRegistry {
  const source = new Source(file, text);
  if (!isMap(source.document.contents))
    throw new ConvertError(file, 1, 'expected a process-compose file: a mapping with processes:');
  const notes: string[] = [];
  source.expandVariables = source.value(['disable_env_expansion']) !== true;
  const shellCommandName = source.value(['shell', 'shell_command']);
  const shellArgument = source.value(['shell', 'shell_argument']);
  const shell: [string, string] = [
    typeof shellCommandName === 'string' ? shellCommandName : '/bin/sh',
    typeof shellArgument === 'string' ? shellArgument : '-c',
  ];
  if (source.value(['shell']) === undefined)
    notes.push(
      'process-compose runs commands with bash -c; here they run with /bin/sh -c, which every image has (a command that needs bash: set shell.shell_command to bash and convert again)',
    );

  const globalEnv = environment(source, ['environment']);
  for (const key of source.keys([])) {
    if (['version', 'processes', 'environment', 'shell', 'ordered_shutdown'].includes(key)) continue;
    notes.push(
      `${key}=${shown(source.value([key]))}: no equivalent: ${topReasons[key] ?? 'not a process-compose setting'}`,
    );
  }
  if (globalEnv.length > 0) notes.push("environment: given to every server (a process's own variables win)");

  const names = source.keys(['processes']);
  if (names.length === 0)
    throw new ConvertError(file, source.line(['processes']), 'no processes: nothing to convert');
  const processes = new Map(names.map((name) => [name, readProcess(source, name, shell, globalEnv)]));
  checkDependencies(source, processes);
  const mentionsPcVariables = /PC_(PROC_NAME|REPLICA_NUM)/.test(text);

  if (
    [...processes.values()].some((p) => p.dependsOn.length > 0) ||
    source.value(['ordered_shutdown']) !== undefined
  )
    notes.push(
      'shutdown is always ordered here: a process stops before those it depends on, then by descending startPriority (ordered_shutdown)',
    );

  for (const process of processes.values()) {
    process.server.startPriority = 1;
    for (const dep of process.dependsOn) {
      const target = processes.get(dep.name);
      if (!target) continue;
      const note = dependencyNote(dep, target);
      if (note) process.server.notes.push(note);
      if (waitsForCompletion(dep.condition) && target.server.kind === undefined) {
        // only a oneshot completes: `check` refuses completed/succeeded on a longrun
        target.server.kind = 'oneshot';
        const policy = target.server.restart?.policy ?? 'never';
        target.server.notes.push(
          `runs to completion (${process.name} waits for it to complete): a oneshot, whose exit 0 is completed (counts as ready)${
            policy === 'always'
              ? '; availability.restart=always runs it again after each exit'
              : `; if it fails${policy === 'on-failure' ? ' and its restarts run out' : ''}, the supervisor gives up (exit 1), as with a failed init container: add <critical>false</critical> to run on without it`
          }`,
        );
      }
    }
  }
  const servers: ConvertedServer[] = [];
  const ids: string[] = [];
  /** process name → the servers it became (one per replica) */
  const serversOf = new Map<string, ConvertedServer[]>();
  for (const process of processes.values()) {
    const width = String(process.replicas - 1).length;
    const own: ConvertedServer[] = [];
    for (let replica = 0; replica < process.replicas; replica++) {
      const server: ConvertedServer = structuredClone(process.server);
      const id =
        process.replicas > 1 ? `${process.name}-${String(replica).padStart(width, '0')}` : process.name;
      if (mentionsPcVariables)
        server.env.push(['PC_PROC_NAME', literal(process.name)], ['PC_REPLICA_NUM', String(replica)]);
      if (process.replicas > 1)
        server.notes.unshift(`replicas=${process.replicas}: replica ${replica} of "${process.name}"`);
      servers.push(server);
      ids.push(id);
      own.push(server);
    }
    serversOf.set(process.name, own);
  }
  if (servers.every((server) => server.leftOut !== undefined))
    throw new ConvertError(
      file,
      source.line(['processes']),
      'every process is disabled: a registry starts every server, so nothing would be left to start',
    );
  uniqueIds(servers, ids);
  // once the ids are final (renamed, one per replica): a dependency on a process with replicas
  // waits for every replica
  for (const process of processes.values()) {
    for (const server of serversOf.get(process.name) ?? []) {
      server.dependsOn = [];
      for (const dep of process.dependsOn) {
        const targets = serversOf.get(dep.name) ?? [];
        if (targets.some((target) => target.leftOut !== undefined)) {
          server.notes.push(
            `depends_on ${dep.name}: ${dep.name} is left out (disabled), so nothing to wait for: no <dependsOn>`,
          );
          continue;
        }
        for (const target of targets)
          server.dependsOn.push({ server: target.id, condition: registryCondition[dep.condition] });
      }
    }
  }
  return { source: file, format: 'process-compose', notes, servers };
}
