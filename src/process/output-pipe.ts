// The read end of a component's stdout or stderr. Read through libuv's event loop like any
// socket, but into one buffer that every output pipe shares (Node's `onread`), and handed to one
// handler: no fresh 64 KiB buffer and no stream event per read. At hundreds of megabytes a second
// those were most of what the supervisor spent between a component and its own stdout.
//
// Sharing is safe because JavaScript handles one read at a time and the handler copies what it
// keeps (the log's held partial line, the in-memory buffers' waiting chunks, bytes its destination
// could not take at once). Pausing (backpressure) and 'end' work as on any socket, and without a
// handler it is an ordinary readable stream.
import { type ConnectOpts, Socket, type SocketConstructorOpts } from 'node:net';
import { loadNative } from './native.js';

/** the most one read takes: an output pipe a component fills grows to this (see grow) */
export const OUTPUT_READ_SIZE = 256 * 1024;
/** what the kernel gives a new pipe: a read this large found the pipe full */
const KERNEL_PIPE_SIZE = 64 * 1024;

let sharedReadBuffer: Buffer | undefined;

/**
 * At most this many output pipes grown at once. The kernel counts every pipe's capacity against
 * its user's quota (/proc/sys/fs/pipe-user-pages-soft, 16,384 pages by default), and that user is
 * host-wide: without a user namespace, root in every container of a node is one user. Past the
 * quota each new pipe of that user gets two pages. So only pipes a component actually fills grow,
 * and at most 16 of them (1,024 pages: a sixteenth of the quota); the rest keep 64 KiB.
 */
const MAX_GROWN_PIPES = 16;
let grownPipes = 0;

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
   * writes and we read a burst in a quarter of the pieces. Refused past the quota (EPERM): it
   * keeps its size.
   */
  private grow(): void {
    this.grown = true;
    if (grownPipes >= MAX_GROWN_PIPES) return;
    if (loadNative().setPipeSize(this.readFd, OUTPUT_READ_SIZE) < OUTPUT_READ_SIZE) return;
    grownPipes++;
    this.once('close', () => {
      grownPipes--;
    });
  }
}
