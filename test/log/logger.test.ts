// The supervisor's own logger: levels, the daily file name, pretty output, and no record lost at exit.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { dailyFileName, formatDay, openDailyFile } from '../../src/log/daily-file.js';
import {
  closeLogger,
  createLogger,
  flushLogger,
  isLogLevel,
  levelFromTracelevel,
} from '../../src/log/logger.js';
import { makeTempDir, repoRoot } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait.js';

const loggerModule = pathToFileURL(join(repoRoot, 'dist/src/log/logger.js')).href;

function collected(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** runs a small ES module with the compiled logger, returns its stdout */
function runScript(body: string): Promise<{ code: number | null; stdout: string }> {
  const child = spawn(
    process.execPath,
    ['--input-type=module', '-e', `import * as log from '${loggerModule}';\n${body}`],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const chunks: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve) =>
    child.once('close', (code) => resolve({ code, stdout: Buffer.concat(chunks).toString('utf8') })),
  );
}

describe('logger', () => {
  test('tracelevel 1..4 is warn, info, debug, trace', () => {
    assert.deepEqual([1, 2, 3, 4].map(levelFromTracelevel), ['warn', 'info', 'debug', 'trace']);
    assert.equal(levelFromTracelevel(0), 'warn');
    assert.equal(levelFromTracelevel(9), 'trace');
  });

  test('an unknown level is refused with the list of known ones', () => {
    assert.equal(isLogLevel('debug'), true);
    assert.equal(isLogLevel('verbose'), false);
    assert.throws(
      () => createLogger({ level: 'verbose' }),
      /unknown log level "verbose": expected one of fatal, error, warn, info, debug, trace, silent/,
    );
  });

  test('records are JSON lines at the chosen level', async () => {
    const out = collected();
    const logger = createLogger({ level: 'warn', stdout: out.stream, pretty: false });
    logger.info('hidden');
    logger.warn({ component: 'is' }, 'shown');
    await flushLogger(logger);
    const lines = out.text().trim().split('\n');
    assert.equal(lines.length, 1);
    const record = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(record.msg, 'shown');
    assert.equal(record.level, 40);
    assert.equal(record.component, 'is');
    assert.equal(typeof record.time, 'number');
  });

  test('pretty output is for people: not JSON, with the message and component', async () => {
    const out = collected();
    const logger = createLogger({ level: 'info', stdout: out.stream, pretty: true });
    logger.info({ component: 'svg', stream: 'stdout' }, 'rendering');
    await flushLogger(logger);
    const text = out.text();
    assert.throws(() => JSON.parse(text));
    assert.match(text, /INFO/);
    assert.match(text, /\[svg stdout\] rendering/);
  });

  test('the daily file is named Supervisor-YYYY-MM-DD.log beside the configured path', () => {
    assert.equal(
      dailyFileName('/x/logs/Supervisor.log', new Date(2025, 0, 5, 23, 59)),
      '/x/logs/Supervisor-2025-01-05.log',
    );
    assert.equal(dailyFileName('/x/app', new Date(2024, 11, 31)), '/x/app-2024-12-31');
  });

  test("at midnight the file log moves on to the next day's file", async () => {
    const dir = makeTempDir();
    const stream = openDailyFile(join(dir, 'logs/Supervisor.log'));
    // the stream's clock, set to 0.8 s before a midnight (its only view of time)
    const offset = new Date(2030, 0, 1).getTime() - 800 - Date.now();
    (stream as unknown as { now: () => Date }).now = () => new Date(Date.now() + offset);
    const opened: string[] = [];
    stream.on('open', (file: string) => opened.push(file));
    stream.write('before midnight\n');
    await waitFor(() => opened.length === 2, { message: "the next day's file to open" });
    stream.write('after midnight\n');
    await new Promise((resolve) => stream.end(resolve));
    assert.deepEqual(
      opened.map((file) => basename(file)),
      ['Supervisor-2029-12-31.log', 'Supervisor-2030-01-01.log'],
    );
    assert.equal(readFileSync(opened[0]!, 'utf8'), 'before midnight\n');
    assert.equal(readFileSync(opened[1]!, 'utf8'), 'after midnight\n');
  });

  test("<log> writes the records to today's file, creating its folder", async () => {
    const dir = makeTempDir();
    const out = collected();
    const logger = createLogger({
      level: 'info',
      file: join(dir, 'logs/Supervisor.log'),
      stdout: out.stream,
      pretty: true,
    });
    logger.info({ component: 'ps' }, 'to the file');
    logger.child({ component: 'is' }).warn('from a child logger');
    await closeLogger(logger);
    const files = readdirSync(join(dir, 'logs'));
    assert.ok(files.includes(`Supervisor-${formatDay(new Date())}.log`), files.join(', '));
    assert.equal(existsSync(join(dir, 'logs/Supervisor.log')), false);
    const inFile = files.flatMap((file) =>
      readFileSync(join(dir, 'logs', file), 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    );
    // the file gets JSON even when stdout is pretty
    assert.deepEqual(
      inFile.map((r) => [r.component, r.msg]),
      [
        ['ps', 'to the file'],
        ['is', 'from a child logger'],
      ],
    );
  });

  test('a final record before process.exit is not lost (after flushLogger, and even without it)', async () => {
    const awaited = await runScript(`
      const logger = log.createLogger({ level: 'info', pretty: false });
      for (let i = 0; i < 20000; i++) logger.info({ i }, 'record ' + 'x'.repeat(80));
      logger.info('the last record');
      await log.flushLogger();
      process.exit(3);
    `);
    assert.equal(awaited.code, 3);
    const lines = awaited.stdout.trim().split('\n');
    assert.equal(lines.length, 20001);
    assert.equal((JSON.parse(lines.at(-1)!) as { msg: string }).msg, 'the last record');

    const abrupt = await runScript(`
      const logger = log.createLogger({ level: 'info', pretty: false });
      logger.error('said just before exiting');
      process.exit(4);
    `);
    assert.equal(abrupt.code, 4);
    assert.match(abrupt.stdout, /"msg":"said just before exiting"/);
  });
});
