// Raw output by a relay: a thread of the addon (native/relay.c) copies a component's pipe to our
// stdout or stderr, whole lines at a time, taking turns with our own writer (BatchWriter) so
// nothing interleaves mid-line. JavaScript only hears what went by: the lines the in-memory
// buffers could keep (every line while someone follows), the bytes that could not be written,
// a partial line let out after the idle second, and the end. A busy component's megabytes never
// cross into the event loop, which is what let raw output keep up with tini's passthrough.
import { loadNative, RELAY_ENDED, RELAY_IDLE, RELAY_RESYNC, type RelayHandle } from '../process/native.js';
import { OUTPUT_READ_SIZE, type RelayablePipe } from '../process/output-pipe.js';
import type { BatchWriter } from './batch-writer.js';
import type { OutputTap } from './buffer.js';
import { MAX_LINE } from './line.js';

/** where every relay's news is taken to (lent to the tap for the call): kept up to this size */
const TAKE_BUFFER_KEPT = 1024 * 1024;
/** what a relay may add between a take that did not fit and the next: one read and a held line */
const TAKE_ROOM = OUTPUT_READ_SIZE + MAX_LINE;
let takeBuffer = Buffer.alloc(0);

/** every relay not ended yet (see relaysEnded) */
const running = new Set<Promise<void>>();

/**
 * Resolves once every relay has told its end: at exit, the last lines a component printed before
 * it went are still in a relay's hands (the caller bounds the wait: a stray process may hold a
 * pipe open).
 */
export async function relaysEnded(): Promise<void> {
  await Promise.all(running);
}

/**
 * Relays `source` to `writer`'s descriptor. Resolves once the pipe ended and everything it gave was
 * written (or counted as dropped); undefined when no relay could be started (the caller reads the
 * pipe itself then).
 */
export function relayOutput(
  source: RelayablePipe,
  writer: BatchWriter,
  tap?: OutputTap,
): Promise<void> | undefined {
  const fd = writer.fd;
  if (fd === undefined) return undefined;
  let relay: RelayHandle | undefined;
  let ended = false;
  let resolveEnded: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    resolveEnded = resolve;
  });
  const keepLines = () => tap?.keepLines() ?? 0;
  const onNews = () => {
    if (ended || !relay) return;
    const native = loadNative();
    let buffer = takeBuffer;
    let taken = native.relayTake(relay, buffer, keepLines());
    // more than the buffer holds: one of the size asked for, with room for what the relay may add
    // meanwhile (it keeps what waits for us under 2 MiB plus a read); taken again until it fits,
    // since the relay tells us only once until we do (kept for next time only up to a bound)
    while (typeof taken === 'number') {
      buffer = Buffer.allocUnsafe(-taken + TAKE_ROOM);
      if (buffer.length <= TAKE_BUFFER_KEPT) takeBuffer = buffer;
      taken = native.relayTake(relay, buffer, keepLines());
    }
    report(buffer, taken);
  };
  const report = (buffer: Buffer, [length, flags, dropped]: [number, number, number]) => {
    writer.droppedBytes += dropped;
    try {
      if (tap) {
        if (flags & RELAY_RESYNC) tap.skipped();
        if (length > 0 || dropped > 0) tap.data(buffer.subarray(0, length), dropped);
        if (flags & RELAY_IDLE) tap.idle();
      }
    } finally {
      // the end is told once: whatever the buffers did with the lines, the copy is over
      if (flags & RELAY_ENDED) {
        ended = true;
        try {
          tap?.end(0);
        } finally {
          source.destroy();
          resolveEnded();
        }
      }
    }
  };
  if (takeBuffer.length === 0) takeBuffer = Buffer.allocUnsafe(64 * 1024);
  relay = source.relayTo(fd, keepLines(), onNews);
  if (!relay) return undefined;
  running.add(done);
  void done.then(() => running.delete(done));
  return done;
}
