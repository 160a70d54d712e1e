// <logRetention days> (design.md §7 rev. 2): daily <log> files older than that are deleted at
// start and at each rotation. Files are made to look old by their name and their mtime.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { formatDay, openDailyFile, pruneDailyFiles } from '../../src/log/daily-file.js';
import { makeTempDir } from '../helpers/paths.js';
import { killAllStarted, runCli } from '../helpers/processes.js';
import { writeRegistry } from '../helpers/registry.js';
import { waitFor } from '../helpers/wait.js';

const DAY = 86_400_000;

/** a day `n` days before `from`, at noon local time */
const daysAgo = (n: number, from = new Date()) =>
  new Date(from.getFullYear(), from.getMonth(), from.getDate() - n, 12);

/** Supervisor-<day>.log in `dir`, last written at `mtime` */
function dailyFile(dir: string, day: Date, mtime: Date = day, name = 'Supervisor'): string {
  const file = join(dir, `${name}-${formatDay(day)}.log`);
  writeFileSync(file, '{"msg":"old"}\n');
  utimesSync(file, mtime, mtime);
  return file;
}

describe('pruneDailyFiles', () => {
  test('deletes the files older than the retention by name and mtime, and nothing else', () => {
    const dir = makeTempDir();
    const now = new Date();
    const configured = join(dir, 'Supervisor.log');
    const old = [20, 15, 4].map((n) => dailyFile(dir, daysAgo(n, now)));
    const kept = [0, 1, 3].map((n) => dailyFile(dir, daysAgo(n, now)));
    // an old name but written to just now (a clock that jumped, a copy): kept
    const touched = dailyFile(dir, daysAgo(30, now), now);
    // names that are not ours, or not a real day: kept whatever their age
    const strangers = [
      'Supervisor.log.bak',
      'Other-2001-01-01.log',
      'Supervisor-2001-02-30.log',
      'Supervisor-2001-01-01.txt',
      'Supervisor-1.log',
    ].map((name) => {
      const file = join(dir, name);
      writeFileSync(file, 'x');
      utimesSync(file, new Date(2001, 0, 1), new Date(2001, 0, 1));
      return file;
    });
    mkdirSync(join(dir, `Supervisor-${formatDay(daysAgo(40, now))}.log`));

    const { deleted, failed } = pruneDailyFiles(configured, 3, now);
    assert.deepEqual([...deleted].sort(), [...old].sort());
    assert.deepEqual(failed, []);
    for (const file of old) assert.equal(existsSync(file), false, file);
    for (const file of [...kept, touched, ...strangers]) assert.equal(existsSync(file), true, file);
  });

  test('the boundary: a file of exactly `days` days ago is kept, one day more is deleted', () => {
    const dir = makeTempDir();
    const now = new Date();
    const edge = dailyFile(dir, daysAgo(14, now), new Date(now.getTime() - 14 * DAY - 3600_000));
    const past = dailyFile(dir, daysAgo(15, now));
    pruneDailyFiles(join(dir, 'Supervisor.log'), 14, now);
    assert.equal(existsSync(edge), true);
    assert.equal(existsSync(past), false);
  });

  test('0 days keeps every file; a missing folder is no error', () => {
    const dir = makeTempDir();
    const ancient = dailyFile(dir, daysAgo(400));
    assert.deepEqual(pruneDailyFiles(join(dir, 'Supervisor.log'), 0).deleted, []);
    assert.equal(existsSync(ancient), true);
    assert.deepEqual(pruneDailyFiles(join(dir, 'nope/Supervisor.log'), 3), { deleted: [], failed: [] });
  });

  test('at rotation: a file that became too old meanwhile is deleted when the next day opens', async () => {
    const dir = makeTempDir();
    const configured = join(dir, 'logs/Supervisor.log');
    const pruned: string[][] = [];
    const stream = openDailyFile(configured, { days: 2, onPruned: (deleted) => pruned.push(deleted) });
    // the stream's clock, 0.8 s before a midnight: it rotates on its own shortly
    const offset = new Date(2030, 0, 1).getTime() - 800 - Date.now();
    (stream as unknown as { now: () => Date }).now = () => new Date(Date.now() + offset);
    const opened: string[] = [];
    stream.on('open', (file: string) => opened.push(file));
    stream.write('before midnight\n');
    await waitFor(() => opened.length >= 1, { message: 'the first file to open' });
    // appears after the first pruning: only the rotation can delete it
    const old = dailyFile(join(dir, 'logs'), daysAgo(5));
    await waitFor(() => opened.length === 2, { message: "the next day's file to open" });
    await waitFor(() => !existsSync(old), { message: 'the old file deleted at rotation' });
    await new Promise((resolve) => stream.end(resolve));
    assert.deepEqual(pruned, [[old]]);
  });
});

describe('run with <log> and <logRetention>', () => {
  afterEach(() => killAllStarted());

  test('old daily files are deleted at start, said in the log; recent ones and today stay', async () => {
    const home = writeRegistry(
      [{ id: 'a', command: 'sleep', args: ['1000'] }],
      '<log>logs/Supervisor.log</log><logRetention days="3"/>',
    );
    const logs = join(home, 'logs');
    mkdirSync(logs);
    const old = [4, 10, 100].map((n) => dailyFile(logs, daysAgo(n)));
    const recent = [1, 2].map((n) => dailyFile(logs, daysAgo(n)));
    const run = runCli(['run', '--home', home, '--port', '0']);
    const record = await run.waitForRecord((r) => r.msg === 'deleted old daily log files');
    assert.deepEqual([...(record.files as string[])].sort(), [...old].sort());
    assert.equal(record.retentionDays, 3);
    await run.waitForRecord((r) => r.msg === 'component started');
    const left = readdirSync(logs).sort();
    assert.deepEqual(
      left,
      [...recent.map((f) => f.slice(logs.length + 1)), `Supervisor-${formatDay(new Date())}.log`].sort(),
    );
    process.kill(run.pid, 'SIGTERM');
    assert.equal(await run.exited, 0);
  });
});
