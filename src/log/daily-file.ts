// The optional file log of <log>: one file per day, named after the configured path with the date
// inserted (logs/Supervisor.log -> logs/Supervisor-2025-11-24.log), as the original supervisor did.
// pino-roll was the first choice but always adds a counter and dots (Supervisor.2025-11-24.1.log),
// so the rotation is left to rotating-file-stream, whose "immutable" mode writes straight into the
// file a name generator gives for the current period and opens the next one at midnight.
import { createRequire } from 'node:module';
import { basename, dirname, extname, join } from 'node:path';
import type { RotatingFileStream } from 'rotating-file-stream';

/** logs/Supervisor.log + a day -> logs/Supervisor-YYYY-MM-DD.log (local time, as the rotation) */
export function dailyFileName(configured: string, day: Date): string {
  const extension = extname(configured);
  const stem = basename(configured, extension);
  return join(dirname(configured), `${stem}-${formatDay(day)}${extension}`);
}

export function formatDay(day: Date): string {
  const month = String(day.getMonth() + 1).padStart(2, '0');
  const date = String(day.getDate()).padStart(2, '0');
  return `${day.getFullYear()}-${month}-${date}`;
}

/** A stream that appends to today's file and moves on to the next day's at midnight. */
export function openDailyFile(configured: string): RotatingFileStream {
  const directory = dirname(configured);
  // loaded only when a <log> file is configured: most containers log to stdout alone
  const { createStream } = createRequire(import.meta.url)(
    'rotating-file-stream',
  ) as typeof import('rotating-file-stream');
  return createStream(
    // called with no time for the "current" name, which immutable mode never writes to
    (time: number | Date | null) =>
      basename(dailyFileName(configured, time instanceof Date ? time : new Date(time ?? Date.now()))),
    { path: `${directory}/`, interval: '1d', immutable: true },
  );
}
