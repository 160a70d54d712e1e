// fd readiness, as s6 does it: the component writes a newline to a descriptor the supervisor
// gave it when it is ready. The core opens that descriptor as an extra stdio pipe at spawn.
import type { Readable } from 'node:stream';

/**
 * Calls `onReady` once, when the first newline arrives on `stream`. Whatever comes later is read
 * and dropped: the pipe stays open and drained, so a component that writes to it again neither
 * blocks on a full pipe nor dies of SIGPIPE. End of stream without a newline means nothing.
 */
export function watchReadyFd(stream: Readable, onReady: () => void): void {
  let ready = false;
  stream.on('data', (chunk: Buffer | string) => {
    if (ready) return;
    const hasNewline = typeof chunk === 'string' ? chunk.includes('\n') : chunk.includes(0x0a);
    if (!hasNewline) return;
    ready = true;
    onReady();
  });
  // the component closing or crashing is seen through its exit, not here
  stream.on('error', () => {});
}
