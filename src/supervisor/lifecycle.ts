// The component lifecycle as a pure state machine, in the spirit of supervisord's process.py.
// Every event returns the effects the impure runner (component.ts) must carry out; nothing
// here touches a process, a timer or the clock, so every transition is unit-tested directly.
//
// Every decision about one component is made here: when to spawn, signal, SIGKILL and end what is
// left of a process group, whether an exit is restarted (by policy, and by the supervisor's
// restart-intensity verdict, which comes in as an input), after how long, and in which state with
// which reason. component.ts carries the effects out through the process host and reports each
// state change once.
//
//            start                spawned            ready
//   stopped ───────▶ starting ──────────────▶ (starting) ──────▶ running
//      ▲                 │  ▲ backoff elapsed                     │
//      │   exit (stop)   │  │                                     │ exit: restart by policy
//      │◀── stopping ◀───┴──┼──── stop ───────────────────────────┤
//      │                    └───────────── backoff ◀──────────────┘
//      └── exit 0 / policy  fatal ◀── policy never, or cannot execute
//
// Rev. 2: a server held back by its dependencies is `starting` without a process (hold), until
// the ordered start lets it go (start). A oneshot is not watched for readiness: exit 0 makes it
// `completed` (ready); a scheduled one runs again from there (scheduleDue), still counting as ready.
import type { RestartSpec, ServerKind } from '../registry/model.js';
import type { ComponentState, ExitReason, LastExit, ScheduledRuns } from './status.js';

export type Effect =
  /** start the process */
  | { type: 'spawn' }
  /** send the stop signal to the process group and arm the stop timer */
  | { type: 'stop-group'; seconds: number }
  /** SIGKILL the process group now (the stop timer ran out) */
  | { type: 'kill-group' }
  /**
   * The main process `pid` exited: end what is left of its group (design.md §3: it dies with its
   * main process, so a restart never meets a stale worker), then report groupEnded
   */
  | { type: 'end-group'; pid: number; exit: ProcessExit }
  /** begin readiness (check or startDelay) */
  | { type: 'watch-readiness' }
  /** begin liveness checks (the component just became ready) */
  | { type: 'watch-liveness' }
  /** end every check and readiness timer */
  | { type: 'stop-checks' }
  | { type: 'cancel-stop-timer' }
  /** a restart by policy, already allowed by the supervisor: wait delayMs, then backoffElapsed */
  | { type: 'restart'; delayMs: number }
  | { type: 'cancel-backoff' }
  /**
   * the supervisor gives up (after this change is reported): the restart intensity was exceeded,
   * or a critical oneshot ended fatal
   */
  | { type: 'give-up'; reason: string };

/**
 * The supervisor's answer when an exit would be restarted by policy: `allowed` (and counted toward
 * the restart intensity), `disabled` (it is stopping, or tini mode after a forwarded TERM/INT), or
 * `exceeded` (one restart too many within the period: it gives up, design.md §3).
 */
export type RestartVerdict = 'allowed' | 'disabled' | 'exceeded';

/** each backoff wait is varied by up to this fraction either way (design.md §3) */
export const BACKOFF_JITTER = 0.1;
/** the shortest wait before trying again to start a process that could not be started */
export const SHORTAGE_RETRY_FLOOR_MS = 500;
/**
 * samples in a row above `<limits memory>` before the restart (design.md §3 rev. 2): one peak (a
 * burst of requests, a GC that has not run yet) is not a leak
 */
export const MEMORY_SAMPLES_OVER = 3;

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** exit code, or 128+N for signal N */
  exitCode: number;
}

/** Why we asked the process to stop: decides what its exit means. */
type StopIntent = 'stop' | 'restart' | 'unhealthy' | 'memory';

export interface LifecycleOptions {
  restart: RestartSpec;
  stopTimeout: number;
  /** default longrun */
  kind?: ServerKind;
  /** a critical oneshot that ends fatal makes the supervisor give up (default false) */
  critical?: boolean;
  /** a oneshot with a schedule: its runs are counted by result */
  scheduled?: boolean;
  /** [0, 1): jitter source; injected so tests are deterministic */
  random?: () => number;
}

export class Lifecycle {
  state: ComponentState = 'stopped';
  ready = false;
  notReadyReason: string | undefined = 'not started';
  pid: number | undefined;
  /** epoch ms of the last spawn */
  startedAt: number | undefined;
  restarts = 0;
  exits: Record<ExitReason, number> = { exited: 0, signaled: 0, unhealthy: 0, stopped: 0, memory: 0 };
  lastExit: LastExit | undefined;
  stoppedByOperator = false;
  /** why the last spawn failed, e.g. { code: 'ENOENT' } */
  startError: { code?: string; message: string } | undefined;
  /** short runs in a row: the exponent of the backoff */
  private shortRuns = 0;
  /** memory samples of this run in a row above the limit */
  memoryOverInARow = 0;
  private stopIntent: StopIntent | undefined;
  /** stopped by stopForRestart: the next start is a restart */
  restartPending = false;
  /** held back by its dependencies: `starting`, with no process yet */
  waiting = false;
  /** processes spawned so far (the ordered start tells runs since a server's turn by it) */
  runs = 0;
  /** the run (by `runs`) whose exit lastExit is */
  lastExitRun = 0;
  /** a oneshot that exited 0 at least once: it stays ready through its scheduled runs */
  private completedOnce = false;
  scheduledRuns: ScheduledRuns = { succeeded: 0, failed: 0, skipped: 0 };
  private readonly random: () => number;

  constructor(private options: LifecycleOptions) {
    this.random = options.random ?? Math.random;
  }

  /** new timing/restart settings (reload of an unchanged command); take effect from the next event */
  updateOptions(options: LifecycleOptions): void {
    this.options = { ...options, random: this.random };
  }

  get oneshot(): boolean {
    return this.options.kind === 'oneshot';
  }

  /**
   * Counts as ready: a longrun running and ready, a oneshot completed, or one that completed
   * before and runs again on its schedule (a cron job does not make /readyz fail while it runs).
   */
  get countsAsReady(): boolean {
    return (
      this.ready && (this.state === 'running' || this.state === 'completed' || this.state === 'starting')
    );
  }

  /**
   * Its turn has not come: its dependencies do not hold (`reason` says which). A stopped server
   * shows `starting` with that reason; it gets no process until start().
   */
  hold(reason: string): Effect[] {
    if (this.state === 'stopped' && !this.stoppedByOperator) {
      this.state = 'starting';
      this.waiting = true;
      this.ready = false;
    }
    if (this.waiting) this.notReadyReason = reason;
    return [];
  }

  /** The operator or the supervisor wants it running. */
  start(byOperator = false): Effect[] {
    if (byOperator) this.stoppedByOperator = false;
    if (this.waiting) {
      this.waiting = false;
      this.state = 'stopped';
    }
    switch (this.state) {
      case 'stopped':
      case 'completed':
      case 'fatal': {
        this.shortRuns = 0;
        const counted = this.restartPending;
        this.restartPending = false;
        return this.enterStarting(counted);
      }
      case 'backoff':
        return [{ type: 'cancel-backoff' }, ...this.enterStarting(true)];
      case 'stopping':
        // already on its way down: come back up once it is down
        this.stopIntent = 'restart';
        return [];
      default:
        return [];
    }
  }

  /** The operator or shutdown wants it down (and to stay down). */
  stop(byOperator = false): Effect[] {
    if (byOperator) this.stoppedByOperator = true;
    if (this.waiting) {
      this.waiting = false;
      this.enterStopped(this.stoppedReason());
      return [];
    }
    switch (this.state) {
      case 'completed':
        // nothing runs: it only leaves `completed` (and its schedule, which component.ts ends)
        this.enterStopped(this.stoppedReason());
        return [];
      case 'starting':
      case 'running':
        this.stopIntent = 'stop';
        return this.enterStopping();
      case 'stopping':
        this.stopIntent = 'stop';
        return [];
      case 'backoff':
        this.enterStopped(this.stoppedReason());
        return [{ type: 'cancel-backoff' }];
      default:
        if (byOperator) this.notReadyReason = 'stopped by operator';
        return [];
    }
  }

  /** Down now, up later (an ordered restart of everything): the later start counts as a restart. */
  stopForRestart(): Effect[] {
    this.stoppedByOperator = false;
    this.restartPending = true;
    return this.stop();
  }

  /** Operator restart: down, then up again (a stopped or fatal one is simply started). */
  restart(): Effect[] {
    this.stoppedByOperator = false;
    if (this.waiting) return this.start(true);
    switch (this.state) {
      case 'starting':
      case 'running':
        this.stopIntent = 'restart';
        return this.enterStopping();
      case 'stopping':
        this.stopIntent = 'restart';
        return [];
      default:
        return this.start(true);
    }
  }

  spawned(pid: number, now: number): Effect[] {
    if (this.state === 'stopping' && this.pid === undefined) {
      // a stop was asked for while the process was being started: it gets its stop signal now
      this.pid = pid;
      this.startedAt = now;
      return [{ type: 'stop-group', seconds: this.options.stopTimeout }];
    }
    if (this.state !== 'starting') return [];
    this.startError = undefined;
    this.pid = pid;
    this.startedAt = now;
    this.runs += 1;
    if (this.oneshot) {
      // a oneshot is ready by completing, not by a check; a scheduled run after a success is
      // `running` and stays ready
      if (this.completedOnce && this.ready) this.state = 'running';
      else this.notReadyReason = 'running to completion';
      return [];
    }
    this.notReadyReason = 'starting';
    return [{ type: 'watch-readiness' }];
  }

  /**
   * The process could not be started. `fatal`: it never can (ENOENT, EACCES, ENOEXEC, unknown
   * user); it stays down until an operator starts it. Otherwise a shortage (EAGAIN, EMFILE,
   * ENOMEM...) that may pass: handled like a crash, restarted by policy with the backoff, and so
   * counted toward the restart intensity (design.md §3 rev. 2).
   */
  spawnFailed(
    reason: string,
    code: string | undefined,
    fatal: boolean,
    restartVerdict: () => RestartVerdict,
  ): Effect[] {
    this.startError = { message: reason, ...(code ? { code } : {}) };
    this.pid = undefined;
    this.ready = false;
    if (this.state === 'stopping') {
      // nothing runs, so nothing to wait for: the stop is done
      const intent = this.stopIntent;
      this.stopIntent = undefined;
      if (intent === 'restart') return [{ type: 'cancel-stop-timer' }, ...this.enterStarting(true)];
      this.enterStopped(this.stoppedByOperator ? 'stopped by operator' : 'stopped');
      return [{ type: 'cancel-stop-timer' }];
    }
    if (this.state !== 'starting') return [];
    if (fatal || this.options.restart.policy === 'never') {
      this.state = 'fatal';
      this.notReadyReason = `cannot start: ${reason}`;
      return this.fatalOneshot();
    }
    const refused = this.refusedRestart(restartVerdict(), `cannot start: ${reason}`);
    if (refused) return refused;
    // never at once, even with no backoff configured: a shortage needs time to pass, and
    // retrying in a tight loop would only keep it
    const delayMs = Math.max(this.nextBackoff(0), SHORTAGE_RETRY_FLOOR_MS);
    this.state = 'backoff';
    this.notReadyReason = `cannot start: ${reason}; trying again`;
    return [{ type: 'restart', delayMs }];
  }

  becameReady(): Effect[] {
    if (this.state === 'starting') {
      this.state = 'running';
      this.ready = true;
      this.notReadyReason = undefined;
      return [{ type: 'watch-liveness' }];
    }
    if (this.state === 'running' && !this.ready) {
      this.ready = true;
      this.notReadyReason = undefined;
    }
    return [];
  }

  /** A ready component failed its readiness check: it stays up but stops counting as ready. */
  becameNotReady(reason: string): Effect[] {
    if (this.state === 'running') {
      this.ready = false;
      this.notReadyReason = reason;
    }
    return [];
  }

  /** Liveness failed failureThreshold times in a row: treat as a crash. */
  unhealthy(): Effect[] {
    if ((this.state !== 'running' && this.state !== 'starting') || this.waiting) return [];
    this.stopIntent = 'unhealthy';
    return this.enterStopping();
  }

  /**
   * One sample of the run's resident memory (its whole process group) against its limit: above
   * it MEMORY_SAMPLES_OVER times in a row, it is restarted as a hung one is (exit reason
   * `memory`); a sample at or below the limit starts the count over. Effects only when it restarts.
   */
  memorySampled(residentBytes: number, limitBytes: number): Effect[] {
    if (this.state !== 'running' && this.state !== 'starting') return [];
    if (residentBytes <= limitBytes) {
      this.memoryOverInARow = 0;
      return [];
    }
    this.memoryOverInARow += 1;
    if (this.memoryOverInARow < MEMORY_SAMPLES_OVER) return [];
    this.stopIntent = 'memory';
    return this.enterStopping();
  }

  /** The stop timer ran out: no more asking. */
  stopTimedOut(): Effect[] {
    return this.state === 'stopping' ? [{ type: 'kill-group' }] : [];
  }

  /** The main process `pid` exited (already reaped): what is left of its group goes first. */
  exited(pid: number, exit: ProcessExit): Effect[] {
    return [{ type: 'end-group', pid, exit }];
  }

  /**
   * The run is over: its main process exited and its group is gone (or was waited for long
   * enough). What the exit means: stopped, restarted (if the supervisor's verdict allows), fatal.
   */
  groupEnded(exit: ProcessExit, now: number, restartVerdict: () => RestartVerdict): Effect[] {
    if (this.state !== 'starting' && this.state !== 'running' && this.state !== 'stopping') return [];
    const wasStopping = this.state === 'stopping';
    const intent = this.stopIntent;
    this.stopIntent = undefined;
    // the supervisor's own restarts (hung, memory) are failures whatever the exit looked like
    const reason: ExitReason =
      intent === 'unhealthy' || intent === 'memory'
        ? intent
        : wasStopping
          ? 'stopped'
          : exit.signal
            ? 'signaled'
            : 'exited';
    this.exits[reason] += 1;
    this.lastExit = { code: exit.exitCode, reason, at: now, ...(exit.signal ? { signal: exit.signal } : {}) };
    this.lastExitRun = this.runs;
    this.pid = undefined;
    this.ready = false;
    const effects: Effect[] = [{ type: 'stop-checks' }];
    if (wasStopping) effects.push({ type: 'cancel-stop-timer' });

    if (reason === 'stopped') {
      if (intent === 'restart') {
        this.shortRuns = 0;
        return [...effects, ...this.enterStarting(true)];
      }
      this.enterStopped(this.stoppedReason());
      return effects;
    }

    const failed = reason !== 'exited' || exit.code !== 0;
    const policy = this.options.restart.policy;
    if (this.options.scheduled) this.scheduledRuns[failed ? 'failed' : 'succeeded'] += 1;
    if (this.oneshot && !failed) {
      // its job is done: whatever the policy, a oneshot is not run again but by its schedule
      this.completedOnce = true;
      this.shortRuns = 0;
      this.state = 'completed';
      this.ready = true;
      this.notReadyReason = undefined;
      return effects;
    }
    // a stop for memory says so, whether it is restarted or not
    const what =
      reason === 'memory' ? `resident memory above the limit (${describeExit(exit)})` : describeExit(exit);
    if (policy === 'never' || (policy === 'on-failure' && !failed)) {
      if (failed) {
        this.state = 'fatal';
        this.notReadyReason = `exited with ${what} (restart policy ${policy})`;
        return [...effects, ...this.fatalOneshot()];
      }
      this.enterStopped(`exited with code 0 (restart policy ${policy})`);
      return effects;
    }

    const refused = this.refusedRestart(restartVerdict(), `exited with ${what}`);
    if (refused) return [...effects, ...refused];
    const delayMs = this.nextBackoff((now - (this.startedAt ?? now)) / 1000);
    this.state = 'backoff';
    this.notReadyReason = `restarting after ${what}`;
    return [...effects, { type: 'restart', delayMs }];
  }

  /**
   * A scheduled time came. A oneshot at rest (completed, or fatal when it is not critical) runs;
   * one whose last run still goes on (or waits to be retried) skips this time, counted; one stopped
   * (by an operator, by shutdown) does nothing.
   */
  scheduleDue(): Effect[] {
    if (this.stoppedByOperator || this.waiting) return [];
    switch (this.state) {
      case 'completed':
      case 'fatal': {
        const wasReady = this.ready;
        this.shortRuns = 0;
        const effects = this.enterStarting(false);
        if (wasReady) {
          this.ready = true;
          this.notReadyReason = undefined;
        }
        return effects;
      }
      case 'starting':
      case 'running':
      case 'backoff':
      case 'stopping':
        this.scheduledRuns.skipped += 1;
        return [];
      case 'stopped':
        return [];
    }
  }

  /** The backoff wait is over (or was zero): spawn again. */
  backoffElapsed(): Effect[] {
    if (this.state !== 'backoff') return [];
    return this.enterStarting(true);
  }

  /**
   * The wait before the next start after a run of `ranFor` seconds: none after a stable run (and
   * the doubling starts over), else backoffInitial doubled per short run in a row, capped at
   * backoffMax, varied by up to ±BACKOFF_JITTER so components that failed together do not restart
   * in step.
   */
  private nextBackoff(ranFor: number): number {
    if (ranFor >= this.options.restart.resetAfter) {
      this.shortRuns = 0;
      return 0;
    }
    const { backoffInitial, backoffMax } = this.options.restart;
    const base = Math.min(backoffInitial * 2 ** this.shortRuns, backoffMax);
    this.shortRuns += 1;
    return Math.round(base * (1 + (this.random() * 2 - 1) * BACKOFF_JITTER) * 1000);
  }

  /**
   * The policy would restart after `what`, but the supervisor said no: the component stops here,
   * saying why (and, past the restart intensity, the supervisor gives up). undefined: allowed.
   */
  private refusedRestart(verdict: RestartVerdict, what: string): Effect[] | undefined {
    switch (verdict) {
      case 'allowed':
        return undefined;
      case 'disabled':
        this.enterStopped(`${what}: not restarted, the supervisor is stopping`);
        return [];
      case 'exceeded':
        this.enterStopped(`${what}: restart intensity exceeded, giving up`);
        return [{ type: 'give-up', reason: 'restart intensity exceeded' }];
    }
  }

  /** It just became fatal: a critical oneshot is a failed init container, so the supervisor gives up. */
  private fatalOneshot(): Effect[] {
    if (!this.oneshot || !this.options.critical) return [];
    return [{ type: 'give-up', reason: `the critical oneshot failed for good (${this.notReadyReason})` }];
  }

  /** why it is stopped, when it was asked to stop (by an operator, a restart of everything, shutdown) */
  private stoppedReason(): string {
    if (this.stoppedByOperator) return 'stopped by operator';
    return this.restartPending ? 'restarting: waiting for its turn' : 'stopped';
  }

  /** `isRestart`: a respawn by policy or operator restart, counted in `restarts` (a start from stopped is not) */
  private enterStarting(isRestart: boolean): Effect[] {
    this.state = 'starting';
    this.ready = false;
    this.notReadyReason = 'starting';
    this.memoryOverInARow = 0;
    if (isRestart) this.restarts += 1;
    return [{ type: 'spawn' }];
  }

  private enterStopping(): Effect[] {
    this.state = 'stopping';
    this.ready = false;
    this.notReadyReason = 'stopping';
    return [{ type: 'stop-checks' }, { type: 'stop-group', seconds: this.options.stopTimeout }];
  }

  private enterStopped(reason: string): void {
    this.state = 'stopped';
    this.ready = false;
    this.notReadyReason = reason;
  }
}

export function describeExit(exit: ProcessExit): string {
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
}
