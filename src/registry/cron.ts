// When a scheduled oneshot runs next (design.md §3 rev. 2): five-field cron (croner does the
// calendar: ranges, steps, names, day-of-month OR day-of-week as Vixie cron, time zones and DST),
// or `@every DURATION`, which no cron library has and which is only arithmetic.
// Pure: no timer is made here, the caller's clock says what "now" is, so a fake clock tests it.
import { Cron } from 'croner';
import type { ScheduleSpec } from './model.js';
import { type Parsed, quoted } from './values.js';

export interface Schedule {
  /** the first run strictly after `after` */
  nextRun(after: Date): Date;
  /** what the plan and status say, e.g. `every 15m` or `cron 30 2 * * * (Europe/Berlin)` */
  readonly description: string;
}

/** `@every` shorter than this is a busy loop of processes, not a schedule */
export const MIN_EVERY_SECONDS = 1;
/** longer than this is no schedule either (and a timer that far out would overflow anyway) */
const MAX_EVERY_SECONDS = 366 * 24 * 3600;

const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };

/** `30s`, `15m`, `1h30m`, `1.5h`, `2d`: seconds, or why not */
export function parseDuration(text: string): Parsed<number> {
  const fail = (why: string): Parsed<number> => ({
    ok: false,
    message: `${why}: expected a duration such as 30s, 15m, 1h30m or 1d, got ${quoted(text)}`,
  });
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(text)) return fail('not a duration');
  let seconds = 0;
  for (const [, amount, , unit] of text.matchAll(/(\d+(\.\d+)?)(ms|s|m|h|d)/g))
    seconds += Number(amount) * (units[unit ?? 's'] ?? 1);
  if (seconds < MIN_EVERY_SECONDS) return fail(`shorter than ${MIN_EVERY_SECONDS}s`);
  if (seconds > MAX_EVERY_SECONDS) return fail('longer than a year');
  return { ok: true, value: seconds };
}

/** A time zone Intl knows (IANA names such as Europe/Berlin, or UTC). */
export function parseTimezone(text: string): Parsed<string> {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: text });
    return { ok: true, value: text };
  } catch {
    return {
      ok: false,
      message: `unknown time zone ${quoted(text)}: expected an IANA name such as UTC, Europe/Berlin or America/New_York`,
    };
  }
}

export type ParsedSchedule =
  | { ok: true; value: Schedule }
  | { ok: false; attribute: 'cron' | 'timezone'; message: string };

/**
 * The schedule `spec` describes, or why it cannot be one (and which attribute is wrong). A bad expression or zone is a registry
 * error, so this is what the reader calls to validate, and the wiring calls again to run it.
 */
export function parseSchedule(spec: ScheduleSpec): ParsedSchedule {
  const expression = spec.cron.trim();
  const every = /^@every\s+(\S+)$/.exec(expression);
  if (every) {
    if (spec.timezone !== undefined) {
      // an interval is the same in every zone: a zone given with it is a misunderstanding
      return {
        ok: false,
        attribute: 'timezone',
        message: 'does not apply to @every (an interval is the same in every zone)',
      };
    }
    const seconds = parseDuration(every[1] ?? '');
    if (!seconds.ok) return { ok: false, attribute: 'cron', message: `@every: ${seconds.message}` };
    return { ok: true, value: everySchedule(seconds.value, every[1] ?? '') };
  }
  if (expression.startsWith('@every')) {
    return {
      ok: false,
      attribute: 'cron',
      message: `expected @every DURATION such as @every 15m, got ${quoted(expression)}`,
    };
  }
  if (spec.timezone !== undefined) {
    const zone = parseTimezone(spec.timezone);
    if (!zone.ok) return { ok: false, attribute: 'timezone', message: zone.message };
  }
  let cron: Cron;
  try {
    // paused and without a function: croner makes no timer, it only computes dates
    cron = new Cron(expression, {
      paused: true,
      mode: '5-part',
      ...(spec.timezone !== undefined ? { timezone: spec.timezone } : {}),
    });
  } catch (error) {
    const why = error instanceof Error ? error.message.replace(/^CronPattern: /, '') : String(error);
    return {
      ok: false,
      attribute: 'cron',
      message: `${quoted(expression)} is not a five-field cron expression (minute hour day-of-month month day-of-week, e.g. */15 * * * *) or @every DURATION: ${why}`,
    };
  }
  // a valid pattern can still never match (30 February): that is a mistake, not a schedule
  const first = cron.nextRun(new Date(0));
  if (first === null)
    return { ok: false, attribute: 'cron', message: `${quoted(expression)} never matches a date` };
  const zone = spec.timezone !== undefined ? ` (${spec.timezone})` : '';
  return {
    ok: true,
    value: {
      description: `cron ${expression}${zone}`,
      nextRun(after: Date): Date {
        // croner strips milliseconds and looks for the first time after that whole second
        const next = cron.nextRun(after);
        if (next === null)
          throw new Error(`the schedule ${expression} has no run after ${after.toISOString()}`);
        return next;
      },
    },
  };
}

/**
 * `@every` counts from `after`, which the caller makes the time the last run was due: a fixed grid,
 * as with Go's robfig/cron `@every`, so a run still going when the next one is due makes that one
 * skipped (design.md §3), instead of the grid drifting by each run's length.
 */
function everySchedule(seconds: number, written: string): Schedule {
  return {
    description: `every ${written}`,
    nextRun: (after) => new Date(after.getTime() + seconds * 1000),
  };
}
