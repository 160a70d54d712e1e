// What `s7supervisor convert` builds from a supervisord.conf, a Procfile or a process-compose.yaml
// before it is written out as XML: the registry's server settings, plus the comments that say
// what had no equivalent. Each source format has its reader; xml.ts is the one writer.
//
// Every string here is registry text, exactly as it goes into the XML (before XML escaping):
// `${NAME}` is a reference the supervisor expands when it loads the registry, so a literal `${`
// from a source file must already be written `$${` (see `literal`).

import type { DependencyCondition } from '../registry/model.js';

export type SourceFormat = 'supervisord' | 'procfile' | 'process-compose';

/** a number of seconds or a count; registry text such as `${WAIT_SEC}` when the source had a variable */
export type Amount = number | string;

export interface ConvertedCheck {
  type: 'http' | 'exec';
  /** http */
  url?: string;
  /** exec */
  command?: string;
  args?: string[];
  interval?: Amount;
  timeout?: Amount;
  failureThreshold?: Amount;
}

export interface ConvertedRestart {
  policy: 'always' | 'on-failure' | 'never';
  backoffInitial?: Amount;
  backoffMax?: Amount;
}

export interface ConvertedServer {
  id: string;
  /** XML comments written first inside <server>: settings without an equivalent, mapping notes */
  notes: string[];
  description?: string;
  command: string;
  args: string[];
  env: Array<[name: string, value: string]>;
  workingDirectory?: string;
  user?: string;
  /** runs to completion (others wait for it to complete) */
  kind?: 'oneshot';
  startPriority?: number;
  /** server ids, as written in the registry */
  dependsOn?: Array<{ server: string; condition: DependencyCondition }>;
  startDelay?: Amount;
  stopTimeout?: Amount;
  stopSignal?: string;
  restart?: ConvertedRestart;
  readiness?: ConvertedCheck;
  liveness?: ConvertedCheck;
  critical?: boolean;
  /** raw when the source passed the program's output straight through (stdout_logfile=/dev/stdout) */
  output?: 'raw';
  /**
   * Set when the source would not start this program on its own (autostart=false, disabled:
   * true): the server is written inside a comment, with this reason, so that `check` and `run`
   * ignore it and a person can uncomment it.
   */
  leftOut?: string;
}

export interface ConvertedRegistry {
  /** the file converted, as given on the command line */
  source: string;
  format: SourceFormat;
  /** comments written before <servers>: file-wide settings without an equivalent */
  notes: string[];
  servers: ConvertedServer[];
}

/** A source file that cannot be converted: one line naming the file (and the line when known). */
export class ConvertError extends Error {
  override name = 'ConvertError';
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly reason: string,
  ) {
    super(`${file}${line === undefined ? '' : `:${line}`}: ${reason}`);
  }
}

/** registry text for a literal string: `${` would be read as a variable reference */
export function literal(text: string): string {
  // a function, because in a replacement string '$$' means one '$'
  return text.replaceAll('${', () => '$${');
}

/**
 * A registry server id from a program name: ids are letters, digits, '.', '_' and '-', starting
 * with a letter or digit (they appear in URLs and metric labels). Anything else becomes '-'.
 */
export function serverId(name: string): string {
  const id = name
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 63);
  return id === '' ? 'server' : id;
}

/** Makes every id unique (`web`, `web-2`...), noting each rename in the server's notes. */
export function uniqueIds(servers: ConvertedServer[], names: string[]): void {
  const taken = new Set<string>();
  servers.forEach((server, index) => {
    const name = names[index] ?? server.id;
    let id = serverId(name);
    for (let n = 2; taken.has(id); n++) id = `${serverId(name).slice(0, 60)}-${n}`;
    taken.add(id);
    if (id !== name) server.notes.unshift(`"${name}" is not usable as a server id: renamed "${id}"`);
    server.id = id;
  });
}
