// attachOutput against a sink whose stdout we hold: line splitting at every chunk boundary, UTF-8
// safe cuts, CRLF, raw lines of two real components never interleaving mid-line, backpressure.
import assert from 'node:assert/strict';
import { PassThrough, Readable, Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { createLogger, logSink } from '../../src/log/logger.js';
import { attachOutput, MAX_LINE, type OutputMode } from '../../src/log/output.js';
import { LogSink } from '../../src/log/sink.js';
import { spawnProcess } from '../../src/process/spawn.js';

type LogRecord = Record<string, unknown> & { msg?: string };

/** a sink whose stdout and stderr are collected in memory */
function memorySink(): { sink: LogSink; stdout: () => Buffer; stderr: () => Buffer } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (chunk: Buffer) => out.push(chunk));
  stderr.on('data', (chunk: Buffer) => err.push(chunk));
  return {
    sink: new LogSink({ stdout, stderr }),
    stdout: () => Buffer.concat(out),
    stderr: () => Buffer.concat(err),
  };
}

function records(output: Buffer): LogRecord[] {
  return output
    .toString('utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as LogRecord);
}

async function through(chunks: Buffer[], mode: OutputMode = 'json') {
  const memory = memorySink();
  await attachOutput(Readable.from(chunks), { component: 'is', stream: 'stdout', mode }, memory.sink);
  await memory.sink.flush();
  return memory;
}

/** every way of cutting `bytes` into chunks of `size` */
function chunked(bytes: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
  return chunks;
}

describe('attachOutput', () => {
  test('lines are the same records however the bytes are chunked', async () => {
    const text = 'first\n\nthird line\r\nfourth ünïcødé €\nlast without newline';
    const expected = ['first', '', 'third line', 'fourth ünïcødé €', 'last without newline'];
    for (const size of [1, 2, 3, 7, 64, 1000]) {
      const { stdout } = await through(chunked(Buffer.from(text), size));
      const got = records(stdout());
      assert.deepEqual(
        got.map((r) => r.msg),
        expected,
        `chunks of ${size}`,
      );
      for (const r of got) {
        assert.equal(r.component, 'is');
        assert.equal(r.stream, 'stdout');
        assert.equal(r.level, 30);
      }
    }
  });

  test('a long line of multi-byte characters is cut between characters, never inside one', async () => {
    const line = '€'.repeat(70000); // 210,000 bytes
    for (const size of [65536, 4096, 1000]) {
      const { stdout } = await through(chunked(Buffer.from(`${line}\nafter\n`), size));
      const got = records(stdout());
      const pieces = got.slice(0, -1);
      assert.ok(pieces.length >= 4);
      for (const piece of pieces) {
        assert.ok(Buffer.byteLength(piece.msg!) <= MAX_LINE);
        assert.ok(!piece.msg!.includes('\ufffd'), 'no torn character');
      }
      assert.equal(pieces.map((p) => p.msg).join(''), line, `chunks of ${size}`);
      assert.equal(got.at(-1)!.msg, 'after');
    }
  });

  test('raw mode holds at most 64 KiB of a line and loses nothing', async () => {
    const bytes = Buffer.concat([Buffer.alloc(300000, 'a'), Buffer.from('\nb\nc')]);
    for (const size of [1, 5000, 65536, 300001]) {
      const { stdout } = await through(chunked(bytes, size), 'raw');
      assert.ok(stdout().equals(bytes), `chunks of ${size}`);
    }
  });

  test('component output is recorded whatever the supervisor log level', async () => {
    const out = new PassThrough();
    const collected: Buffer[] = [];
    out.on('data', (chunk: Buffer) => collected.push(chunk));
    const logger = createLogger({ level: 'error', stdout: out, pretty: false });
    logger.info('not shown at level error');
    const sink = logSink(logger);
    await attachOutput(
      Readable.from([Buffer.from('shown\n')]),
      { component: 'ps', stream: 'stderr', mode: 'json' },
      sink,
    );
    await sink.flush();
    assert.deepEqual(
      records(Buffer.concat(collected)).map((r) => [r.component, r.stream, r.msg]),
      [['ps', 'stderr', 'shown']],
    );
  });

  test('two real components in raw mode never interleave mid-line', async () => {
    const memory = memorySink();
    const script = (tag: string, size: number) =>
      `let s=''; for (let i=0;i<30000;i++) s += '${tag}' + String(i).padStart(6,'0') + '${tag}'.repeat(${size}) + '\\n'; process.stdout.write(s);`;
    const children = await Promise.all(
      [script('A', 10), script('B', 200)].map((code) =>
        spawnProcess({
          file: process.execPath,
          args: ['-e', code],
          env: process.env,
          stdio: ['ignore', 'pipe', 'ignore'],
          newGroup: false,
        }),
      ),
    );
    await Promise.all(
      children.map((child, i) =>
        attachOutput(child.pipes.get(1)!, { component: `c${i}`, stream: 'stdout', mode: 'raw' }, memory.sink),
      ),
    );
    await Promise.all(children.map((child) => child.exited));
    await memory.sink.flush();
    const lines = memory.stdout().toString('latin1').split('\n');
    assert.equal(lines.pop(), '');
    const seen = { A: 0, B: 0 };
    for (const line of lines) {
      const tag = line[0] as 'A' | 'B';
      const size = tag === 'A' ? 10 : 200;
      assert.equal(line, `${tag}${String(seen[tag]).padStart(6, '0')}${tag.repeat(size)}`);
      seen[tag]++;
    }
    assert.deepEqual(seen, { A: 30000, B: 30000 });
  });

  test('a full destination pauses the source instead of buffering it', async () => {
    let release: (() => void) | undefined;
    const written: Buffer[] = [];
    // a destination that takes one write and then waits until we let it go on
    const slow = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _encoding, callback) {
        written.push(chunk);
        release = callback;
      },
    });
    const sink = new LogSink({ stdout: slow, stderr: new PassThrough() });
    const source = new PassThrough();
    const done = attachOutput(source, { component: 'is', stream: 'stdout', mode: 'raw' }, sink);
    const line = Buffer.from(`${'z'.repeat(99)}\n`);
    // write until the source itself says it is full: it can only fill if attachOutput paused it
    let accepted = 0;
    while (source.write(line)) accepted++;
    // the sink lets the destination hold 1 MiB before it pauses the source: ~11,000 lines here
    assert.ok(accepted < 20000, `accepted ${accepted} lines without pausing`);
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(source.isPaused(), 'the source is paused while the destination is full');
    source.end();
    let finished = false;
    const flushed = done
      .then(() => sink.flush())
      .then(() => {
        finished = true;
      });
    // now let the destination go on, one write at a time, until everything is through
    while (!finished) {
      const callback = release;
      release = undefined;
      callback?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await flushed;
    assert.equal(Buffer.concat(written).length, (accepted + 1) * line.length);
  });
});
