// Every wait on the way out has a bound (design.md §3 rev. 2, "Bounded exits"): a blocked stdout,
// a process in uninterruptible sleep or a client that never hangs up must not hold a PID 1.

/** Resolves true when `promise` settled within `ms`, false when the time ran out first. */
export function withinDeadline(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const settled = promise.then(
    () => true,
    () => true,
  );
  return Promise.race([settled, timeout]).finally(() => clearTimeout(timer));
}

/** After the shutdown timeout's SIGKILLs, how long we still wait for exits before leaving anyway. */
export const AFTER_KILL_GRACE_MS = 5000;
/** How long the last log records may take to reach a reader before we exit without them. */
export const FINAL_FLUSH_MS = 2000;
/**
 * How long, at exit, the relays of raw output may take to write what the components printed last
 * (their pipes have ended by then, unless a stray process holds one, or our stdout is stalled).
 */
export const RELAYS_END_MS = 1000;
/** How long closing the listeners (and their clients) may take. */
export const CLOSE_LISTENERS_MS = 2000;
