// The optional file log of <log>: one file per day, named after the configured path with the date
// inserted (logs/Supervisor.log -> logs/Supervisor-2025-11-24.log), as the original supervisor did.
// pino-roll was the first choice but always adds a counter and dots (Supervisor.2025-11-24.1.log),
// so the rotation is left to rotating-file-stream, whose "immutable" mode writes straight into the
// file a name generator gives for the current period and opens the next one at midnight.
import { readdirSync, statSync, unlinkSync } from 'node:fs';
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

const DAY_MS = 86_400_000;

export interface Retention {
  /** daily files older than this many days are deleted (design.md §7 rev. 2); 0 keeps them all */
  days: number;
  /** told what was deleted, and what could not be */
  onPruned?(deleted: string[], failed: Array<{ file: string; error: string }>): void;
}

/**
 * Deletes the daily files of `configured` (Supervisor-YYYY-MM-DD.log beside Supervisor.log) that
 * are older than `days`: the day in the name is more than `days` days before today (local time,
 * as the rotation) and the file was last written more than `days` days ago. Both must agree, so
 * a file written to recently is never deleted, and only names of this exact pattern are touched.
 */
export function pruneDailyFiles(
  configured: string,
  days: number,
  now = new Date(),
): { deleted: string[]; failed: Array<{ file: string; error: string }> } {
  const deleted: string[] = [];
  const failed: Array<{ file: string; error: string }> = [];
  if (!(days > 0)) return { deleted, failed };
  const directory = dirname(configured);
  const extension = extname(configured);
  const stem = basename(configured, extension);
  const today = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  // the oldest day kept: `days` days before today
  const oldestKept = new Date(today.getFullYear(), today.getMonth(), today.getDate() - days);
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch {
    return { deleted, failed };
  }
  for (const name of names) {
    if (!name.startsWith(`${stem}-`) || !name.endsWith(extension)) continue;
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(
      name.slice(stem.length + 1, name.length - extension.length),
    );
    if (!match) continue;
    const day = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
    if (formatDay(day) !== `${match[1]}-${match[2]}-${match[3]}` || day >= oldestKept) continue;
    const file = join(directory, name);
    try {
      const stat = statSync(file);
      if (!stat.isFile() || now.getTime() - stat.mtimeMs <= days * DAY_MS) continue;
      unlinkSync(file);
      deleted.push(file);
    } catch (error) {
      failed.push({ file, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return { deleted, failed };
}

/**
 * A stream that appends to today's file and moves on to the next day's at midnight. With a
 * retention, old daily files are pruned whenever a file is opened: at start and at each rotation.
 */
export function openDailyFile(configured: string, retention?: Retention): RotatingFileStream {
  const directory = dirname(configured);
  // loaded only when a <log> file is configured: most containers log to stdout alone
  const { createStream } = createRequire(import.meta.url)(
    'rotating-file-stream',
  ) as typeof import('rotating-file-stream');
  const stream = createStream(
    // called with no time for the "current" name, which immutable mode never writes to
    (time: number | Date | null) =>
      basename(dailyFileName(configured, time instanceof Date ? time : new Date(time ?? Date.now()))),
    { path: `${directory}/`, interval: '1d', immutable: true },
  );
  if (retention && retention.days > 0)
    stream.on('open', () => {
      const { deleted, failed } = pruneDailyFiles(configured, retention.days);
      if (deleted.length > 0 || failed.length > 0) retention.onPruned?.(deleted, failed);
    });
  return stream;
}
