// The terminal's view of a log record (pino-pretty, in-process): one line per record,
// `HH:MM:ss.l LEVEL: [component stream] message key=value ...`. The JSON records are unchanged;
// only what a person reads on a terminal is shortened. (pino-pretty's messageFormat templates
// cannot nest {if}: a function does what the template could not.)
import { createRequire } from 'node:module';

/** shown by pino-pretty itself (time, level) or in the prefix: never repeated as a field */
const shownElsewhere = new Set(['level', 'time', 'msg', 'hostname', 'component', 'stream']);

/** an argument as a shell would read it back: bare when it can be, else single-quoted */
function shellWord(word: string): string {
  return /^[\w@%+=:,./${}-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function fieldValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return JSON.stringify(value) ?? String(value);
}

/** the message of one record, on one line: the prefix, the message, then its fields */
export function prettyMessage(log: Record<string, unknown>, messageKey = 'msg'): string {
  const component = typeof log.component === 'string' ? log.component : undefined;
  const stream = typeof log.stream === 'string' ? log.stream : undefined;
  const prefix = component ? `[${stream ? `${component} ${stream}` : component}] ` : '';
  const message = String(log[messageKey] ?? '');
  // a component's own output line: its text only (the pid is the run's, the stream in the prefix)
  if (stream) return `${prefix}${message}`;
  const fields: string[] = [];
  let commandLine: string | undefined;
  const args = Array.isArray(log.args) ? (log.args as unknown[]) : undefined;
  for (const [key, value] of Object.entries(log)) {
    if (shownElsewhere.has(key) || key === messageKey || value === null || value === undefined) continue;
    if (key === 'args' && args) continue;
    if (key === 'command' && typeof value === 'string' && args) {
      // the command line, last, as a shell would take it: not a multi-line dump of the arguments
      commandLine = [value, ...args.map(String)].map(shellWord).join(' ');
      continue;
    }
    fields.push(`${key}=${fieldValue(value)}`);
  }
  const shown = `${prefix}${message}${fields.length > 0 ? ` ${fields.join(' ')}` : ''}`;
  return `${shown}${commandLine ? `: ${commandLine}` : ''}`.replace(/[\r\n]+/g, ' ');
}

/** pino-pretty with our one-line format; loaded only for a terminal (in a container it would be memory spent for nothing) */
export function prettifier(options: { colorize?: boolean } = {}): (record: string) => string {
  const PinoPretty = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
  return PinoPretty.prettyFactory({
    colorize: options.colorize ?? true,
    translateTime: 'SYS:HH:MM:ss.l',
    // the header's pid would be ours (1 in a container): a component's is among the fields
    ignore: 'pid,hostname',
    hideObject: true,
    messageFormat: (log, messageKey) => prettyMessage(log, messageKey),
  });
}
