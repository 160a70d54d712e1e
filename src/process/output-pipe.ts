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

/** the most one read takes: a whole output pipe (made this large by native/pipes.c makePipe) */
export const OUTPUT_READ_SIZE = 256 * 1024;

let sharedReadBuffer: Buffer | undefined;

/**
 * Output pipes are made OUTPUT_READ_SIZE large only while fewer than this many are open. The
 * kernel counts a user's pipe pages (/proc/sys/fs/pipe-user-pages-soft, 16,384 by default; root in
 * a container too, unless it has CAP_SYS_RESOURCE): past it, every new pipe of that user gets a
 * single page, the components' own pipes included. 64 pipes of 64 pages stay at a quarter of it;
 * the next ones keep the kernel's 64 KiB.
 */
const MAX_LARGE_PIPES = 64;
let openPipes = 0;

/** the size to ask for a new output pipe (undefined: the kernel's default) */
export function outputPipeSize(): number | undefined {
  return openPipes < MAX_LARGE_PIPES ? OUTPUT_READ_SIZE : undefined;
}

/** what reads the chunks: `bytes` are lent for the call only */
export type ChunkHandler = (bytes: Buffer) => void;

export class OutputPipe extends Socket {
  private handler: ChunkHandler | undefined;

  constructor(fd: number) {
    sharedReadBuffer ??= Buffer.allocUnsafe(OUTPUT_READ_SIZE);
    const read = sharedReadBuffer;
    // the constructor takes `onread` as connect() does (Node's net.Socket since v12); @types/node
    // lists it only under connect's options
    const options: SocketConstructorOpts & ConnectOpts = {
      fd,
      readable: true,
      writable: false,
      onread: { buffer: read, callback: (length) => this.deliver(read.subarray(0, length)) },
    };
    super(options);
    // a read error ends the copy (output.ts listens for 'close'); it must never be unhandled
    this.on('error', () => this.destroy());
    openPipes++;
    this.once('close', () => {
      openPipes--;
    });
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
    if (!this.handler) return this.push(Buffer.from(bytes));
    this.handler(bytes);
    return true;
  }
}
