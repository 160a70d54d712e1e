// src/registry/cron.ts: next run times from a clock the caller gives (fixed dates here).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDuration, parseSchedule, type Schedule } from '../../src/registry/cron.js';

function schedule(cron: string, timezone?: string): Schedule {
  const parsed = parseSchedule({ cron, ...(timezone !== undefined ? { timezone } : {}) });
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.message);
  return parsed.value;
}

const at = (iso: string) => new Date(iso);

test('five fields with a time zone: weekdays 09:30 in Berlin, across the spring DST change', () => {
  const s = schedule('30 9 * * 1-5', 'Europe/Berlin');
  // Friday 27 March 2026 12:00 UTC: next is Monday 30 March 09:30 CEST (UTC+2, DST began on the 29th)
  assert.equal(s.nextRun(at('2026-03-27T12:00:00Z')).toISOString(), '2026-03-30T07:30:00.000Z');
  // Thursday 26 March 08:00 UTC (09:00 CET): the same day, 09:30 CET = 08:30 UTC
  assert.equal(s.nextRun(at('2026-03-26T08:00:00Z')).toISOString(), '2026-03-26T08:30:00.000Z');
  // exactly at a run: the next one, never the same instant again
  assert.equal(s.nextRun(at('2026-03-26T08:30:00Z')).toISOString(), '2026-03-27T08:30:00.000Z');
  assert.equal(s.description, 'cron 30 9 * * 1-5 (Europe/Berlin)');
});

test('the same expression in another zone gives another instant', () => {
  const from = at('2026-07-01T00:00:00Z');
  assert.equal(schedule('0 2 * * *', 'UTC').nextRun(from).toISOString(), '2026-07-01T02:00:00.000Z');
  assert.equal(
    schedule('0 2 * * *', 'America/New_York').nextRun(from).toISOString(),
    '2026-07-01T06:00:00.000Z',
  );
  assert.equal(schedule('0 2 * * *', 'Asia/Kolkata').nextRun(from).toISOString(), '2026-07-01T20:30:00.000Z');
});

test('steps, lists, names, and day-of-month OR day-of-week as in Vixie cron', () => {
  const from = at('2026-01-01T00:07:00Z');
  const every15 = schedule('*/15 * * * *', 'UTC');
  const runs: string[] = [];
  let t = from;
  for (let i = 0; i < 3; i++) {
    t = every15.nextRun(t);
    runs.push(t.toISOString());
  }
  assert.deepEqual(runs, [
    '2026-01-01T00:15:00.000Z',
    '2026-01-01T00:30:00.000Z',
    '2026-01-01T00:45:00.000Z',
  ]);
  assert.equal(schedule('0 12 * JAN,FEB MON', 'UTC').nextRun(from).toISOString(), '2026-01-05T12:00:00.000Z');
  // the 13th, or any Friday: Friday 2 January comes first
  assert.equal(schedule('0 0 13 * FRI', 'UTC').nextRun(from).toISOString(), '2026-01-02T00:00:00.000Z');
  assert.equal(schedule('@daily', 'UTC').nextRun(from).toISOString(), '2026-01-02T00:00:00.000Z');
});

test('@every 1s and @every 15m count from the time given', () => {
  const second = schedule('@every 1s');
  const start = at('2026-05-01T10:00:00.250Z');
  assert.equal(second.nextRun(start).toISOString(), '2026-05-01T10:00:01.250Z');
  assert.equal(second.nextRun(second.nextRun(start)).toISOString(), '2026-05-01T10:00:02.250Z');
  assert.equal(second.description, 'every 1s');
  const quarter = schedule('@every 15m');
  assert.equal(quarter.nextRun(start).toISOString(), '2026-05-01T10:15:00.250Z');
  assert.equal(schedule('@every 1h30m').nextRun(start).toISOString(), '2026-05-01T11:30:00.250Z');
});

test('durations', () => {
  const seconds = (text: string) => {
    const parsed = parseDuration(text);
    return parsed.ok ? parsed.value : parsed.message;
  };
  assert.equal(seconds('30s'), 30);
  assert.equal(seconds('15m'), 900);
  assert.equal(seconds('1h30m'), 5400);
  assert.equal(seconds('1.5h'), 5400);
  assert.equal(seconds('2d'), 172800);
  assert.equal(seconds('1500ms'), 1.5);
  assert.match(String(seconds('10')), /not a duration/);
  assert.match(String(seconds('0s')), /shorter than 1s/);
  assert.match(String(seconds('400d')), /longer than a year/);
});

test('parsing makes no timer: a schedule left alone does not keep the process alive', () => {
  // were a timer made, node --test would report this file as still running; this only documents it
  const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  schedule('* * * * *', 'UTC');
  schedule('@every 1s');
  assert.equal(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length, before);
});
