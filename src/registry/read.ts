// From the element tree to a RegistryDocument: every element and attribute checked against the
// layout of design.md §2, values expanded (${VAR}) and typed. Problems are collected, never thrown,
// so that one run reports everything wrong with the file.
import { resolve } from 'node:path';
import { parseSchedule } from './cron.js';
import { defaults, MAX_LOG_BUFFER_LINES } from './defaults.js';
import type {
  ConfigDocument,
  ProfileDocument,
  RegistryDocument,
  RestartSetting,
  ServerDocument,
  Settings,
} from './document.js';
import { emptySettings, settingElements, setVariable, singleSettings } from './document.js';
import { readEnvFile } from './env-file.js';
import type { ProblemList } from './errors.js';
import { expandVariables } from './expand.js';
import { type CheckSpec, dependencyConditions, type ScheduleSpec } from './model.js';
import {
  closest,
  orList,
  type Parsed,
  parseBoolean,
  parseChoice,
  parseHttpUrl,
  parseId,
  parseInteger,
  parseSeconds,
  parseSignal,
  parseSize,
  quoted,
} from './values.js';
import type { XmlElement } from './xml.js';

const ROOT = 'supervisor';
const rootChildren = ['config', 'profiles', 'servers'];
const configChildren = [
  'tcpport',
  'log',
  'temp',
  'tracelevel',
  'tracestatsinterval',
  'host',
  'restartIntensity',
  'shutdownTimeout',
  'shutdownDelay',
  'logRetention',
  'logBuffer',
];
const settingChildren: string[] = [...settingElements];
const serverChildren = ['profile', ...settingChildren];
/** may appear more than once in one server or profile; their contents add up */
const repeatable = new Set(['profile', 'arguments', 'environment', 'dependsOn']);
const singleSettingNames = new Set<string>(singleSettings);

/** where each element belongs, for "<tcpport> belongs in <config>" */
const parentsOf = new Map<string, string>();
for (const [parent, names] of [
  [ROOT, rootChildren],
  ['config', configChildren],
  ['profiles', ['profile']],
  ['servers', ['server']],
  ['server', serverChildren],
  ['arguments', ['argument']],
  ['environment', ['variable']],
] as const) {
  for (const name of names) if (!parentsOf.has(name)) parentsOf.set(name, parent);
}

const checkTypes = ['http', 'tcp', 'exec', 'fd'] as const;
const checkTimingAttributes = ['type', 'interval', 'timeout', 'failureThreshold'];
const checkTypeAttributes: Record<(typeof checkTypes)[number], string[]> = {
  http: ['url'],
  tcp: ['host', 'port'],
  exec: ['command'],
  fd: ['fd'],
};

/** `home` is what env files are found under (design.md §2: relative paths against the install folder) */
export function readDocument(
  root: XmlElement,
  env: NodeJS.ProcessEnv,
  problems: ProblemList,
  home: string,
): RegistryDocument {
  return new Reader(env, problems, home).document(root);
}

class Reader {
  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly problems: ProblemList,
    private readonly home: string,
  ) {}

  document(root: XmlElement): RegistryDocument {
    const document: RegistryDocument = { config: {}, profiles: new Map(), servers: [] };
    if (root.name !== ROOT) {
      const hint = closest(root.name, [ROOT])
        ? ` (element names are case-sensitive: did you mean <${ROOT}>?)`
        : '';
      this.report(root, undefined, `the root element must be <${ROOT}>${hint}`);
      return document;
    }
    this.attributes(root, [], undefined);
    let servers: XmlElement | undefined;
    for (const child of this.children(root, rootChildren, undefined, new Map())) {
      if (child.name === 'config') document.config = this.config(child);
      else if (child.name === 'profiles') this.profiles(child, document.profiles);
      else {
        servers = child;
        this.servers(child, document.servers);
      }
    }
    if (!servers) {
      this.problems.add(
        root.line,
        'servers',
        'missing: a registry needs <servers> with at least one <server>',
      );
    } else if (document.servers.length === 0 && !servers.children.some((c) => c.name === 'server')) {
      this.report(servers, undefined, 'no <server> in it: there is nothing to supervise');
    }
    return document;
  }

  private config(element: XmlElement): ConfigDocument {
    const where = 'config';
    const config: ConfigDocument = {};
    this.attributes(element, [], where);
    for (const child of this.children(element, configChildren, where, new Map())) {
      if (child.name === 'restartIntensity') {
        const attrs = this.attributes(child, ['max', 'period'], where);
        this.noContent(child, where);
        const max = this.typed(child, where, attrs.get('max'), 'max', (text) =>
          parseInteger(text, 0, 1_000_000, 'a whole number of restarts'),
        );
        const period = this.typed(child, where, attrs.get('period'), 'period', (text) =>
          parseSeconds(text, { positive: true }),
        );
        config.restartIntensity = {
          max: max ?? defaults.config.restartIntensity.max,
          period: period ?? defaults.config.restartIntensity.period,
        };
        continue;
      }
      if (child.name === 'logRetention') {
        const attrs = this.attributes(child, ['days'], where);
        this.noContent(child, where);
        const days = this.typed(child, where, attrs.get('days'), 'days', (text) =>
          parseInteger(text, 0, 1_000_000, 'a whole number of days (0 keeps every file)'),
        );
        if (days !== undefined) config.logRetentionDays = days;
        continue;
      }
      if (child.name === 'logBuffer') {
        const attrs = this.attributes(child, ['lines'], where);
        this.noContent(child, where);
        const lines = this.typed(child, where, attrs.get('lines'), 'lines', (text) =>
          parseInteger(text, 0, MAX_LOG_BUFFER_LINES, 'a whole number of lines (0 keeps none)'),
        );
        config.logBuffer = { lines: lines ?? defaults.config.logBuffer.lines };
        continue;
      }
      const text = this.value(child, where);
      if (text === undefined) continue;
      const typed = (parse: (text: string) => Parsed<number>) =>
        this.typed(child, where, text, undefined, parse);
      switch (child.name) {
        case 'tcpport':
          config.tcpport = typed((t) => parseInteger(t, 0, 65535, 'a TCP port'));
          break;
        case 'tracelevel':
          config.tracelevel = typed((t) =>
            parseInteger(t, 1, 4, 'a trace level (1 warn, 2 info, 3 debug, 4 trace)'),
          );
          break;
        case 'tracestatsinterval':
          config.tracestatsinterval = typed((t) => parseSeconds(t));
          break;
        case 'shutdownTimeout':
          config.shutdownTimeout = typed((t) => parseSeconds(t));
          break;
        case 'shutdownDelay':
          config.shutdownDelay = typed((t) => parseSeconds(t));
          break;
        case 'log':
          config.log = this.nonEmpty(
            child,
            where,
            text,
            'a file path (leave <log> out to log to stdout only)',
          );
          break;
        case 'temp':
          config.temp = this.nonEmpty(child, where, text, 'a directory path');
          break;
        case 'host':
          config.host = this.nonEmpty(
            child,
            where,
            text,
            'an address to listen on, such as 0.0.0.0 or 127.0.0.1',
          );
          break;
      }
    }
    return config;
  }

  private profiles(element: XmlElement, into: Map<string, ProfileDocument>): void {
    this.attributes(element, [], 'profiles');
    for (const child of this.children(element, ['profile'], 'profiles', undefined)) {
      const id = this.id(child, 'profile', undefined);
      const where = id === undefined ? `the profile on line ${child.line}` : `profile ${quoted(id)}`;
      const settings = this.settings(child, settingChildren, where, ['id'], []);
      if (id === undefined) continue;
      const earlier = into.get(id);
      if (earlier) {
        this.report(
          child,
          undefined,
          `duplicate profile id ${quoted(id)} (first defined on line ${earlier.line})`,
        );
        continue;
      }
      into.set(id, { id, line: child.line, settings });
    }
  }

  private servers(element: XmlElement, into: ServerDocument[]): void {
    this.attributes(element, [], 'servers');
    const seen = new Map<string, number>();
    for (const child of this.children(element, ['server'], 'servers', undefined)) {
      const id = this.id(child, 'server', undefined);
      const where = id === undefined ? `the server on line ${child.line}` : `server "${id}"`;
      const profileRefs: ServerDocument['profileRefs'] = [];
      const settings = this.settings(child, serverChildren, where, ['id'], profileRefs);
      if (id === undefined) continue;
      const first = seen.get(id);
      if (first !== undefined) {
        this.report(child, undefined, `duplicate server id "${id}" (first defined on line ${first})`);
        continue;
      }
      seen.set(id, child.line);
      into.push({ id, line: child.line, profileRefs, settings });
    }
  }

  /** the children of a <server> or <profile> */
  private settings(
    element: XmlElement,
    allowed: string[],
    where: string,
    attributes: string[],
    profileRefs: ServerDocument['profileRefs'],
  ): Settings {
    const settings = emptySettings();
    this.attributes(element, attributes, where);
    for (const child of this.children(element, allowed, where, new Map())) {
      const name = child.name;
      const invalid = () => settings.invalid.add(name);
      if (singleSettingNames.has(name)) settings.lines[name as keyof Settings['lines']] = child.line;
      switch (name) {
        case 'profile': {
          const attrs = this.attributes(child, ['ref'], where, 'ref="PROFILE-ID"');
          this.noContent(child, where);
          const ref = attrs.get('ref');
          if (ref === undefined) {
            if (child.attributes.length === 0) {
              this.report(child, where, 'missing attribute ref: expected <profile ref="PROFILE-ID"/>');
            }
          } else if (ref === '') this.report(child, where, 'attribute ref is empty: expected a profile id');
          else profileRefs.push({ id: ref, line: child.line });
          break;
        }
        case 'arguments':
          this.attributes(child, [], where);
          for (const argument of this.children(child, ['argument'], where, undefined)) {
            const text = this.value(argument, where);
            if (text === undefined) invalid();
            else settings.args.push({ value: text, written: argument.text.trim() });
          }
          break;
        case 'environment':
          this.environment(child, where, settings);
          break;
        case 'dependsOn':
          this.dependsOn(child, where, settings);
          break;
        case 'schedule': {
          const schedule = this.schedule(child, where);
          if (schedule) settings.schedule = schedule;
          else invalid();
          break;
        }
        case 'limits': {
          const limits = this.limits(child, where);
          if (limits) settings.limits = limits;
          else invalid();
          break;
        }
        case 'restart': {
          const restart = this.restart(child, where);
          if (restart) settings.restart = restart;
          else invalid();
          break;
        }
        case 'readiness':
        case 'liveness': {
          const check = this.check(child, where);
          if (check) settings[name] = check;
          else invalid();
          break;
        }
        default: {
          const text = this.value(child, where);
          if (text === undefined) {
            invalid();
            break;
          }
          if (!this.scalarSetting(child, where, text, settings)) invalid();
        }
      }
    }
    return settings;
  }

  /** the single-valued settings; false when the value was bad (and has been reported) */
  private scalarSetting(child: XmlElement, where: string, text: string, settings: Settings): boolean {
    const typed = <T>(parse: (text: string) => Parsed<T>) => this.typed(child, where, text, undefined, parse);
    const set = <K extends keyof Settings>(key: K, value: Settings[K] | undefined): boolean => {
      if (value === undefined) return false;
      settings[key] = value;
      return true;
    };
    switch (child.name) {
      case 'description':
        return set('description', text);
      case 'command': {
        const command = this.nonEmpty(child, where, text, 'the program to run');
        return set(
          'command',
          command === undefined ? undefined : { value: command, written: child.text.trim() },
        );
      }
      case 'workingDirectory':
        return set('workingDirectory', this.nonEmpty(child, where, text, 'a directory path'));
      case 'user':
        return set('user', this.nonEmpty(child, where, text, 'a user name or uid, optionally user:group'));
      case 'startPriority':
        return set(
          'startPriority',
          typed((t) => parseInteger(t, -1_000_000, 1_000_000, 'a whole number')),
        );
      case 'startDelay':
        return set(
          'startDelay',
          typed((t) => parseSeconds(t)),
        );
      case 'stopTimeout':
        return set(
          'stopTimeout',
          typed((t) => parseSeconds(t)),
        );
      case 'stopSignal':
        return set('stopSignal', typed(parseSignal));
      case 'critical':
        return set('critical', typed(parseBoolean));
      case 'output':
        return set(
          'output',
          typed((t) => parseChoice(t, ['json', 'raw'] as const)),
        );
      case 'kind':
        return set(
          'kind',
          typed((t) => parseChoice(t, ['longrun', 'oneshot'] as const)),
        );
      default:
        return false;
    }
  }

  private environment(element: XmlElement, where: string, settings: Settings): void {
    const into = settings.env;
    const attrs = this.attributes(element, ['file', 'optional'], where);
    const optionalText = attrs.get('optional');
    const optional = this.typed(element, where, optionalText, 'optional', parseBoolean);
    const file = attrs.get('file');
    // a bad optional="…" is reported already: whether a missing file is fine is then unknown
    if (optionalText !== undefined && optional === undefined) settings.invalid.add('environment');
    else if (file === '')
      this.report(element, where, 'attribute file is empty: expected the path of a dotenv file');
    else if (file !== undefined) this.envFile(element, where, file, optional ?? false, settings);
    else if (attrs.has('optional'))
      this.report(element, where, 'attribute optional applies to a file: add file="PATH"');
    const seen = new Map<string, number>();
    for (const variable of this.children(element, ['variable'], where, undefined)) {
      const attrs = this.attributes(variable, ['name'], where, 'name="NAME"');
      const name = attrs.get('name');
      const value = this.value(variable, where, false);
      if (name === undefined) {
        if (variable.attributes.length === 0) {
          this.report(
            variable,
            where,
            'missing attribute name: expected <variable name="NAME">value</variable>',
          );
        }
        continue;
      }
      if (name === '' || /[=\0]/.test(name)) {
        this.report(
          variable,
          where,
          `${quoted(name)} is not a usable variable name (it must not be empty or contain "=")`,
        );
        continue;
      }
      const first = seen.get(name);
      if (first !== undefined) {
        this.report(
          variable,
          where,
          `variable ${name} is set twice in one <environment> (first on line ${first})`,
        );
        continue;
      }
      seen.set(name, variable.line);
      if (value !== undefined) setVariable(into, name, value);
    }
  }

  /** the file's variables go in first: the block's own <variable>s, read after, win over them */
  private envFile(
    element: XmlElement,
    where: string,
    file: string,
    optional: boolean,
    settings: Settings,
  ): void {
    const path = resolve(this.home, file);
    const written = element.attributes.find((a) => a.name === 'file')?.value.trim() ?? file;
    // as written when it used ${VAR}s: what a variable held is not for the plan (design.md §7)
    const shown = written.includes('${') ? written : path;
    const read = readEnvFile(path);
    if (!read.ok) {
      if (read.missing && optional) {
        settings.envFiles.push({ shown, optional, found: false, names: [] });
        return;
      }
      const hint = read.missing ? ' (add optional="true" if it may be absent)' : '';
      const at = shown === file ? quoted(file) : `${quoted(file)} (${quoted(path)})`;
      this.report(element, where, `attribute file: ${at}: ${read.message}${hint}`);
      settings.invalid.add('environment');
      return;
    }
    for (const [name, value] of Object.entries(read.variables)) setVariable(settings.env, name, value);
    settings.envFiles.push({ shown, optional, found: true, names: Object.keys(read.variables) });
  }

  private dependsOn(element: XmlElement, where: string, settings: Settings): void {
    const attrs = this.attributes(element, ['server', 'condition'], where, 'server="ID" condition="ready"');
    this.noContent(element, where);
    const server = attrs.get('server');
    const condition = this.typed(element, where, attrs.get('condition'), 'condition', (t) =>
      parseChoice(t, dependencyConditions),
    );
    if (server === undefined) {
      if (!element.attributes.some((a) => a.name === 'server'))
        this.report(element, where, 'missing attribute server: expected <dependsOn server="ID"/>');
      return;
    }
    if (server === '') {
      this.report(element, where, 'attribute server is empty: expected the id of a server');
      return;
    }
    const earlier = settings.dependsOn.find((d) => d.server === server);
    if (earlier) {
      this.report(
        element,
        where,
        `depends on ${quoted(server)} twice (first on line ${earlier.line}): one <dependsOn> per server`,
      );
      return;
    }
    if (attrs.has('condition') && condition === undefined) return;
    settings.dependsOn.push({ server, condition: condition ?? 'ready', line: element.line, where });
  }

  private schedule(element: XmlElement, where: string): ScheduleSpec | undefined {
    const attrs = this.attributes(element, ['cron', 'timezone'], where, 'cron="*/15 * * * *"');
    this.noContent(element, where);
    const cron = attrs.get('cron');
    const timezone = attrs.get('timezone');
    if (cron === undefined) {
      if (!element.attributes.some((a) => a.name === 'cron'))
        this.report(
          element,
          where,
          'missing attribute cron: expected <schedule cron="*/15 * * * *"/> or cron="@every 15m"',
        );
      return undefined;
    }
    if (cron === '') {
      this.report(element, where, 'attribute cron is empty: expected five cron fields or @every DURATION');
      return undefined;
    }
    if (timezone === '') {
      this.report(element, where, 'attribute timezone is empty: expected an IANA name such as Europe/Berlin');
      return undefined;
    }
    const spec: ScheduleSpec = { cron, ...(timezone !== undefined ? { timezone } : {}) };
    const parsed = parseSchedule(spec);
    if (!parsed.ok) {
      this.report(element, where, `attribute ${parsed.attribute}: ${parsed.message}`);
      return undefined;
    }
    return spec;
  }

  private limits(element: XmlElement, where: string): Settings['limits'] {
    const attrs = this.attributes(element, ['memory', 'checkInterval'], where, 'memory="1GiB"');
    this.noContent(element, where);
    const before = this.problems.items.length;
    const memory = this.typed(element, where, attrs.get('memory'), 'memory', parseSize);
    const checkInterval = this.typed(element, where, attrs.get('checkInterval'), 'checkInterval', (t) =>
      parseSeconds(t, { positive: true }),
    );
    if (this.problems.items.length > before) return undefined;
    if (memory === undefined) {
      this.report(element, where, 'missing attribute memory: expected <limits memory="1GiB"/>');
      return undefined;
    }
    return { memory, checkInterval: checkInterval ?? defaults.limits.checkInterval };
  }

  private restart(element: XmlElement, where: string): RestartSetting | undefined {
    const attrs = this.attributes(element, ['policy', 'backoffInitial', 'backoffMax', 'resetAfter'], where);
    this.noContent(element, where);
    const before = this.problems.items.length;
    const policy = this.typed(element, where, attrs.get('policy'), 'policy', (t) =>
      parseChoice(t, ['always', 'on-failure', 'never'] as const),
    );
    const seconds = (name: string) =>
      this.typed(element, where, attrs.get(name), name, (t) => parseSeconds(t));
    // no policy here: the default depends on the kind, which a later profile or the server may set
    const restart: RestartSetting = {
      ...(policy !== undefined ? { policy } : {}),
      backoffInitial: seconds('backoffInitial') ?? defaults.restart.backoffInitial,
      backoffMax: seconds('backoffMax') ?? defaults.restart.backoffMax,
      resetAfter: seconds('resetAfter') ?? defaults.restart.resetAfter,
    };
    if (this.problems.items.length > before) return undefined;
    if (restart.backoffMax < restart.backoffInitial) {
      this.report(
        element,
        where,
        `backoffMax (${restart.backoffMax}) is less than backoffInitial (${restart.backoffInitial}): the backoff cannot grow to its cap`,
      );
      return undefined;
    }
    return restart;
  }

  private check(element: XmlElement, where: string): CheckSpec | undefined {
    const types = element.name === 'readiness' ? checkTypes : checkTypes.filter((t) => t !== 'fd');
    const typeAttr = element.attributes.find((a) => a.name === 'type');
    const typeText =
      typeAttr === undefined ? undefined : this.expand(element, where, typeAttr.value.trim(), 'type');
    const type = types.find((t) => t === typeText);
    if (typeAttr === undefined) {
      this.report(element, where, `missing attribute type: expected type="${types.join('", "')}"`);
    } else if (typeText !== undefined && type === undefined) {
      const why = typeText === 'fd' ? ' (fd is for readiness only)' : '';
      this.report(element, where, `unknown check type ${quoted(typeText)}: expected ${orList(types)}${why}`);
    }

    const known = [...checkTimingAttributes, ...Object.values(checkTypeAttributes).flat()];
    const allowed = type ? [...checkTimingAttributes, ...checkTypeAttributes[type]] : known;
    const attrs = new Map<string, string>();
    for (const { name, value } of element.attributes) {
      if (name === 'type' || name === 'xmlns' || name.startsWith('xmlns:') || name.startsWith('xsi:'))
        continue;
      if (!known.includes(name)) {
        const near = closest(name, allowed);
        this.report(
          element,
          where,
          `unknown attribute ${name}${near ? `: did you mean ${near}?` : `: expected ${allowed.join(', ')}`}`,
        );
      } else if (!allowed.includes(name)) {
        this.report(element, where, `attribute ${name} does not apply to a ${type} check`);
      } else {
        const expanded = this.expand(element, where, value.trim(), name);
        if (expanded !== undefined) attrs.set(name, expanded);
      }
    }

    const args: string[] = [];
    const writtenArgs: string[] = [];
    if (type === 'exec') {
      for (const argument of this.children(element, ['argument'], where, undefined)) {
        const text = this.value(argument, where);
        if (text !== undefined) {
          args.push(text);
          writtenArgs.push(argument.text.trim());
        }
      }
    } else {
      this.noContent(element, where);
    }
    if (type === undefined) return undefined;

    const before = this.problems.items.length;
    const seconds = (name: string, fallback: number) =>
      this.typed(element, where, attrs.get(name), name, (t) => parseSeconds(t, { positive: true })) ??
      fallback;
    const timing = {
      interval: seconds('interval', defaults.check.interval),
      timeout: seconds('timeout', defaults.check.timeout),
      failureThreshold:
        this.typed(element, where, attrs.get('failureThreshold'), 'failureThreshold', (t) =>
          parseInteger(t, 1, 1_000_000, 'a whole number of failures'),
        ) ?? defaults.check.failureThreshold,
    };
    const required = (name: string, what: string): string | undefined => {
      const value = attrs.get(name);
      if (value === undefined && !element.attributes.some((a) => a.name === name)) {
        this.report(element, where, `a ${type} check needs attribute ${name} (${what})`);
      } else if (value === '') {
        this.report(element, where, `attribute ${name} is empty: expected ${what}`);
        return undefined;
      }
      return value;
    };
    let spec: CheckSpec | undefined;
    switch (type) {
      case 'http': {
        const url = this.typed(element, where, required('url', 'the URL to probe'), 'url', parseHttpUrl);
        if (url !== undefined) spec = { type, url, ...timing };
        break;
      }
      case 'tcp': {
        const port = this.typed(element, where, required('port', 'the port to connect to'), 'port', (t) =>
          parseInteger(t, 1, 65535, 'a TCP port'),
        );
        const host = attrs.get('host') || defaults.check.tcpHost;
        if (port !== undefined) spec = { type, host, port, ...timing };
        break;
      }
      case 'exec': {
        const command = required('command', 'the program to run');
        const written = element.attributes.find((a) => a.name === 'command')?.value.trim() ?? '';
        if (command)
          spec = { type, command, args, shown: { command: written, args: writtenArgs }, ...timing };
        break;
      }
      case 'fd': {
        const fd = this.typed(element, where, required('fd', 'a descriptor number, 3 or above'), 'fd', (t) =>
          parseInteger(t, 3, 1023, 'a descriptor number (0-2 are stdin, stdout and stderr)'),
        );
        if (fd !== undefined) spec = { type, fd, ...timing };
        break;
      }
    }
    return this.problems.items.length > before ? undefined : spec;
  }

  // ---- element-level helpers -------------------------------------------------------------------

  private report(element: XmlElement, where: string | undefined, message: string): void {
    this.problems.add(element.line, element.name, message, where);
  }

  /** `id` of a server or profile */
  private id(element: XmlElement, what: string, where: string | undefined): string | undefined {
    const attr = element.attributes.find((a) => a.name === 'id');
    if (attr === undefined) {
      this.report(element, where, `missing attribute id: expected <${what} id="...">`);
      return undefined;
    }
    const text = this.expand(element, where, attr.value.trim(), 'id');
    if (text === undefined) return undefined;
    const parsed = parseId(text);
    if (!parsed.ok) {
      this.report(element, where, `attribute id: ${parsed.message}`);
      return undefined;
    }
    return parsed.value;
  }

  /**
   * The allowed attributes, expanded and trimmed; reports the others. An attribute whose value
   * did not expand is absent from the result (and reported).
   */
  private attributes(
    element: XmlElement,
    allowed: string[],
    where: string | undefined,
    expected?: string,
  ): Map<string, string> {
    const values = new Map<string, string>();
    for (const { name, value } of element.attributes) {
      if (name === 'xmlns' || name.startsWith('xmlns:') || name.startsWith('xsi:')) continue;
      if (!allowed.includes(name)) {
        const near = closest(name, allowed);
        const hint = near
          ? `: did you mean ${near}?`
          : expected
            ? `: expected ${expected}`
            : allowed.length === 0
              ? `: <${element.name}> takes no attributes`
              : `: expected ${allowed.join(', ')}`;
        this.report(element, where, `unknown attribute ${name}${hint}`);
        continue;
      }
      const expanded = this.expand(element, where, value.trim(), name);
      if (expanded !== undefined) values.set(name, expanded);
    }
    return values;
  }

  /** the children of a container element that are allowed there; reports the others and duplicates */
  private *children(
    element: XmlElement,
    allowed: string[],
    where: string | undefined,
    singles: Map<string, number> | undefined,
  ): Generator<XmlElement> {
    this.text(element, where);
    for (const child of element.children) {
      if (!allowed.includes(child.name)) {
        // past the listed maximum only the count goes on: no suggestion worked out for nothing
        const message = this.problems.full ? '' : this.unknownElement(child.name, element.name, allowed);
        this.report(child, where, message);
        continue;
      }
      if (singles && !repeatable.has(child.name)) {
        const first = singles.get(child.name);
        if (first !== undefined) {
          this.report(
            child,
            where,
            `given twice (first on line ${first}): only one <${child.name}> is allowed here`,
          );
          continue;
        }
        singles.set(child.name, child.line);
      }
      yield child;
    }
  }

  private unknownElement(name: string, parent: string, allowed: string[]): string {
    if (name === 'profile' && parent === 'profile') {
      return 'a profile cannot refer to another profile: put the <profile ref> on the server';
    }
    const home = parentsOf.get(name);
    if (home !== undefined && home !== parent)
      return `not allowed inside <${parent}>: <${name}> belongs in <${home}>`;
    const near = closest(name, allowed);
    if (near !== undefined) {
      const caseOnly = near.toLowerCase() === name.toLowerCase() ? ' (element names are case-sensitive)' : '';
      return `unknown element${caseOnly}: did you mean <${near}>?`;
    }
    return `unknown element inside <${parent}>: expected ${allowed.map((a) => `<${a}>`).join(', ')}`;
  }

  /** reports text where elements were expected */
  private text(element: XmlElement, where: string | undefined): void {
    const text = element.text.trim();
    if (text === '') return;
    this.report(
      element,
      where,
      `unexpected text ${quoted(text, 40)}: <${element.name}> holds elements, not text`,
    );
  }

  /** for elements that carry everything in attributes */
  private noContent(element: XmlElement, where: string | undefined): void {
    for (const child of element.children) {
      this.report(child, where, `not allowed inside <${element.name}>: it takes attributes only`);
    }
    if (element.text.trim() !== '') {
      this.report(element, where, `<${element.name}> takes attributes only, not text`);
    }
  }

  /** the trimmed, expanded text of a value element; undefined (reported) when it cannot be had */
  private value(element: XmlElement, where: string | undefined, checkAttributes = true): string | undefined {
    if (checkAttributes) this.attributes(element, [], where);
    for (const child of element.children) {
      this.report(child, where, `not allowed inside <${element.name}>: <${element.name}> takes a text value`);
    }
    return this.expand(element, where, element.text.trim(), undefined);
  }

  private nonEmpty(element: XmlElement, where: string, text: string, what: string): string | undefined {
    if (text !== '') return text;
    this.report(element, where, `is empty: expected ${what}`);
    return undefined;
  }

  private expand(element: XmlElement, where: string | undefined, raw: string, attribute: string | undefined) {
    const { value, errors } = expandVariables(raw, this.env);
    for (const error of errors)
      this.report(element, where, attribute ? `attribute ${attribute}: ${error}` : error);
    return errors.length > 0 ? undefined : value;
  }

  /** parses a value (of the element, or of one of its attributes) and reports a bad one */
  private typed<T>(
    element: XmlElement,
    where: string | undefined,
    text: string | undefined,
    attribute: string | undefined,
    parse: (text: string) => Parsed<T>,
  ): T | undefined {
    if (text === undefined) return undefined;
    const parsed = parse(text);
    if (parsed.ok) return parsed.value;
    this.report(element, where, attribute ? `attribute ${attribute}: ${parsed.message}` : parsed.message);
    return undefined;
  }
}
