// `s7supervisor logs [ID...] [-f] [-n N] [--json]` (design.md §1 rev. 2): the last lines each
// component printed, from the supervisor's in-memory buffers over the control socket, merged in
// the order they arrived, each prefixed by its id (coloured per component on a terminal, as
// `docker compose logs` does). `-f` follows until Ctrl-C, across restarts of the components (the
// buffer is the component's, whatever its pid) and components a reload adds.
//
// Ctrl-C ends a follow the way it ends `tail -f` or `kubectl logs -f`: the command dies of the
// SIGINT (the shell sees 130), after the lines it has are written, so that a script that was
// interrupted stops instead of going on as if the command had finished (see
// https://www.cons.org/cracauer/sigint.html). A follow the supervisor ends (it stopped) exits 0.
import type { IncomingMessage } from 'node:http';
import type { LogLine } from '../log/buffer.js';
import { ControlClient, ControlError, controlExit, controlExitHelp } from './control-client.js';
import { controlCommand, listComponents, refusal, unknownComponent } from './control-command.js';
import { findControlSocket, socketOptions, socketOptionsHelp } from './control-options.js';
import { UsageError } from './errors.js';
import { parseCommandOptions } from './options.js';

const DEFAULT_LINES = 100;

export const logsHelp = `usage: s7supervisor logs [ID...] [-f] [-n N] [--json] [-t] [--no-color] [--socket PATH] [--registry FILE] [--home DIR]

Prints the last lines each component printed (all components, or the IDs given), merged in the
order they arrived, each prefixed by its id. The supervisor keeps the last <logBuffer lines>
lines of each component in memory (default 1000), whatever its <output> is.

options:
  -f, --follow        keep printing new lines until Ctrl-C (across restarts of the components)
  -n, --lines N       the last N lines of each component (default ${DEFAULT_LINES}; 0 for none, all for
                      everything kept)
  --json              one JSON record a line: seq, time (ms since the epoch), component, stream,
                      pid, msg (and partial: true on a piece of a longer line)
  -t, --timestamps    each line with its time (UTC)
  --no-color          no colours, even on a terminal (also NO_COLOR=1; FORCE_COLOR=1 forces them)
${socketOptionsHelp}

${controlExitHelp}
  Ctrl-C ends -f (the command then dies of SIGINT: 130 in the shell); a follow the supervisor
  ends (it stopped) exits 0.`;

/** the colours of `docker compose logs`: cycled through, one per component */
const palette = [36, 33, 32, 35, 34, 96, 93, 92, 95, 94];

interface Printer {
  print(lines: LogLine[]): void;
}

export async function logsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandOptions(
    'logs',
    argv,
    {
      ...socketOptions,
      follow: { type: 'boolean', short: 'f' },
      lines: { type: 'string', short: 'n' },
      json: { type: 'boolean' },
      timestamps: { type: 'boolean', short: 't' },
      'no-color': { type: 'boolean' },
    },
    { usage: logsHelp, allowPositionals: true },
  );
  if (values.help) {
    process.stdout.write(`${logsHelp}\n`);
    return 0;
  }
  const tail = values.lines ?? String(DEFAULT_LINES);
  if (tail !== 'all' && !/^\d{1,9}$/.test(tail))
    throw new UsageError(`logs: -n must be a whole number of lines or "all", not '${tail}'`);
  const ids = [...new Set(positionals)];

  return controlCommand(async () => {
    const client = new ControlClient(findControlSocket(values, process.env));
    const known = (await listComponents(client)).components.map((c) => c.id);
    for (const id of ids) if (!known.includes(id)) throw await unknownComponent(client, id);
    const printer = values.json
      ? jsonPrinter()
      : textPrinter(ids.length > 0 ? ids : known, known, {
          colour: useColour(values['no-color'] === true),
          timestamps: values.timestamps === true,
        });
    const query = `${ids.map((id) => `component=${encodeURIComponent(id)}&`).join('')}tail=${tail}`;
    if (!values.follow) {
      const answer = await client.get(`/api/v1/logs?${query}`);
      if (answer.status !== 200) throw await refusal(client, answer, ids[0]);
      printer.print(parseJsonLines(answer.text));
      await drained();
      return controlExit.ok;
    }
    return follow(client, query, printer);
  });
}

/** colours: never with --no-color or NO_COLOR; always with FORCE_COLOR; else on a terminal */
function useColour(off: boolean): boolean {
  const env = process.env;
  if (off || (env.NO_COLOR !== undefined && env.NO_COLOR !== '')) return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0') return true;
  return process.stdout.isTTY === true;
}

function jsonPrinter(): Printer {
  return {
    print(lines) {
      let text = '';
      for (const line of lines) text += `${JSON.stringify(line)}\n`;
      if (text) process.stdout.write(text);
    },
  };
}

/** `is   | the line`, the id padded to the widest shown, coloured by its place among all ids */
function textPrinter(
  shown: string[],
  all: string[],
  options: { colour: boolean; timestamps: boolean },
): Printer {
  let width = Math.max(1, ...shown.map((id) => id.length));
  const prefixes = new Map<string, string>();
  const prefix = (id: string) => {
    let text = prefixes.get(id);
    if (text === undefined) {
      width = Math.max(width, id.length);
      const plain = `${id.padEnd(width)} | `;
      let index = all.indexOf(id);
      if (index < 0) index = all.push(id) - 1;
      text = options.colour ? `\x1b[${palette[index % palette.length]}m${plain}\x1b[0m` : plain;
      prefixes.set(id, text);
    }
    return text;
  };
  return {
    print(lines) {
      let text = '';
      for (const line of lines) {
        const time = options.timestamps ? `${new Date(line.time).toISOString()} ` : '';
        text += `${prefix(line.component)}${time}${line.msg}\n`;
      }
      if (text) process.stdout.write(text);
    },
  };
}

function parseJsonLines(text: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const row of text.split('\n')) if (row !== '') lines.push(JSON.parse(row) as LogLine);
  return lines;
}

/** resolves once what was written to stdout has been handed on */
function drained(): Promise<void> {
  return new Promise((resolve) => process.stdout.write('', () => resolve()));
}

/**
 * Follows /api/v1/logs until Ctrl-C or the supervisor ends the stream. A stream that breaks while
 * the supervisor still answers (it drops a follower that does not keep up) is opened again from
 * the last line seen, so nothing still kept is missed.
 */
async function follow(client: ControlClient, query: string, printer: Printer): Promise<number> {
  let lastSeq: number | undefined;
  let abort: () => void = () => {};
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted = signal;
    abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // `logs -f | head`: the reader went away, which is an end like any other
  process.stdout.on('error', () => onSignal('SIGPIPE'));
  try {
    for (let attempt = 0; ; attempt++) {
      const since = lastSeq === undefined ? '' : `&since=${lastSeq}`;
      const opened = client.stream(`/api/v1/logs?${query}&follow=1${since}`);
      abort = opened.abort;
      let response: IncomingMessage;
      try {
        response = await opened.response;
      } catch (error) {
        if (interrupted) break;
        // the supervisor went away between two streams: that ends the follow
        if (attempt > 0 && error instanceof ControlError) {
          process.stderr.write('s7supervisor: the supervisor stopped: end of its output\n');
          return controlExit.ok;
        }
        throw error;
      }
      if (response.statusCode !== 200) {
        const text = await readAll(response);
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        throw await refusal(client, { status: response.statusCode ?? 0, json, text });
      }
      await readEvents(response, (line) => {
        lastSeq = line.seq;
        printer.print([line]);
      });
      if (interrupted) break;
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (interrupted === 'SIGPIPE') return controlExit.ok;
  // what was printed reaches the reader first; then we die of the signal, as `tail -f` does
  await drained();
  process.kill(process.pid, interrupted ?? 'SIGINT');
  // not reached once the signal is delivered; the exit code says it otherwise
  return 128 + (interrupted === 'SIGTERM' ? 15 : 2);
}

/** reads Server-Sent Events until the stream ends; calls `onLine` for every log line */
function readEvents(response: IncomingMessage, onLine: (line: LogLine) => void): Promise<void> {
  return new Promise((resolve) => {
    let text = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      text += chunk;
      let end = text.indexOf('\n\n');
      while (end >= 0) {
        const block = text.slice(0, end);
        text = text.slice(end + 2);
        end = text.indexOf('\n\n');
        let event = 'message';
        let data = '';
        for (const field of block.split('\n')) {
          if (field.startsWith('event: ')) event = field.slice(7);
          else if (field.startsWith('data: ')) data += field.slice(6);
        }
        if (event === 'message' && data !== '') onLine(JSON.parse(data) as LogLine);
      }
    });
    response.once('end', resolve);
    response.once('close', resolve);
    response.once('error', () => resolve());
  });
}

function readAll(response: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.once('error', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}
