// Tini mode gives the child the supervisor's stdout/stderr. Node puts a pipe it writes to in
// non-blocking mode, and that flag belongs to the open file description the child would share:
// the child's own writes could then fail with EAGAIN (Python's print raises BlockingIOError).
// Reopening the pipe through /proc gives the child a description of its own, blocking as usual.
import { closeSync, fstatSync, openSync } from 'node:fs';

/** An fd for the child's stdout/stderr: a fresh description of our pipe, or 'inherit'. */
export function childStdio(fd: 1 | 2): number | 'inherit' {
  try {
    // Only pipes: files ignore O_NONBLOCK (and a second description would write at its own
    // offset), libuv already reopens terminals, and sockets cannot be reopened this way.
    if (!fstatSync(fd).isFIFO()) return 'inherit';
    return openSync(`/proc/self/fd/${fd}`, 'w');
  } catch {
    return 'inherit';
  }
}

/** closes our copies once the child has its own */
export function releaseChildStdio(fds: Array<number | string>): void {
  for (const fd of fds) if (typeof fd === 'number') closeSync(fd);
}
