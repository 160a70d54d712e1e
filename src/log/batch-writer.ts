// Gathers many small writes (log records, lines) into few large ones, and says when the stream
// behind it is full so that producers can pause instead of making us buffer without bound.
// One BatchWriter per destination keeps everything written to it in order, so whole lines from
// different components never interleave mid-line.
import { writeSync } from 'node:fs';
import { constants } from 'node:os';
import type { Writable } from 'node:stream';
import { loadNative } from '../process/native.js';

const { EAGAIN } = constants.errno;

export interface BatchWriterOptions {
  /** hand the batch to the stream once it holds this many bytes (else at the next turn of the loop) */
  flushAt?: number;
  /** the stream holding this many bytes not yet written makes producers wait... */
  highWater?: number;
  /** ...until it is down to this many: the next batch is queued while one is being written */
  lowWater?: number;
  /**
   * the most we hold while the stream is full; beyond it, writes are dropped and counted rather
   * than growing the heap without end (only writers that ignore needsDrain() can get here)
   */
  maxPending?: number;
  /**
   * descriptor of the stream (process.stdout's or stderr's). While nothing waits in the stream, a
   * batch is written to it at once, without the stream's machinery: a pipe or socket is
   * non-blocking there (libuv made it so), and Node itself writes to a terminal or a file
   * synchronously. What the descriptor does not take goes through the stream. Also used for
   * the last-ditch synchronous flush at process exit.
   */
  fd?: number;
}

const DEFAULT_FLUSH_AT = 64 * 1024;
const DEFAULT_MAX_PENDING = 64 * 1024 * 1024;
const BIG_CHUNK = 16 * 1024;
const DEFAULT_HIGH_WATER = 1024 * 1024;
const DEFAULT_LOW_WATER = 256 * 1024;

export class BatchWriter {
  private chunks: Array<string | Buffer> = [];
  /** bytes in `chunks`, counting a string's length (exact for ASCII, close enough for bounds) */
  private pending = 0;
  /** the stream holds highWater bytes: nothing more goes to it until it is down to lowWater */
  private blocked = false;
  private scheduled = false;
  private failed = false;
  /** the descriptor was found full once: growDestinationPipe was asked */
  private growTried = false;
  /** writes handed to the stream whose callback has not run yet */
  private inFlight = 0;
  /**
   * The destination's token is ours (native/relay.c): a raw-mode component's relay writes to the
   * same descriptor from its own thread, and must not put its lines in the middle of ours
   */
  private owned = false;
  private waiters: Array<() => void> = [];
  private flushWaiters: Array<() => void> = [];
  private readonly flushAt: number;
  private readonly maxPending: number;
  private readonly highWater: number;
  private readonly lowWater: number;
  /** bytes dropped because the stream stayed full past maxPending, or had failed */
  droppedBytes = 0;

  constructor(
    private readonly stream: Writable,
    private readonly options: BatchWriterOptions = {},
  ) {
    this.flushAt = options.flushAt ?? DEFAULT_FLUSH_AT;
    this.maxPending = options.maxPending ?? DEFAULT_MAX_PENDING;
    this.highWater = options.highWater ?? DEFAULT_HIGH_WATER;
    this.lowWater = options.lowWater ?? DEFAULT_LOW_WATER;
    // EPIPE and the like must not take the supervisor down: it goes on without this destination
    stream.on('error', () => this.fail());
  }

  write(chunk: string | Buffer): void {
    if (this.failed || this.pending + chunk.length > this.maxPending) {
      this.droppedBytes += chunk.length;
      return;
    }
    const last = this.chunks.length - 1;
    if (typeof chunk === 'string' && last >= 0 && typeof this.chunks[last] === 'string') {
      // V8 joins these as a rope; it is flattened once, when the batch is written
      this.chunks[last] += chunk;
    } else {
      this.chunks.push(chunk);
    }
    this.pending += chunk.length;
    // a big chunk is a batch of its own: waiting for more would only add latency
    if (this.pending >= this.flushAt || chunk.length >= BIG_CHUNK) this.flushNow();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.onImmediate);
    }
  }

  /**
   * The same for bytes that are only lent for this call (a read buffer that is used again): they
   * are written at once when the descriptor takes them, and copied only when they must wait.
   */
  writeLent(bytes: Buffer): void {
    this.writeNowOrKeep(bytes, false);
  }

  /**
   * The same for bytes given away: what must wait is kept as it is, not copied. true when some of
   * `bytes` was kept: the giver must not write into that memory again before this writer is idle.
   * Only with a descriptor (process.stdout's, stderr's): their writes are done with the bytes when
   * they call back, which a stream in general is not (a PassThrough hands on the same memory), so
   * for any other stream the bytes are copied as writeLent does. (A copy of up to half a megabyte
   * of records per read, and the garbage collections it brought, were two thirds of the `json`
   * path's CPU while the reader was slower than the component.)
   */
  writeGiven(bytes: Buffer): boolean {
    return this.writeNowOrKeep(bytes, this.options.fd !== undefined);
  }

  /** writes `bytes` straight to the descriptor when it may; true when the rest was kept uncopied */
  private writeNowOrKeep(bytes: Buffer, given: boolean): boolean {
    if (this.failed || this.pending + bytes.length > this.maxPending) {
      this.droppedBytes += bytes.length;
      return false;
    }
    // what waits goes first
    this.flushNow();
    let rest = bytes;
    if (!this.blocked && this.canWriteDirectly() && this.claim()) {
      const written = this.writeDirectly(bytes);
      if (written < 0 || written === bytes.length) {
        this.releaseIfFlushed();
        return false;
      }
      rest = bytes.subarray(written);
    }
    this.write(given ? rest : Buffer.from(rest));
    return given;
  }

  /** the destination's descriptor, when it has one we write to directly (process.stdout's, stderr's) */
  get fd(): number | undefined {
    return this.options.fd;
  }

  /** nothing waits: everything written so far was handed to the OS (or dropped) */
  get idle(): boolean {
    return this.isFlushed();
  }

  /** true while producers should wait (see whenWritable) */
  needsDrain(): boolean {
    return this.blocked && !this.failed;
  }

  /** resolves once the stream takes writes again (at once if it does) */
  whenWritable(): Promise<void> {
    if (!this.needsDrain()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** resolves once everything written so far has been handed to the operating system */
  flush(): Promise<void> {
    this.flushNow();
    if (this.isFlushed()) return Promise.resolve();
    return new Promise((resolve) => this.flushWaiters.push(resolve));
  }

  /**
   * Last resort at process exit, when no callback will ever run again: writes what we still hold
   * straight to the descriptor. Only when the stream itself holds nothing, or the order would break.
   */
  flushSync(): void {
    const fd = this.options.fd;
    if (fd === undefined || this.failed || this.chunks.length === 0) return;
    if (this.inFlight > 0 || this.stream.writableLength > 0) return;
    // a relay in the middle of its lines: ours would land inside them
    if (!this.claim()) return;
    const chunks = this.chunks;
    this.chunks = [];
    this.pending = 0;
    try {
      for (const chunk of chunks) writeAllSync(fd, typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    } catch {
      // nothing more can be done at exit
    }
    this.giveTokenBackIfIdle();
  }

  /** flushes, then ends the stream (for files; never call it on process.stdout) */
  async end(): Promise<void> {
    await this.flush();
    if (this.failed || this.stream.writableEnded) return;
    await new Promise<void>((resolve) => {
      this.stream.once('close', resolve);
      this.stream.once('error', () => resolve());
      this.stream.end();
    });
  }

  private readonly onImmediate = (): void => {
    this.scheduled = false;
    this.flushNow();
  };

  private flushNow(): void {
    if (this.blocked || this.failed || this.chunks.length === 0) return;
    // a relay is writing: onGranted comes back here once its chunk is out
    if (!this.claim()) return;
    const chunks = this.chunks;
    this.chunks = [];
    this.pending = 0;
    let next = 0;
    if (this.canWriteDirectly()) {
      for (; next < chunks.length; next++) {
        const chunk = chunks[next]!;
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        const written = this.writeDirectly(bytes);
        if (written < 0) {
          for (const lost of chunks.slice(next + 1)) this.droppedBytes += lost.length;
          return;
        }
        if (written < bytes.length) {
          chunks[next] = bytes.subarray(written);
          break;
        }
      }
    }
    // write()'s own answer is ignored: it turns false at a small highWaterMark and only says
    // 'drain' once everything is out, which would leave the descriptor idle while we refill it
    for (; next < chunks.length; next++) {
      this.inFlight++;
      this.stream.write(chunks[next]!, this.onWritten);
    }
    if (this.stream.writableLength >= this.highWater) this.blocked = true;
    // everything went straight to the descriptor: no write callback will come to say so
    this.releaseIfFlushed();
  }

  /** whoever waits in flush() (a paused component: see attachOutput) goes on once nothing waits */
  private releaseIfFlushed(): void {
    this.giveTokenBackIfIdle();
    if (this.flushWaiters.length > 0 && this.isFlushed()) this.release(this.flushWaiters);
  }

  /** true when we may write to the descriptor now (the token is ours, or there is no descriptor) */
  private claim(): boolean {
    if (this.options.fd === undefined || this.owned) return true;
    this.owned = loadNative().claimOutput(this.options.fd, this.onGranted);
    return this.owned;
  }

  /** nothing of ours waits: relays may write again */
  private giveTokenBackIfIdle(): void {
    if (!this.owned || (!this.failed && (this.chunks.length > 0 || this.inFlight > 0))) return;
    this.owned = false;
    loadNative().releaseOutput(this.options.fd!);
  }

  /**
   * A relay finished its chunk and passed the token to us. Claimed again rather than assumed:
   * we may have taken and given it back meanwhile, and then it is not ours to keep
   * (releaseOutput gives the token back only when it is JavaScript's)
   */
  private readonly onGranted = (): void => {
    if (this.chunks.length === 0 && this.inFlight === 0) {
      // nothing to write any more (a flush went out meanwhile): give back what the grant gave,
      // rather than ask again and make the relays wait for a grant we do not need
      if (this.owned) this.giveTokenBackIfIdle();
      else loadNative().releaseOutput(this.options.fd!);
      return;
    }
    if (!this.claim()) return;
    this.flushNow();
    this.releaseIfFlushed();
  };

  /** nothing of ours or anyone's waits in the stream: the descriptor can be written directly */
  private canWriteDirectly(): boolean {
    return this.options.fd !== undefined && this.inFlight === 0 && this.stream.writableLength === 0;
  }

  /** bytes the descriptor took (0 when it is full), or -1 when it failed (then they are dropped) */
  private writeDirectly(bytes: Buffer): number {
    const native = loadNative();
    const fd = this.options.fd!;
    let written = native.writeSome(fd, bytes, 0, bytes.length);
    // the first time the reader is slower than we write, a pipe grows, as the relays grow it
    // (native/relay.c): it then takes a burst in a quarter of the pieces
    if (written === -EAGAIN && !this.growTried) {
      this.growTried = true;
      if (native.growDestinationPipe(fd)) written = native.writeSome(fd, bytes, 0, bytes.length);
    }
    if (written >= 0) return written;
    if (written === -EAGAIN) return 0;
    // EPIPE and the like, as the stream's 'error' would say
    this.droppedBytes += bytes.length;
    this.fail();
    return -1;
  }

  private readonly onWritten = (error?: Error | null): void => {
    this.inFlight--;
    if (error) {
      this.fail();
      return;
    }
    // with none of ours in flight, what is left in the stream is someone else's: do not wait on it
    if (this.blocked && (this.stream.writableLength <= this.lowWater || this.inFlight === 0)) {
      this.blocked = false;
      this.flushNow();
      if (!this.blocked) this.release(this.waiters);
    }
    if (this.isFlushed()) {
      this.giveTokenBackIfIdle();
      this.release(this.flushWaiters);
    }
  };

  private isFlushed(): boolean {
    return this.failed || (this.chunks.length === 0 && this.inFlight === 0);
  }

  private fail(): void {
    if (this.failed) return;
    this.failed = true;
    for (const chunk of this.chunks) this.droppedBytes += chunk.length;
    this.chunks = [];
    this.pending = 0;
    this.giveTokenBackIfIdle();
    this.release(this.waiters);
    this.release(this.flushWaiters);
  }

  private release(list: Array<() => void>): void {
    const callbacks = list.splice(0);
    for (const callback of callbacks) callback();
  }
}

/** how long an exiting process waits for a reader that does not read */
const EXIT_WRITE_DEADLINE_MS = 2000;

function writeAllSync(fd: number, buffer: Buffer): void {
  const deadline = Date.now() + EXIT_WRITE_DEADLINE_MS;
  let offset = 0;
  while (offset < buffer.length) {
    try {
      offset += writeSync(fd, buffer, offset);
    } catch (error) {
      // a non-blocking pipe that is full: wait a little for the reader, as sonic-boom does
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN' || Date.now() > deadline) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
}
