// The read end of a component's stdout or stderr. Read through libuv's event loop like any
// socket, but into one buffer that every output pipe shares (Node's `onread`), and handed to one
// handler: no fresh 64 KiB buffer and no stream event per read. At hundreds of megabytes a second
// those were most of what the supervisor spent between a component and its own stdout.
//
// Sharing is safe because JavaScript handles one read at a time and the handler copies what it
// keeps (the log's held partial line, the in-memory buffers' waiting chunks, bytes its destination
// could not take at once). Pausing (backpressure) and 'end' work as on any socket, and without a
// handler it is an ordinary readable stream.
import { closeSync } from 'node:fs';
import { type ConnectOpts, Socket, type SocketConstructorOpts } from 'node:net';
import { Readable } from 'node:stream';
import { loadNative, type RelayHandle } from './native.js';

/** the most one read takes: an output pipe a component fills grows to this (see grow) */
export const OUTPUT_READ_SIZE = 256 * 1024;
/** what the kernel gives a new pipe: a read this large found the pipe full */
const KERNEL_PIPE_SIZE = 64 * 1024;

let sharedReadBuffer: Buffer | undefined;

/** what reads the chunks: `bytes` are lent for the call only */
export type ChunkHandler = (bytes: Buffer) => void;

export class OutputPipe extends Socket {
  private handler: ChunkHandler | undefined;
  /** grown to OUTPUT_READ_SIZE, or tried and refused: either way not tried again */
  private grown = false;

  constructor(private readonly readFd: number) {
    sharedReadBuffer ??= Buffer.allocUnsafe(OUTPUT_READ_SIZE);
    const read = sharedReadBuffer;
    // the constructor takes `onread` as connect() does (Node's net.Socket since v12); @types/node
    // lists it only under connect's options
    const options: SocketConstructorOpts & ConnectOpts = {
      fd: readFd,
      readable: true,
      writable: false,
      onread: { buffer: read, callback: (length) => this.deliver(read.subarray(0, length)) },
    };
    super(options);
    // a read error ends the copy (output.ts listens for 'close'); it must never be unhandled
    this.on('error', () => this.destroy());
  }

  /** every chunk read from now on goes to `handler` (what was read before it, first) */
  onChunk(handler: ChunkHandler): void {
    this.handler = handler;
    for (let chunk = this.read() as Buffer | null; chunk !== null; chunk = this.read() as Buffer | null)
      handler(chunk);
  }

  /**
   * To the handler; without one, a copy into the stream as any socket gives it ('data', async
   * iteration: an exec check's output). false pauses reading, as a full stream does.
   */
  private deliver(bytes: Buffer): boolean {
    if (bytes.length >= KERNEL_PIPE_SIZE && !this.grown) this.grow();
    if (!this.handler) return this.push(Buffer.from(bytes));
    this.handler(bytes);
    return true;
  }

  /**
   * The component filled its pipe (a read took all of it): room for OUTPUT_READ_SIZE, so that it
   * writes and we read a burst in a quarter of the pieces. Not past 16 grown pipes, nor past the
   * user's pipe quota (native/pipes.c): it then keeps its size.
   */
  private grow(): void {
    this.grown = true;
    if (!loadNative().growOutputPipe(this.readFd)) return;
    this.once('close', () => loadNative().releaseGrownPipe());
  }
}

/**
 * The read end of a raw-mode component's stdout or stderr: relayed to our own by a thread of its
 * own (relayTo, native/relay.c), or, where that cannot be (a destination that is no descriptor,
 * no thread to be had), read as an OutputPipe (asPipe). Until one of them is chosen nothing
 * reads it, so the component's first bytes wait in the pipe.
 */
export class RelayablePipe extends Readable {
  private relay: RelayHandle | undefined;
  private reader: OutputPipe | undefined;
  /** a relay that failed after it started took the descriptor (it closes it) */
  private relayTook = false;

  constructor(private readonly readFd: number) {
    super();
  }

  /**
   * From now on a thread relays it to `destFd` (see NativeAddon.relayStart); undefined when no
   * thread could be made (then use asPipe()). destroy() stops the relay; it is destroyed once
   * the relay tells its end.
   */
  relayTo(destFd: number, keepLines: number, onNews: () => void): RelayHandle | undefined {
    if (this.relay || this.reader || this.destroyed) return undefined;
    try {
      this.relay = loadNative().relayStart(this.readFd, destFd, keepLines, onNews);
    } catch (error) {
      // ERELAY: the thread had started and took the pipe with it as it stopped; else (EAGAIN,
      // the thread limit, or ENOMEM) the pipe is still ours, to read through the loop instead
      if ((error as NodeJS.ErrnoException).code === 'ERELAY') {
        this.relayTook = true;
        this.destroy();
      }
      return undefined;
    }
    return this.relay;
  }

  /** the pipe read through the loop (its destroy() is this one's too) */
  asPipe(): OutputPipe {
    if (!this.reader) {
      const pipe = new OutputPipe(this.readFd);
      this.reader = pipe;
      pipe.once('close', () => this.destroy());
    }
    return this.reader;
  }

  /** read as a plain stream: the bytes of asPipe(), copied through */
  override _read(): void {
    if (this.relay) return;
    if (!this.reader) {
      const pipe = this.asPipe();
      pipe.on('data', (bytes: Buffer) => {
        if (!this.push(bytes)) pipe.pause();
      });
      pipe.once('end', () => this.push(null));
    }
    this.reader?.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.relay) loadNative().relayStop(this.relay);
    else if (this.reader) this.reader.destroy();
    else if (!this.relayTook) closeQuietly(this.readFd);
    callback(error);
  }
}

/** close(2), for a descriptor that may be gone already (nothing to give back then) */
export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}
