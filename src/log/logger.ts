// The supervisor's own logger: pino JSON lines on stdout (pretty on a terminal), plus the daily
// file of <log>. Records go through a LogSink shared with the components' output (output.ts), so
// both keep their order and obey the same backpressure.
import { hostname } from 'node:os';
import type { Writable } from 'node:stream';
import { isatty } from 'node:tty';
import { type Level, type Logger, pino } from 'pino';
import { openDailyFile } from './daily-file.js';
import { prettifier } from './pretty.js';
import { LogSink } from './sink.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** a pino level name: fatal, error, warn, info, debug, trace or silent */
  level: string;
  /** the configured <log> path (e.g. /x/logs/Supervisor.log); records also go to its daily file */
  file?: string;
  /** daily files older than this many days are deleted at start and at each rotation (0: kept) */
  retentionDays?: number;
  /** human-readable stdout; default: when stdout is a terminal */
  pretty?: boolean;
  /** for tests and embedding; default process.stdout / process.stderr */
  stdout?: Writable;
  stderr?: Writable;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(name: string): name is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(name);
}

/** <tracelevel>: 1 warn, 2 info, 3 debug, 4 trace (out-of-range values clamp to the nearest end) */
export function levelFromTracelevel(tracelevel: number): Level {
  if (tracelevel <= 1) return 'warn';
  if (tracelevel === 2) return 'info';
  if (tracelevel === 3) return 'debug';
  return 'trace';
}

const sinkKey = Symbol('s7supervisor.logSink');
type WithSink = Logger & { [sinkKey]?: LogSink };
const openSinks = new Set<LogSink>();

export function createLogger(options: LoggerOptions): Logger {
  if (!isLogLevel(options.level)) {
    throw new Error(`unknown log level "${options.level}": expected one of ${LOG_LEVELS.join(', ')}`);
  }
  const pretty = options.pretty ?? (options.stdout ? false : isatty(1));
  const file = options.file
    ? openDailyFile(options.file, {
        days: options.retentionDays ?? 0,
        // only called once the file is open, after `logger` below exists
        onPruned: (deleted, failed) => {
          if (deleted.length > 0)
            logger.info(
              { files: deleted, retentionDays: options.retentionDays },
              'deleted old daily log files',
            );
          if (failed.length > 0)
            logger.warn(
              { files: failed, retentionDays: options.retentionDays },
              'cannot delete old daily log files',
            );
        },
      })
    : undefined;
  const sink = new LogSink({
    ...(options.stdout ? { stdout: options.stdout } : {}),
    ...(options.stderr ? { stderr: options.stderr } : {}),
    file,
    prettify: pretty ? prettifier() : undefined,
  });
  // No pid in the base: the supervisor's is 1 in a container, and records about a component
  // carry that component's pid under the same key.
  const logger = pino({ level: options.level, base: { hostname: hostname() } }, sink.records) as WithSink;
  // children are created with Object.create(parent), so they find the sink too
  logger[sinkKey] = sink;
  if (file) {
    file.once('error', (error: Error) =>
      logger.error(
        { file: options.file, error: error.message },
        'cannot write the log file; logging to stdout only',
      ),
    );
  }
  if (openSinks.size === 0) process.once('exit', flushAllSync);
  openSinks.add(sink);
  return logger;
}

/** the sink behind a logger made by createLogger (or one of its children) */
export function logSink(logger: Logger): LogSink {
  const sink = (logger as WithSink)[sinkKey];
  if (!sink) throw new Error('this logger was not made by createLogger');
  return sink;
}

/**
 * Resolves once every record logged so far (by this logger, or by every logger when none is given)
 * has been handed to the operating system. Await it before process.exit(): writes to a pipe that
 * are still queued when the process exits are lost.
 */
export async function flushLogger(logger?: Logger): Promise<void> {
  const sinks = logger ? [logSink(logger)] : [...openSinks];
  await Promise.all(sinks.map((sink) => sink.flush()));
}

/** flushes and closes the log file; the logger must not be used afterwards */
export async function closeLogger(logger: Logger): Promise<void> {
  const sink = logSink(logger);
  openSinks.delete(sink);
  await sink.close();
}

function flushAllSync(): void {
  for (const sink of openSinks) sink.flushSync();
}
