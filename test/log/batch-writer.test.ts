// BatchWriter over a real pipe (src/log/batch-writer.ts): with the descriptor, a batch goes
// straight to it while nothing waits in the stream, lent bytes are copied only when they must
// wait, a reader that stalls loses nothing and keeps the order, and a reader that is gone costs
// dropped bytes, never an exception.
import assert from 'node:assert/strict';
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { Socket } from 'node:net';
import { test } from 'node:test';
import { BatchWriter } from '../../src/log/batch-writer.js';
import { loadNative } from '../../src/process/native.js';
import { waitFor } from '../helpers/wait.js';

/** a pipe whose write end is a non-blocking stream (as libuv makes process.stdout) */
function pipe() {
  const [readFd, writeFd] = loadNative().makePipe();
  const stream = new Socket({ fd: writeFd, readable: false, writable: true });
  // a second, non-blocking description of the read end: reading it never waits
  const peek = openSync(`/proc/self/fd/${readFd}`, constants.O_RDONLY | constants.O_NONBLOCK);
  const available = (): string => {
    const buffer = Buffer.alloc(1 << 20);
    let text = '';
    for (;;) {
      try {
        const n = readSync(peek, buffer);
        if (n === 0) return text;
        text += buffer.toString('latin1', 0, n);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return text;
        throw error;
      }
    }
  };
  const close = () => {
    stream.destroy();
    for (const fd of [peek, readFd]) {
      try {
        closeSync(fd);
      } catch {
        // closed by the test already
      }
    }
  };
  /** the reader goes away: every description of the read end is closed */
  const closeReader = () => {
    closeSync(peek);
    closeSync(readFd);
  };
  return { writeFd, stream, available, close, closeReader };
}

test('a batch goes to the descriptor at once; a record written before lent bytes comes out before them', () => {
  const p = pipe();
  try {
    const writer = new BatchWriter(p.stream, { fd: p.writeFd });
    writer.write('{"msg":"first"}\n');
    const lent = Buffer.from('a line of a component\n'.repeat(1000));
    writer.writeLent(lent);
    lent.fill('Z');
    // nothing was left for a later turn of the event loop: it is all in the pipe already
    assert.equal(p.available(), `{"msg":"first"}\n${'a line of a component\n'.repeat(1000)}`);
  } finally {
    p.close();
  }
});

test('a stalled reader: lent bytes that must wait are copied, nothing is lost or reordered, and producers are told to wait', async () => {
  const p = pipe();
  try {
    const writer = new BatchWriter(p.stream, { fd: p.writeFd, highWater: 256 * 1024, lowWater: 64 * 1024 });
    const lent = Buffer.alloc(20 * 1024);
    const expected: string[] = [];
    for (let i = 0; i < 100 && !writer.needsDrain(); i++) {
      const line = `${String(i).padStart(5, '0')} ${'x'.repeat(lent.length - 7)}\n`;
      lent.write(line, 'latin1');
      writer.writeLent(lent);
      expected.push(line);
      // the reader's buffer is used again at once
      lent.fill('Z');
    }
    assert.ok(writer.needsDrain(), 'the pipe (64 KiB) filled: producers must wait');
    assert.ok(
      expected.length > 3 && expected.length < 100,
      `${expected.length} lines before the stream was full`,
    );
    let received = '';
    const writable = writer.whenWritable();
    await waitFor(
      () => {
        received += p.available();
        return received.length === expected.join('').length;
      },
      { message: 'every byte arrives once the reader reads' },
    );
    await writable;
    assert.equal(received, expected.join(''), 'in order, none of the reused bytes');
    assert.equal(writer.droppedBytes, 0);
  } finally {
    p.close();
  }
});

test('flush() resolves when what waited goes out straight to the descriptor, with no stream write to call back', async () => {
  const p = pipe();
  try {
    const writer = new BatchWriter(p.stream, { fd: p.writeFd });
    // a component's read: the pipe (64 KiB) takes most of it, the rest goes through the stream
    writer.writeLent(Buffer.alloc(64 * 1024 + 1000, 0x61));
    assert.equal(writer.idle, false);
    // the component pauses until this resolves (attachOutput)
    let released = false;
    void writer.flush().then(() => {
      released = true;
    });
    // In one turn the reader empties the pipe and a supervisor record is written (it waits for
    // the next turn): the stream's write of the rest completes with the record still queued, and
    // the record then goes out straight to the descriptor
    const record = '{"msg":"a supervisor record"}\n';
    let received = p.available();
    writer.write(record);
    await waitFor(
      () => {
        received += p.available();
        return writer.idle && received.endsWith(record);
      },
      { message: 'the record arrives' },
    );
    await waitFor(() => released, { timeout: 2000, message: 'flush() resolved once nothing waits' });
  } finally {
    p.close();
  }
});

test('the reader is gone (EPIPE): bytes are dropped and counted, nothing throws, producers are not held', async () => {
  const p = pipe();
  p.closeReader();
  try {
    const writer = new BatchWriter(p.stream, { fd: p.writeFd });
    const lent = Buffer.from('lost\n'.repeat(10_000));
    writer.writeLent(lent);
    writer.write('{"msg":"after"}\n');
    await writer.flush();
    assert.equal(writer.droppedBytes, lent.length + '{"msg":"after"}\n'.length);
    assert.equal(writer.needsDrain(), false);
  } finally {
    p.stream.destroy();
  }
});
