// The in-memory output buffers (src/log/buffer.ts): lines split as the log splits them, bounded
// in lines and in bytes, merged across components in arrival order, followed, freed, and the
// dropped-bytes count fed by attachOutput.
import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { test } from 'node:test';
import fc from 'fast-check';
import { LogBuffers, type LogLine } from '../../src/log/buffer.js';
import { attachOutput, MAX_LINE } from '../../src/log/output.js';
import { LogSink } from '../../src/log/sink.js';
import { LOG_LINE_OVERHEAD } from '../../src/registry/defaults.js';

const msgs = (lines: LogLine[]) => lines.map((l) => l.msg);

test('chunks become lines: split anywhere, CRLF, stream, pid and time kept; the last unfinished line at the end', () => {
  const buffers = new LogBuffers({ lines: 100 });
  const out = buffers.tap({ component: 'is', stream: 'stdout', pid: 41 });
  const err = buffers.tap({ component: 'is', stream: 'stderr', pid: 41 });
  const before = Date.now();
  out.data(Buffer.from('one\ntw'), 0);
  out.data(Buffer.from('o\r\nthr'), 0);
  err.data(Buffer.from('oops\n'), 0);
  out.data(Buffer.from('ee\n\nfour'), 0);
  assert.deepEqual(msgs(buffers.tail(['is'], 100)), ['one', 'two', 'oops', 'three', '']);
  out.end(0);
  const lines = buffers.tail(['is'], 100);
  assert.deepEqual(msgs(lines), ['one', 'two', 'oops', 'three', '', 'four']);
  assert.deepEqual(
    lines.map((l) => l.stream),
    ['stdout', 'stdout', 'stderr', 'stdout', 'stdout', 'stdout'],
  );
  assert.ok(lines.every((l) => l.pid === 41 && l.component === 'is' && l.time >= before && !l.partial));
  assert.deepEqual(
    lines.map((l) => l.seq),
    [1, 2, 3, 4, 5, 6],
  );
  assert.deepEqual(msgs(buffers.tail(['is'], 2)), ['', 'four']);
  assert.deepEqual(msgs(buffers.tail(['is'], 100, 4)), ['', 'four'], 'after a sequence number');
});

test('a line longer than 64 KiB is cut into partial pieces (never inside a UTF-8 character); a held line comes out when idle', () => {
  const buffers = new LogBuffers({ lines: 100 });
  const tap = buffers.tap({ component: 'svg', stream: 'stdout', pid: 7 });
  // 'é' is two bytes: the cut at 64 KiB falls inside one and backs off
  const long = `x${'é'.repeat(MAX_LINE)}`;
  tap.data(Buffer.from(`${long}\n`), 0);
  const pieces = buffers.tail(['svg'], 100);
  assert.ok(pieces.length >= 3, `${pieces.length} pieces`);
  assert.equal(pieces.map((p) => p.msg).join(''), long);
  assert.ok(pieces.slice(0, -1).every((p) => p.partial === true && Buffer.byteLength(p.msg) <= MAX_LINE));
  assert.equal(pieces.at(-1)?.partial, undefined);
  assert.ok(!pieces.some((p) => p.msg.includes('\uFFFD')), 'no character torn');
  // the same line as a pipe delivers it, in small chunks
  const chunked = new LogBuffers({ lines: 100 });
  const small = chunked.tap({ component: 'svg', stream: 'stdout', pid: 7 });
  const bytes = Buffer.from(`${long}\n`);
  for (let at = 0; at < bytes.length; at += 1000) small.data(bytes.subarray(at, at + 1000), 0);
  assert.deepEqual(msgs(chunked.tail(['svg'], 100)), msgs(pieces));

  tap.data(Buffer.from('Password: '), 0);
  assert.equal(buffers.tail(['svg'], 1)[0]?.msg.startsWith('é'), true, 'held until idle');
  tap.idle();
  assert.deepEqual(
    buffers.tail(['svg'], 1).map((l) => [l.msg, l.partial]),
    [['Password: ', true]],
  );
  tap.data(Buffer.from('ok\n'), 0);
  assert.deepEqual(msgs(buffers.tail(['svg'], 2)), ['Password: ', 'ok']);
});

test('bounded: at most <logBuffer lines> lines, and at most the byte bound counting 32 bytes a line', () => {
  const byLines = new LogBuffers({ lines: 3 });
  const tap = byLines.tap({ component: 'a', stream: 'stdout', pid: 1 });
  for (let i = 0; i < 10; i++) tap.data(Buffer.from(`line ${i}\n`), 0);
  assert.deepEqual(msgs(byLines.tail(['a'], 100)), ['line 7', 'line 8', 'line 9']);
  // one burst larger than the ring
  tap.data(Buffer.from(Array.from({ length: 50 }, (_, i) => `b${i}\n`).join('')), 0);
  assert.deepEqual(msgs(byLines.tail(['a'], 100)), ['b47', 'b48', 'b49']);

  const bytes = 10 * (LOG_LINE_OVERHEAD + 100);
  const byBytes = new LogBuffers({ lines: 1000, bytes });
  const big = byBytes.tap({ component: 'b', stream: 'stdout', pid: 1 });
  for (let i = 0; i < 100; i++) big.data(Buffer.from(`${String(i).padStart(99, '0')}\n`), 0);
  const kept = byBytes.tail(['b'], 1000);
  assert.equal(kept.length, 10);
  assert.equal(kept.at(-1)?.msg, String(99).padStart(99, '0'));
  assert.ok(byBytes.allocatedBytes() <= 2 * bytes + 64 * 32, `${byBytes.allocatedBytes()} bytes allocated`);
  // a line larger than the whole bound keeps its end
  const tiny = new LogBuffers({ lines: 10, bytes: LOG_LINE_OVERHEAD + 8 });
  tiny.tap({ component: 'c', stream: 'stdout', pid: 1 }).data(Buffer.from('0123456789abcdef\n'), 0);
  assert.deepEqual(msgs(tiny.tail(['c'], 10)), ['9abcdef'], 'its last 8 bytes, newline included');
});

test('the ring against a model: random chunks and line lengths, wrapping many times', () => {
  fc.assert(
    fc.property(
      fc.array(fc.array(fc.constantFrom('a', 'b', 'é', '\n', '\n', 'xyz'), { maxLength: 40 }), {
        maxLength: 60,
      }),
      fc.integer({ min: 1, max: 12 }),
      fc.integer({ min: 60, max: 400 }),
      (chunks, maxLines, maxBytes) => {
        const buffers = new LogBuffers({ lines: maxLines, bytes: maxBytes });
        const tap = buffers.tap({ component: 'm', stream: 'stdout', pid: 3 });
        let text = '';
        for (const parts of chunks) {
          const chunk = parts.join('');
          text += chunk;
          tap.data(Buffer.from(chunk), 0);
        }
        const complete = text.split('\n').slice(0, -1);
        // the longest suffix that fits both bounds
        const kept: string[] = [];
        let cost = 0;
        for (let i = complete.length - 1; i >= 0; i--) {
          const line = complete[i]!;
          const lineCost = Buffer.byteLength(line) + 1 + LOG_LINE_OVERHEAD;
          if (kept.length === 0 && lineCost > maxBytes) {
            // larger than the whole bound: its last bytes are kept
            const end = Buffer.from(`${line}\n`).subarray(-(maxBytes - LOG_LINE_OVERHEAD));
            kept.unshift(end.subarray(0, -1).toString('utf8'));
            break;
          }
          if (kept.length + 1 > maxLines || cost + lineCost > maxBytes) break;
          kept.unshift(line);
          cost += lineCost;
        }
        assert.deepEqual(msgs(buffers.tail(['m'], 1000)), kept);
      },
    ),
    { numRuns: 300 },
  );
});

/** a stream of lines of random lengths (some longer than MAX_LINE), cut at random places */
const burst = fc
  .record({
    lengths: fc.array(
      fc.oneof(
        { weight: 20, arbitrary: fc.integer({ min: 0, max: 200 }) },
        { weight: 1, arbitrary: fc.integer({ min: 1000, max: 3 * MAX_LINE }) },
      ),
      { minLength: 1, maxLength: 3000 },
    ),
    cuts: fc.array(fc.integer({ min: 1, max: 90_000 }), { minLength: 1, maxLength: 40 }),
    unfinished: fc.boolean(),
  })
  .map(({ lengths, cuts, unfinished }) => {
    const text = lengths.map((length, i) => `${i} ${'é'.repeat(length % 7)}${'x'.repeat(length)}`).join('\n');
    const bytes = Buffer.from(unfinished ? text : `${text}\n`);
    const chunks: Buffer[] = [];
    let at = 0;
    for (let i = 0; at < bytes.length; i++) {
      const size = cuts[i % cuts.length]!;
      chunks.push(bytes.subarray(at, at + size));
      at += size;
    }
    return chunks;
  });

test('a burst waits and skips what the ring cannot keep, and ends up as if every line had gone through', () => {
  // the reference: a follower makes every chunk go through at once, line by line
  const as = (lines: LogLine[]) => lines.map(({ seq: _seq, time: _time, ...line }) => line);
  fc.assert(
    fc.property(
      fc.array(burst, { minLength: 1, maxLength: 3 }),
      fc.integer({ min: 1, max: 40 }),
      (pipes, maxLines) => {
        const waiting = new LogBuffers({ lines: maxLines });
        const direct = new LogBuffers({ lines: maxLines });
        direct.follow(undefined, () => {});
        const taps = pipes.map((_, i) => [
          waiting.tap({ component: `c${i % 2}`, stream: i === 2 ? 'stderr' : 'stdout', pid: 10 + i }),
          direct.tap({ component: `c${i % 2}`, stream: i === 2 ? 'stderr' : 'stdout', pid: 10 + i }),
        ]);
        // the pipes' chunks interleaved, as several components print at once
        const longest = Math.max(...pipes.map((chunks) => chunks.length));
        for (let n = 0; n < longest; n++)
          pipes.forEach((chunks, i) => {
            const chunk = chunks[n];
            if (!chunk) return;
            for (const tap of taps[i]!) tap.data(chunk, 0);
          });
        for (const pair of taps) for (const tap of pair) tap.end(0);
        assert.deepEqual(as(waiting.tail(undefined, 1000)), as(direct.tail(undefined, 1000)));
        const seqs = waiting.tail(undefined, 1000).map((line) => line.seq);
        assert.deepEqual(
          seqs,
          [...seqs].sort((a, b) => a - b),
          'in arrival order',
        );
      },
    ),
    { numRuns: 60 },
  );
});

test('a waiting chunk followed by exactly <logBuffer lines> newer lines is kept: its last line still reaches the ring', () => {
  const buffers = new LogBuffers({ lines: 2 });
  const tap = buffers.tap({ component: 'b', stream: 'stdout', pid: 1 });
  // large enough to wait; it ends in the middle of "BBBC"
  tap.data(Buffer.from(`${'A'.repeat(20_000)}\nBBB`), 0);
  tap.data(Buffer.from('C\nD\n'), 0);
  assert.deepEqual(msgs(buffers.tail(['b'], 10)), ['BBBC', 'D']);
});

test('a burst waits bounded: older chunks are dropped, and what waits is cut into lines soon without a reader', async () => {
  const buffers = new LogBuffers({ lines: 1000 });
  const tap = buffers.tap({ component: 'gen', stream: 'stdout', pid: 5 });
  const line = (n: number) => `line ${String(n).padStart(7, '0')} ${'x'.repeat(86)}\n`;
  let n = 0;
  const chunk = () => {
    let text = '';
    while (text.length < 64 * 1024) text += line(++n);
    return Buffer.from(text);
  };
  for (let i = 0; i < 50; i++) tap.data(chunk(), 0);
  // 3.2 MB went in, 655 lines a chunk: only the newest two chunks wait
  assert.ok(buffers.waitingBytes > 0, 'a burst waits');
  assert.ok(buffers.waitingBytes <= 2 * 66 * 1024, `${buffers.waitingBytes} bytes wait`);
  const deadline = Date.now() + 5000;
  while (buffers.waitingBytes > 0 && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(buffers.waitingBytes, 0, 'cut into lines without anyone reading');
  const lines = buffers.tail(['gen'], 1000);
  assert.deepEqual(
    msgs(lines),
    Array.from({ length: 1000 }, (_, i) => line(n - 999 + i).slice(0, -1)),
  );
});

test('several components merge in arrival order; follow sees new lines as they come; remove frees and ignores late output', () => {
  const buffers = new LogBuffers({ lines: 100 });
  const is = buffers.tap({ component: 'is', stream: 'stdout', pid: 1 });
  const svg = buffers.tap({ component: 'svg', stream: 'stdout', pid: 2 });
  is.data(Buffer.from('is 1\n'), 0);
  svg.data(Buffer.from('svg 1\nsvg 2\n'), 0);
  is.data(Buffer.from('is 2\n'), 0);
  assert.deepEqual(msgs(buffers.tail(undefined, 100)), ['is 1', 'svg 1', 'svg 2', 'is 2']);
  assert.deepEqual(msgs(buffers.tail(['svg', 'is'], 1)), ['svg 2', 'is 2'], 'the last N of each');

  const seen: string[] = [];
  const stop = buffers.follow(['svg'], (lines) => seen.push(...msgs(lines)));
  const all: string[] = [];
  const stopAll = buffers.follow(undefined, (lines) => all.push(...msgs(lines)));
  assert.equal(buffers.followers, 2);
  is.data(Buffer.from('is 3\n'), 0);
  svg.data(Buffer.from('svg 3\nsvg 4\n'), 0);
  // a new run of svg (restart): same buffer, new pid
  const svg2 = buffers.tap({ component: 'svg', stream: 'stderr', pid: 9 });
  svg2.data(Buffer.from('svg again\n'), 0);
  assert.deepEqual(seen, ['svg 3', 'svg 4', 'svg again']);
  assert.deepEqual(all, ['is 3', 'svg 3', 'svg 4', 'svg again']);
  assert.equal(buffers.tail(['svg'], 1)[0]?.pid, 9);
  stop();
  stopAll();
  assert.equal(buffers.followers, 0);

  buffers.remove('svg');
  assert.deepEqual(buffers.components(), ['is']);
  svg2.data(Buffer.from('late\n'), 0);
  assert.deepEqual(buffers.tail(['svg'], 100), [], 'a removed component keeps nothing');
  assert.deepEqual(buffers.components(), ['is']);
});

test('a quiet component costs little; a steady one grows once to what its lines need', () => {
  const buffers = new LogBuffers({ lines: 1000 });
  const quiet = buffers.tap({ component: 'quiet', stream: 'stdout', pid: 1 });
  quiet.data(Buffer.from('started\nlistening on 8080\n'), 0);
  assert.ok(
    buffers.allocatedBytes() <= 16 * 1024 + 64 * 32,
    `${buffers.allocatedBytes()} bytes for two lines`,
  );
  const steady = new LogBuffers({ lines: 1000 });
  const tap = steady.tap({ component: 'steady', stream: 'stdout', pid: 1 });
  const line = `${'x'.repeat(99)}\n`;
  for (let i = 0; i < 5000; i++) tap.data(Buffer.from(line.repeat(10)), 0);
  assert.equal(steady.tail(['steady'], 5000).length, 1000);
  // 1000 lines of 100 bytes and 32 bytes of bookkeeping each, an eighth of slack at most
  assert.ok(
    steady.allocatedBytes() <= 1000 * 100 * 1.125 + 1000 * 32 + 1024,
    `${steady.allocatedBytes()} bytes`,
  );
});

test('configure: fewer lines evicts at once, 0 keeps none and frees the rings, more keeps more again', () => {
  const buffers = new LogBuffers({ lines: 10 });
  const tap = buffers.tap({ component: 'a', stream: 'stdout', pid: 1 });
  for (let i = 0; i < 10; i++) tap.data(Buffer.from(`${i}\n`), 0);
  buffers.configure(4);
  assert.deepEqual(msgs(buffers.tail(['a'], 100)), ['6', '7', '8', '9']);
  buffers.configure(0);
  assert.deepEqual(buffers.tail(['a'], 100), []);
  assert.equal(buffers.allocatedBytes(), 0);
  tap.data(Buffer.from('ignored\n'), 0);
  assert.deepEqual(buffers.tail(['a'], 100), []);
  buffers.configure(5);
  tap.data(Buffer.from('kept\n'), 0);
  assert.deepEqual(msgs(buffers.tail(['a'], 100)), ['kept']);
});

test('attachOutput: json and raw output reach the buffer; bytes the log drops are counted per component and said once', async () => {
  // a stdout that failed (EPIPE): everything written to it afterwards is dropped and counted
  const dead = new Writable({
    write(_chunk, _encoding, callback) {
      callback(Object.assign(new Error('EPIPE'), { code: 'EPIPE' }));
    },
  });
  const sink = new LogSink({ stdout: dead, stderr: new PassThrough() });
  sink.stdout.write('x\n');
  await sink.flush();
  const told: Array<[string, number]> = [];
  const buffers = new LogBuffers({
    lines: 10,
    onFirstDrop: (component, bytes) => told.push([component, bytes]),
  });
  for (const [component, mode] of [
    ['j', 'json'],
    ['r', 'raw'],
  ] as const) {
    const source = new PassThrough();
    const done = attachOutput(
      source,
      { component, stream: 'stdout', mode, pid: 5 },
      sink,
      buffers.tap({ component, stream: 'stdout', pid: 5 }),
    );
    source.write('first\nsecond\n');
    source.end('third');
    await done;
    assert.deepEqual(msgs(buffers.tail([component], 10)), ['first', 'second', 'third']);
  }
  const dropped = buffers.droppedBytes();
  assert.equal(dropped.get('r'), 'first\nsecond\nthird'.length, 'raw: the bytes themselves');
  assert.ok((dropped.get('j') ?? 0) > 'first\nsecond\nthird'.length, 'json: the records');
  assert.deepEqual(
    told.map(([component]) => component),
    ['j', 'r'],
    'said once per component, not per drop',
  );
});
