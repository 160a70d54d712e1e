// supervisord.conf to registry servers. Each [program:x] becomes one server (numprocs of them
// with numprocs > 1), read the way supervisord reads it: configparser's INI dialect, `%(name)s`
// expansions, the command split with Python's shlex (supervisord execs the words; no shell),
// `environment=` lexed by dict_of_key_value_pairs. Files named by [include] are read too when
// they exist here. What has no equivalent becomes a note (an XML comment).

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Expander, type ExpansionValue, type Piece } from './expansion.js';
import { type IniSection, type IniValue, parseIni } from './ini.js';
import { ConvertError, type ConvertedRegistry, type ConvertedServer, literal, uniqueIds } from './model.js';
import { keyValuePairs, shlexSplit } from './shlex.js';

interface Section extends IniSection {
  /** the file it came from (an [include]d one, or the main file) */
  file: string;
}

/** a section's options with the file they came from, for messages */
class Options {
  constructor(readonly section: Section) {}
  get(name: string): IniValue | undefined {
    return this.section.options.get(name);
  }
  fail(name: string | undefined, reason: string): never {
    const line = name === undefined ? this.section.line : (this.get(name)?.line ?? this.section.line);
    throw new ConvertError(
      this.section.file,
      line,
      `[${this.section.name}]${name ? ` ${name}` : ''}: ${reason}`,
    );
  }
}

const truthy = new Set(['true', 'yes', 'on', '1']);
const falsy = new Set(['false', 'no', 'off', '0']);

function boolean(options: Options, name: string, fallback: boolean): boolean {
  const value = options.get(name)?.value;
  if (value === undefined) return fallback;
  if (truthy.has(value.toLowerCase())) return true;
  if (falsy.has(value.toLowerCase())) return false;
  return options.fail(name, `expected true or false, got ${JSON.stringify(value)}`);
}

function integer(options: Options, name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\s*[-+]?\d+\s*$/.test(text))
    options.fail(name, `expected a whole number, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** supervisord's signal names (TERM, HUP...) or numbers, as registry signal names */
function signalName(options: Options, text: string): string {
  const upper = text.trim().toUpperCase();
  if (/^\d+$/.test(upper)) {
    const name = Object.entries(constants.signals).find(([, number]) => number === Number(upper))?.[0];
    if (name) return name;
  } else {
    const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
    if (Object.hasOwn(constants.signals, name)) return name;
  }
  return options.fail('stopsignal', `unknown signal ${JSON.stringify(text)}`);
}

/** files [include] names: relative to the main file's folder; wildcards in the file name only */
function includedFiles(pattern: string, base: string): string[] | string {
  const path = resolve(base, pattern);
  const folder = dirname(path);
  const name = path.slice(folder.length + 1);
  if (/[*?[]/.test(folder))
    return 'a wildcard in a folder name is not followed: convert those files one by one';
  if (!/[*?[]/.test(name)) return isFile(path) ? [path] : [];
  const matcher = new RegExp(
    `^${name
      .replace(/[.+^${}()|\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')
      .replace(/\[!/g, '[^')}$`,
  );
  let entries: string[];
  try {
    entries = readdirSync(folder);
  } catch {
    return [];
  }
  return entries
    .filter((entry) => matcher.test(entry) && !entry.startsWith('.'))
    .map((entry) => join(folder, entry))
    .filter(isFile)
    .sort();
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function readSections(text: string, file: string): Section[] {
  return parseIni(text, file).map((section) => ({ ...section, file }));
}

/** `%(here)s` is the folder of the file a value was written in, and is replaced before anything else */
function expandHere(sections: Section[], file: string): void {
  const here = dirname(resolve(file));
  for (const section of sections)
    for (const option of section.options.values()) option.value = option.value.replaceAll('%(here)s', here);
}

/** the main file's sections, with those of the [include]d files merged in (later options win) */
function loadSections(text: string, file: string, notes: string[]): Section[] {
  const sections = readSections(text, file);
  expandHere(sections, file);
  const include = sections.find((section) => section.name === 'include');
  const patterns = include?.options.get('files')?.value.split(/\s+/).filter(Boolean) ?? [];
  if (include && patterns.length === 0)
    throw new ConvertError(file, include.line, '[include] has no files setting');
  for (const pattern of patterns) {
    const found = includedFiles(pattern, dirname(resolve(file)));
    if (typeof found === 'string' || found.length === 0) {
      notes.push(
        `[include] files=${pattern}: ${typeof found === 'string' ? found : 'no such file here, so its programs are not in this registry: convert it too, or run convert where the file is'}`,
      );
      continue;
    }
    for (const path of found) {
      let included: string;
      try {
        included = readFileSync(path, 'utf8');
      } catch (error) {
        throw new ConvertError(
          path,
          undefined,
          `cannot read this [include]d file: ${(error as Error).message}`,
        );
      }
      const more = readSections(included, path);
      expandHere(more, path);
      for (const section of more) {
        const existing = sections.find((s) => s.name === section.name);
        if (existing) for (const [name, value] of section.options) existing.options.set(name, value);
        else sections.push(section);
      }
      notes.push(`[include] ${path}: read, its programs are below`);
    }
  }
  return sections;
}

/** why a [supervisord] setting has no equivalent */
const supervisordReasons: Record<string, string> = {
  nodaemon: 's7supervisor always runs in the foreground',
  logfile: 'the supervisor logs JSON lines to stdout; <log> in <config> adds a daily file',
  logfile_maxbytes: 'a <log> file is rotated daily',
  logfile_backups: 'a <log> file is rotated daily',
  loglevel: "<tracelevel> in <config> (1 warn, 2 info, 3 debug, 4 trace), or run's log-level option",
  pidfile: 'no pid file: the supervisor is PID 1 or the child of whoever started it',
  user: "the supervisor runs as the user that starts it (the image's USER); <user> switches per server",
  directory: 'relative paths resolve against the install folder (--home)',
  childlogdir: "component output goes to the supervisor's stdout",
  minfds: 'the supervisor inherits its limits from the container',
  minprocs: 'the supervisor inherits its limits from the container',
  umask: "components inherit the supervisor's umask",
};

/** sections that are about supervisord's own machinery */
const sectionReasons: Record<string, string> = {
  unix_http_server: 'the CLI talks to the supervisor over its control socket (<temp>/s7supervisor.sock)',
  inet_http_server:
    'probes, metrics and the status page are on <tcpport>; control over HTTP needs S7SUPERVISOR_CONTROL_TOKEN',
  supervisorctl: 'use the s7supervisor commands (status, start, stop, restart, reload)',
};

/** why a [program:x] setting has no equivalent; undefined: it is mapped */
const programReasons: Record<string, string> = {
  startretries:
    'a server that keeps failing is restarted with a growing backoff until the restart intensity (<restartIntensity> in <config>) is exceeded',
  exitcodes: 'on-failure counts only exit code 0 as a success',
  redirect_stderr: 'stderr is always captured separately (each log record names its stream)',
  umask: "components inherit the supervisor's umask",
  serverurl: 'there is no XML-RPC interface: the control socket serves the s7supervisor commands',
  stdout_capture_maxbytes: 'there are no event listeners',
  stderr_capture_maxbytes: 'there are no event listeners',
  stdout_events_enabled: 'there are no event listeners',
  stderr_events_enabled: 'there are no event listeners',
  stdout_syslog: "output goes to the supervisor's stdout, not to syslog",
  stderr_syslog: "output goes to the supervisor's stdout, not to syslog",
};

const mapped = new Set([
  'command',
  'process_name',
  'numprocs',
  'numprocs_start',
  'priority',
  'autostart',
  'autorestart',
  'startsecs',
  'stopsignal',
  'stopwaitsecs',
  'stopasgroup',
  'killasgroup',
  'user',
  'directory',
  'environment',
]);

const logSettings = [
  'stdout_logfile',
  'stdout_logfile_maxbytes',
  'stdout_logfile_backups',
  'stderr_logfile',
  'stderr_logfile_maxbytes',
  'stderr_logfile_backups',
];

/** where a program's output went when it was passed straight through to the container's */
const passthrough = new Set([
  '/dev/stdout',
  '/dev/stderr',
  '/dev/fd/1',
  '/dev/fd/2',
  '/proc/self/fd/1',
  '/proc/self/fd/2',
]);

function shown(value: string): string {
  const flat = value.replace(/\s+/g, ' ');
  return flat.length > 80 ? `${flat.slice(0, 77)}...` : flat;
}

/** the output settings: raw when both streams went to the container's own, else notes */
function outputSettings(
  options: Options,
  expand: (name: string) => string | undefined,
  server: ConvertedServer,
) {
  const stdout = expand('stdout_logfile');
  const stderr = expand('stderr_logfile');
  const redirected = boolean(options, 'redirect_stderr', false);
  const isPassthrough = (value: string | undefined) => value !== undefined && passthrough.has(value);
  if (isPassthrough(stdout) && (redirected || isPassthrough(stderr))) {
    server.output = 'raw';
    server.notes.push(
      `stdout_logfile=${stdout}: the output is passed through unchanged (<output>raw</output>), stdout to stdout and stderr to stderr`,
    );
    return;
  }
  for (const name of logSettings) {
    const value = options.get(name)?.value;
    if (value === undefined) continue;
    const file = name.startsWith('stdout') ? stdout : stderr;
    // rotation settings of a stream that is not written to a file say nothing
    if (
      !name.endsWith('_logfile') &&
      (file === undefined || isPassthrough(file) || file.toUpperCase() === 'NONE')
    )
      continue;
    if (name.endsWith('_logfile') && value.toUpperCase() === 'AUTO') continue;
    server.notes.push(
      name.endsWith('_logfile')
        ? `${name}=${shown(value)}: no equivalent: output goes to the supervisor's stdout, one JSON log record per line (<output>raw</output> passes it unchanged)`
        : `${name}=${shown(value)}: no equivalent: output is not written to a file here, so there is nothing to rotate`,
    );
  }
}

interface Context {
  /** ENV_X from [supervisord] environment=, beneath the supervisor's own environment */
  supervisordEnv: Map<string, Piece[]>;
  /** program name to the [group:x] it belongs to */
  groups: Map<string, string>;
}

function programServers(
  section: Section,
  context: Context,
): Array<{ name: string; server: ConvertedServer }> {
  const options: Options = new Options(section);
  const programName = section.name.slice(section.name.indexOf(':') + 1).trim();
  const numprocs = integer(options, 'numprocs', options.get('numprocs')?.value, 1);
  const numprocsStart = integer(options, 'numprocs_start', options.get('numprocs_start')?.value, 0);
  const processName = options.get('process_name')?.value ?? '%(program_name)s';
  if (numprocs < 1) options.fail('numprocs', 'expected at least 1');
  if (numprocs > 1 && !processName.includes('%(process_num)'))
    options.fail('process_name', 'must hold %(process_num) when numprocs > 1 (as supervisord requires)');
  const command = options.get('command');
  if (command === undefined) options.fail(undefined, 'no command: every [program:x] needs command=');

  const servers: Array<{ name: string; server: ConvertedServer }> = [];
  for (let processNum = numprocsStart; processNum < numprocsStart + numprocs; processNum++) {
    const programEnv = new Map<string, Piece[]>();
    const base: Record<string, ExpansionValue> = {
      program_name: programName,
      group_name: context.groups.get(programName) ?? programName,
      process_num: processNum,
      numprocs,
      host_node_name: [{ env: 'HOSTNAME' }],
    };
    let usedHostName = false;
    const expander = new Expander((name) => {
      if (name === 'host_node_name') usedHostName = true;
      if (Object.hasOwn(base, name)) return base[name];
      if (!name.startsWith('ENV_')) return undefined;
      const variable = name.slice(4);
      return programEnv.get(variable) ?? context.supervisordEnv.get(variable) ?? [{ env: variable }];
    });
    const expand = (name: string): string | undefined => {
      const value = options.get(name)?.value;
      if (value === undefined) return undefined;
      try {
        return expander.expand(value);
      } catch (error) {
        return options.fail(name, (error as Error).message);
      }
    };

    // environment= is expanded before the program's own variables exist, then they join ENV_
    const environment = expand('environment');
    const env: Array<[string, string]> = [];
    if (environment !== undefined) {
      let pairs: Array<[string, string]>;
      try {
        pairs = keyValuePairs(environment);
      } catch (error) {
        options.fail('environment', `${(error as Error).message}: expected KEY="value",KEY2="value2"`);
      }
      for (const [name, value] of pairs) {
        programEnv.set(name, expander.pieces(value));
        env.push([name, expander.registryText(value)]);
      }
    }
    const notes: string[] = [];
    for (const [name, pieces] of context.supervisordEnv)
      if (!programEnv.has(name))
        env.push([name, pieces.map((p) => (typeof p === 'string' ? literal(p) : `\${${p.env}}`)).join('')]);
    for (const [name, value] of env)
      if (value !== value.trim())
        notes.push(`environment ${name}: its value starts or ends with whitespace, which the registry trims`);

    let words: string[];
    try {
      words = shlexSplit(expand('command') ?? '');
    } catch (error) {
      options.fail('command', `${(error as Error).message} (supervisord splits it as Python's shlex does)`);
    }
    const [program, ...args] = words.map((word) => expander.registryText(word));
    if (program === undefined) options.fail('command', 'is empty');
    for (const arg of args)
      if (arg !== arg.trim())
        notes.push(
          `an argument starts or ends with whitespace, which the registry trims: ${JSON.stringify(arg)}`,
        );
    const server: ConvertedServer = { id: '', notes, command: program, args, env };
    const directory = expand('directory');
    if (directory !== undefined) server.workingDirectory = expander.registryText(directory);
    const user = expand('user');
    if (user !== undefined) server.user = expander.registryText(user);
    server.startPriority = integer(options, 'priority', expand('priority'), 999);
    const startsecs = integer(options, 'startsecs', expand('startsecs'), 1);
    if (options.get('startsecs') !== undefined && startsecs > 0) server.startDelay = startsecs;
    const stopwaitsecs = expand('stopwaitsecs');
    if (stopwaitsecs !== undefined) server.stopTimeout = integer(options, 'stopwaitsecs', stopwaitsecs, 10);
    const stopsignal = expand('stopsignal');
    if (stopsignal !== undefined) server.stopSignal = signalName(options, stopsignal);

    const autorestart = (expand('autorestart') ?? 'unexpected').toLowerCase();
    if (truthy.has(autorestart)) server.restart = { policy: 'always' };
    else if (falsy.has(autorestart)) server.restart = { policy: 'never' };
    else if (autorestart === 'unexpected') server.restart = { policy: 'on-failure' };
    else
      options.fail('autorestart', `expected true, false or unexpected, got ${JSON.stringify(autorestart)}`);
    if (autorestart === 'unexpected' && options.get('autorestart') === undefined)
      notes.push("autorestart not set: supervisord's default, unexpected, is restart policy on-failure");

    for (const name of ['stopasgroup', 'killasgroup']) {
      if (options.get(name) !== undefined && !boolean(options, name, false))
        notes.push(`${name}=false: no equivalent: s7supervisor always signals the whole process group`);
    }

    outputSettings(options, expand, server);
    for (const [name, value] of section.options) {
      if (mapped.has(name) || logSettings.includes(name)) continue;
      if (name === 'exitcodes' && value.value.replace(/\s/g, '') === '0') continue;
      if (name === 'redirect_stderr' && !boolean(options, name, false)) continue;
      if (name === 'startretries' && server.restart.policy === 'never') continue;
      const reason = programReasons[name] ?? 'not a supervisord program setting: ignored';
      notes.push(`${name}=${shown(value.value)}: no equivalent: ${reason}`);
    }
    if (usedHostName)
      notes.push(
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the registry's syntax, not a template
        "%(host_node_name)s became ${HOSTNAME}, the container's host name when the supervisor starts",
      );
    if (numprocs > 1) notes.unshift(`numprocs=${numprocs}: process ${processNum} of [${section.name}]`);
    if (!boolean(options, 'autostart', true))
      server.leftOut = `autostart=false: [${section.name}] is not started with the others, and a registry starts every server: it is left out (remove these comment marks to have it started)`;

    let name: string;
    try {
      name = expander.expand(processName);
    } catch (error) {
      options.fail('process_name', (error as Error).message);
    }
    servers.push({ name: name.trim(), server });
  }
  return servers;
}

function supervisordSection(section: Section, notes: string[]): Map<string, Piece[]> {
  const env = new Map<string, Piece[]>();
  const options: Options = new Options(section);
  for (const [name, value] of section.options) {
    if (name === 'environment') continue;
    notes.push(
      `[supervisord] ${name}=${shown(value.value)}: no equivalent: ${supervisordReasons[name] ?? 'a setting of supervisord itself'}`,
    );
  }
  const environment = section.options.get('environment');
  if (environment !== undefined) {
    // [supervisord] environment= becomes the supervisor's own environment: every program's
    const expander = new Expander((name) => (name.startsWith('ENV_') ? [{ env: name.slice(4) }] : undefined));
    try {
      for (const [name, value] of keyValuePairs(expander.expand(environment.value)))
        env.set(name, expander.pieces(value));
    } catch (error) {
      options.fail('environment', (error as Error).message);
    }
    notes.push("[supervisord] environment=: its variables are given to every server (a server's own win)");
  }
  return env;
}

export function convertSupervisord(text: string, file: string): ConvertedRegistry {
  const notes: string[] = [];
  const sections = loadSections(text, file, notes);
  const context: Context = { supervisordEnv: new Map(), groups: new Map() };
  for (const section of sections) {
    const [kind, name = ''] = section.name.split(':', 2).map((part) => part.trim());
    if (kind === 'group')
      for (const program of new Options(section).get('programs')?.value.split(',') ?? [])
        context.groups.set(program.trim(), name);
  }

  // [supervisord] environment= reaches every program, wherever the section is in the file
  const main = sections.find((section) => section.name === 'supervisord');
  if (main) context.supervisordEnv = supervisordSection(main, notes);

  const servers: ConvertedServer[] = [];
  const names: string[] = [];
  for (const section of sections) {
    const kind = section.name.split(':', 1)[0]?.trim() ?? '';
    if (kind === 'program') {
      for (const { name, server } of programServers(section, context)) {
        servers.push(server);
        names.push(name);
      }
    } else if (kind === 'supervisord') {
      // read above
    } else if (kind === 'group') {
      notes.push(
        `[${section.name}]: no equivalent: its programs are converted one by one, each with its own priority`,
      );
    } else if (kind === 'eventlistener') {
      notes.push(
        `[${section.name}]: not converted: there are no event listeners (the /api/v1 endpoints and metrics report state changes)`,
      );
    } else if (kind === 'fcgi-program') {
      notes.push(`[${section.name}]: not converted: s7supervisor does not open sockets for its components`);
    } else if (kind === 'rpcinterface') {
      notes.push(`[${section.name}]: no equivalent: there is no XML-RPC interface`);
    } else if (kind !== 'include') {
      notes.push(
        `[${section.name}]: no equivalent: ${sectionReasons[kind] ?? 'not a section supervisord knows'}`,
      );
    }
  }
  if (servers.length === 0)
    throw new ConvertError(file, undefined, 'no [program:x] section: nothing to convert');
  if (servers.every((server) => server.leftOut !== undefined))
    throw new ConvertError(
      file,
      undefined,
      'every program has autostart=false: a registry starts every server, so nothing would be left to start',
    );
  if (servers.some((server) => server.leftOut === undefined))
    notes.push(
      'supervisord starts programs in priority order without waiting for them; here each priority group starts once the one before is ready (its startDelay, from startsecs, elapsed)',
    );
  uniqueIds(servers, names);
  return { source: file, format: 'supervisord', notes, servers };
}
