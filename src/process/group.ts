// Process groups: every component runs in its own, so one signal reaches all of its processes.
import { constants } from 'node:os';
import { loadNative } from './native.js';

/** Sends `signal` to every process of group `pgid`; false when the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | number): boolean {
  const number = typeof signal === 'number' ? signal : constants.signals[signal];
  if (number === undefined || pgid <= 0) return false;
  // by the addon, not process.kill(): that throws for a group that is gone (ESRCH), what every
  // exit of a component meets when it looks for leftovers, and the Error costs more than the call.
  // EPERM cannot happen for our own children.
  return loadNative().sendSignal(-pgid, number) === 0;
}

/** true while any process (zombies included) is still in group `pgid` */
export function groupExists(pgid: number): boolean {
  return signalGroup(pgid, 0);
}

/**
 * Resolves once group `pgid` is empty, polling briefly (the last members are usually already
 * dying from a SIGKILL and only need to be reaped), or after `timeoutMs` regardless.
 */
export async function waitGroupGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (groupExists(pgid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return true;
}
