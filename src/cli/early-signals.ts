// Signals that arrive while `run` is still loading (its modules, the registry, the listeners)
// are held here and handed over once its real handlers are in place, so none is lost
// (design.md §3 rev. 2). Without a handler a SIGTERM would kill a Node process outright, and as
// PID 1 the kernel would drop it: `docker stop` during start-up would then wait out its grace period.
import { forwardableSignals } from '../process/signals.js';

let held: NodeJS.Signals[] | undefined;
const hold = (signal: NodeJS.Signals) => {
  held?.push(signal);
};

/** From now on, every catchable signal is held until releaseEarlySignals(). */
export function holdEarlySignals(): void {
  if (held) return;
  held = [];
  // SIGHUP last: Node catches none of its own, so catching it is the outward sign that all are in
  for (const signal of forwardableSignals.filter((s) => s !== 'SIGHUP')) process.on(signal, hold);
  process.on('SIGHUP', hold);
}

/**
 * Call once the real handlers are installed (so there is no moment without one): stops holding
 * and returns what arrived meanwhile, in order, for the caller to act on.
 */
export function releaseEarlySignals(): NodeJS.Signals[] {
  for (const signal of forwardableSignals) process.off(signal, hold);
  const arrived = held ?? [];
  held = undefined;
  return arrived;
}
