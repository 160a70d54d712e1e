// The orphan reaper: as PID 1 (or a child subreaper) every orphan in the container is
// reparented to us, and unless someone waits for it, it stays a zombie forever. libuv waits only
// for the children Node spawned, each by pid; we reap the others, never one of Node's
// (nodeOwnedPids(), kept by spawnProcess), so every 'exit' event Node owes still fires.
import { loadNative, type NativeAddon, type ReapedOrphan } from './native.js';
import { claimNativeExit, collectNativeExits, nodeOwnedPids } from './spawn.js';

/** the part of a pino logger the reaper uses */
export interface ReaperLogger {
  debug(obj: Record<string, unknown>, msg: string): void;
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
}

export interface ReaperOptions {
  /** called after each sweep that reaped something (the metric s7supervisor_zombies_reaped_total) */
  onReaped?: (count: number, orphans: readonly ReapedOrphan[]) => void;
  logger?: ReaperLogger;
  /**
   * ms after SIGCHLD activity until the one safety sweep that follows it (a SIGCHLD can be missed
   * only in theory). No timer runs while no child exits: an idle supervisor is never woken.
   */
  followUpMs?: number;
  /** seams for tests */
  native?: Pick<NativeAddon, 'reapOrphans'>;
  ownedPids?: () => Iterable<number>;
}

export interface Reaper {
  /** stops listening; orphans that exit afterwards stay zombies (call it only on the way out) */
  stop(): void;
  /** one sweep now; returns how many orphans it reaped */
  reapNow(): number;
  /** orphans reaped since start */
  readonly total: number;
}

// A sweep that stopped early (see ReapResult.complete) is resumed on the next turn of the event
// loop; after this many such resumes in a row, the next ones wait a little, so that a zombie of
// Node's that hides the others (and that libuv is about to collect) cannot make us spin.
const IMMEDIATE_RETRIES = 16;
const RETRY_DELAY_MS = 10;
/** the safety sweep after SIGCHLD activity (see followUpMs) */
const DEFAULT_FOLLOW_UP_MS = 1000;

export function startReaper(options: ReaperOptions = {}): Reaper {
  const native = options.native ?? loadNative();
  const owned = options.ownedPids ?? nodeOwnedPids;
  const { onReaped, logger } = options;
  let total = 0;
  let stopped = false;
  let retries = 0;
  let retry: { cancel(): void } | undefined;
  let failures = 0;

  const sweep = (): number => {
    if (stopped) return 0;
    let result: ReturnType<NativeAddon['reapOrphans']>;
    try {
      result = native.reapOrphans(owned());
    } catch (error) {
      // Not expected (ENOMEM and the like); said once in a while, never thrown into a signal handler.
      if (failures++ % 100 === 0) {
        logger?.warn({ err: error, failures }, 'reaping orphans failed');
      }
      return 0;
    }
    // a child the addon started (spawn.ts) is ours, not an orphan: its exit goes to it
    const orphans = result.reaped.filter((o) => !claimNativeExit(o.pid, o.exitCode, o.signal));
    const count = orphans.length;
    if (count > 0) {
      total += count;
      logger?.debug({ count, total, method: result.method }, 'reaped orphans');
      onReaped?.(count, orphans);
    }
    if (result.complete) {
      retries = 0;
    } else if (!retry) {
      const resume = () => {
        retry = undefined;
        sweep();
      };
      if (retries++ < IMMEDIATE_RETRIES) {
        const immediate = setImmediate(resume);
        retry = { cancel: () => clearImmediate(immediate) };
      } else {
        const timeout = setTimeout(resume, RETRY_DELAY_MS);
        retry = { cancel: () => clearTimeout(timeout) };
      }
    }
    return count;
  };

  // Node's SIGCHLD listener is a libuv signal handle of its own, beside the one libuv uses to
  // collect its children: both are called for every SIGCHLD (tested in test/reaper.test.ts).
  // Signals coalesce and a sweep can race a child that exits right after it: one more sweep a
  // little after the last burst of SIGCHLDs bounds how long any zombie can wait. Armed by SIGCHLD
  // only (not pushed back by the next one, so a long burst still gets a sweep every followUpMs),
  // never periodic: with nothing exiting nothing wakes us. unref'd: it never keeps the process alive.
  const followUpMs = options.followUpMs ?? DEFAULT_FOLLOW_UP_MS;
  let followUp: NodeJS.Timeout | undefined;
  const onFollowUp = () => {
    followUp = undefined;
    sweep();
  };
  const onSigchld = () => {
    sweep();
    if (!followUp && !stopped) {
      followUp = setTimeout(onFollowUp, followUpMs);
      followUp.unref();
    }
  };
  process.on('SIGCHLD', onSigchld);
  if (!options.native) collectNativeExits(true);
  // Orphans that came before we listened.
  sweep();

  return {
    stop() {
      stopped = true;
      if (!options.native) collectNativeExits(false);
      process.off('SIGCHLD', onSigchld);
      clearTimeout(followUp);
      followUp = undefined;
      retry?.cancel();
      retry = undefined;
    },
    reapNow: sweep,
    get total() {
      return total;
    },
  };
}

export type ReaperMode = 'pid1' | 'subreaper' | 'none';

export interface ReaperModeOptions {
  /**
   * `--subreaper`: become a child subreaper when not PID 1. That is also the default
   * (design.md §5), so false changes nothing: the flag only says it out loud.
   */
  subreaper?: boolean;
  /** defaults to process.pid === 1 */
  isPid1?: boolean;
  /** seam for tests */
  native?: Pick<NativeAddon, 'setChildSubreaper'>;
}

export interface ReaperModeDecision {
  mode: ReaperMode;
  /** for the one start-up log line (info) */
  description: string;
  /** set when orphans will not come to us: log it as a warning (tini does the same) */
  warning?: string;
}

/**
 * Decides how orphans come to the supervisor, and makes it so. Throws NativeAddonError when the
 * addon is not built: an install problem, best reported before anything starts.
 */
export function initReaperMode(options: ReaperModeOptions = {}): ReaperModeDecision {
  const isPid1 = options.isPid1 ?? process.pid === 1;
  if (isPid1) {
    // The kernel reparents every orphan in the PID namespace to PID 1 already: no prctl needed.
    return { mode: 'pid1', description: 'running as PID 1: reaping every orphan in the container' };
  }
  const notPid1 = `s7supervisor is not running as PID 1 (pid ${process.pid})`;
  const native = options.native ?? loadNative();
  if (!native.setChildSubreaper()) {
    return {
      mode: 'none',
      description: `${notPid1} and could not become a child subreaper: orphans go to the real PID 1`,
      warning:
        `${notPid1} and could not register as a child subreaper ` +
        '(prctl(PR_SET_CHILD_SUBREAPER) failed: it needs Linux 3.4 or later). ' +
        'Zombie processes will not be re-parented to s7supervisor, so zombie reaping will not work. ' +
        'To fix the problem, run s7supervisor as PID 1 (the container entrypoint).',
    };
  }
  const how = options.subreaper ? ' (--subreaper)' : '';
  return {
    mode: 'subreaper',
    description: `${notPid1}: registered as a child subreaper${how}; orphans of the components are reparented to it and reaped`,
  };
}
