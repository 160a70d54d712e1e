// The json record of a component's output line is built without pino (output.ts), and must stay
// byte for byte what pino writes for the same fields: level, time, hostname, component, stream,
// pid, msg (and `partial` before msg on the pieces of a cut line).
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { PassThrough, Readable } from 'node:stream';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { pino } from 'pino';
import { createLogger, logSink } from '../../src/log/logger.js';
import { attachOutput, outputRecord, outputRecordFields } from '../../src/log/output.js';

const TIME = 1_796_054_277_250;

/** what pino writes for the same record (the supervisor's base, the stream's bindings, a fixed time) */
function pinoRecord(
  meta: { component: string; stream: 'stdout' | 'stderr'; pid?: number },
  msg: string,
  partial: boolean,
  time = TIME,
) {
  let written = '';
  const logger = pino(
    { level: 'info', base: { hostname: hostname() }, timestamp: () => `,"time":${time}` },
    {
      write: (record: string) => {
        written += record;
      },
    },
  );
  const child = logger.child({
    component: meta.component,
    stream: meta.stream,
    ...(meta.pid !== undefined ? { pid: meta.pid } : {}),
  });
  if (partial) child.info({ partial: true }, msg);
  else child.info(msg);
  return written;
}

/** the json records (without their newlines) of `bytes` read in chunks of `size` through the real sink */
async function jsonRecordsOf(
  bytes: Buffer,
  size: number,
  meta: { component: string; stream: 'stdout' | 'stderr'; pid: number },
): Promise<string[]> {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
  const out = new PassThrough();
  const collected: Buffer[] = [];
  out.on('data', (chunk: Buffer) => collected.push(chunk));
  const sink = logSink(
    createLogger({ level: 'info', stdout: out, stderr: new PassThrough(), pretty: false }),
  );
  await attachOutput(Readable.from(chunks), { ...meta, mode: 'json' }, sink);
  await sink.flush();
  return Buffer.concat(collected).toString('utf8').split('\n').slice(0, -1);
}

const messages = [
  '',
  'plain',
  'x "q" \\ end',
  'tab\there',
  'control \u0001\u001f and DEL \u007f',
  'ünïcødé € 𝄞 and U+2028 \u2028 U+2029 \u2029',
  'replacement \ufffd',
  `${'long line with "quotes" '.repeat(20)}`,
  `${'a'.repeat(101)}\u0000`,
  '{"level":50,"msg":"a JSON line from the component"}',
  'trailing backslash \\',
];

describe('output records', () => {
  test('byte for byte what pino writes, for every kind of message, with and without pid, partial or not', () => {
    for (const meta of [
      { component: 'is', stream: 'stdout' as const, pid: 31213 },
      { component: 'svg.renderer-2', stream: 'stderr' as const },
    ]) {
      const fields = outputRecordFields(meta);
      for (const msg of messages)
        for (const partial of [false, true])
          assert.equal(
            outputRecord(fields, msg, partial, TIME),
            pinoRecord(meta, msg, partial),
            JSON.stringify(msg),
          );
    }
  });

  test('through the real sink: the keys in order level, time, hostname, component, stream, pid, msg', async () => {
    const out = new PassThrough();
    const collected: Buffer[] = [];
    out.on('data', (chunk: Buffer) => collected.push(chunk));
    const sink = logSink(
      createLogger({ level: 'info', stdout: out, stderr: new PassThrough(), pretty: false }),
    );
    const before = Date.now();
    await attachOutput(
      Readable.from([Buffer.from('one\r\ntwo "2"\n'), Buffer.from('three')]),
      { component: 'ps', stream: 'stdout', mode: 'json', pid: 4242 },
      sink,
    );
    await sink.flush();
    const lines = Buffer.concat(collected).toString('utf8').split('\n');
    assert.equal(lines.pop(), '');
    assert.equal(lines.length, 3);
    for (const [i, line] of lines.entries()) {
      const time = Number(/"time":(\d+)/.exec(line)?.[1]);
      assert.ok(time >= before && time <= Date.now());
      const msg = ['one', 'two "2"', 'three'][i]!;
      assert.equal(
        `${line}\n`,
        outputRecord(outputRecordFields({ component: 'ps', stream: 'stdout', pid: 4242 }), msg, false, time),
      );
      assert.deepEqual(Object.keys(JSON.parse(line)), [
        'level',
        'time',
        'hostname',
        'component',
        'stream',
        'pid',
        'msg',
      ]);
    }
  });

  test("whole chunks (plain ASCII, taken at once) and mixed ones (line by line) give pino's bytes", async () => {
    const meta = { component: 'gen', stream: 'stdout' as const, pid: 77 };
    const plain = fc.stringMatching(/^[ !#-[\]-~]{0,120}$/);
    const any = fc.oneof(
      plain,
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.constantFrom('tab\t', 'esc \u001b[31mred', 'quote "', 'back \\ slash', 'é€𝄞'),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(plain, any), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 4096 }),
        async (lines, size) => {
          const clean = lines.map((line) => line.replaceAll('\n', ' ').replaceAll('\r', ' '));
          const got = await jsonRecordsOf(Buffer.from(`${clean.join('\n')}\n`), size, meta);
          assert.equal(got.length, clean.length);
          for (const [i, line] of got.entries()) {
            const time = Number(/^\{"level":30,"time":(\d+),/.exec(line)?.[1]);
            // what pino makes of the same line once decoded (invalid UTF-8 becomes U+FFFD for both)
            const msg = Buffer.from(clean[i]!).toString('utf8');
            assert.equal(`${line}\n`, pinoRecord(meta, msg, false, time));
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  test("any bytes (invalid UTF-8, CR before the newline, every escape) give pino's bytes for the line Node decodes", async () => {
    const meta = { component: 'bytes', stream: 'stderr' as const, pid: 9 };
    // bytes a line can hold (no newline), weighted towards what needs care: escapes, UTF-8 leads
    // and continuations (valid, overlong, surrogate, truncated), CR, DEL
    const byte = fc.oneof(
      fc.integer({ min: 0x20, max: 0x7e }).filter((b) => b !== 0x22 && b !== 0x5c),
      fc.constantFrom(0x00, 0x08, 0x09, 0x0c, 0x0d, 0x1b, 0x1f, 0x22, 0x5c, 0x7f),
      fc.integer({ min: 0x80, max: 0xff }),
      fc.constantFrom(0xc0, 0xc2, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xa0, 0x9f, 0x8f, 0xbf),
    );
    const line = fc.oneof(
      fc.uint8Array({ maxLength: 70 }).map((bytes) => Buffer.from(bytes.filter((b) => b !== 0x0a))),
      fc.array(byte, { maxLength: 90 }).map((bytes) => Buffer.from(bytes)),
      fc.constantFrom('é€𝄞 ok', 'a\r', 'x\ty"z\\', '\u2028').map((text) => Buffer.from(text)),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(line, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 2048 }),
        async (lines, size) => {
          const bytes = Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')]));
          const got = await jsonRecordsOf(bytes, size, meta);
          assert.equal(got.length, lines.length);
          for (const [i, record] of got.entries()) {
            const time = Number(/^\{"level":30,"time":(\d+),/.exec(record)?.[1]);
            let msg = lines[i]!.toString('utf8');
            if (msg.endsWith('\r')) msg = msg.slice(0, -1);
            assert.equal(
              `${record}\n`,
              pinoRecord(meta, msg, false, time),
              JSON.stringify(lines[i]!.toString('latin1')),
            );
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
