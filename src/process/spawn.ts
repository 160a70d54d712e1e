// The one place in the program that starts child processes. It records the pid of every child
// that Node itself spawned, so the orphan reaper (reaper.ts) can reap everything else without
// stealing an exit status from libuv: a pid in this set is Node's to wait for, never ours.
import type { ChildProcess } from 'node:child_process';
import { execa, type Options, type ResultPromise } from 'execa';

const nodeOwned = new Set<number>();

/** pids of live children that Node spawned and libuv will wait for */
export function nodeOwnedPids(): ReadonlySet<number> {
  return nodeOwned;
}

/**
 * execa, with the pid registered before control returns to the event loop (so the reaper can
 * never run between the fork and the registration) and released once Node has reaped it.
 */
export function spawnChild<O extends Options>(
  file: string,
  args: readonly string[],
  options: O,
): ResultPromise<O> {
  // execa's generic return type loses ChildProcess's EventEmitter methods; the object is one.
  const child = execa(file, args, options) as unknown as ResultPromise<O>;
  const pid = child.pid;
  if (pid !== undefined) {
    nodeOwned.add(pid);
    // 'exit' fires after libuv's waitpid: from then on the pid is no longer Node's child.
    (child as unknown as ChildProcess).once('exit', () => nodeOwned.delete(pid));
  }
  return child;
}
