// What the rest of the program (HTTP, metrics, control API, CLI) may see of the supervisor.
// The supervisor core produces these snapshots; nobody outside src/supervisor changes its state
// except through the control methods of SupervisorControl.
import type { EventEmitter } from 'node:events';

/** `completed` (rev. 2): a oneshot whose last run exited 0; it counts as ready */
export type ComponentState =
  | 'stopped'
  | 'starting'
  | 'running'
  | 'backoff'
  | 'stopping'
  | 'fatal'
  | 'completed';
export const componentStates: readonly ComponentState[] = [
  'stopped',
  'starting',
  'running',
  'backoff',
  'stopping',
  'fatal',
  'completed',
];

/** how the runs of a scheduled oneshot went (label `result` of s7supervisor_component_scheduled_runs_total) */
export interface ScheduledRuns {
  succeeded: number;
  failed: number;
  /** due while the last run still went on */
  skipped: number;
}

/**
 * why a run ended (metric label of s7supervisor_component_exits_total): `unhealthy` and `memory`
 * (rev. 2) are the supervisor's own restarts, after failed liveness checks or above `<limits memory>`
 */
export type ExitReason = 'exited' | 'signaled' | 'unhealthy' | 'stopped' | 'memory';
export const exitReasons: readonly ExitReason[] = ['exited', 'signaled', 'unhealthy', 'stopped', 'memory'];

export interface LastExit {
  /** the exit code, or 128+N when signal N ended it */
  code: number;
  signal?: NodeJS.Signals;
  reason: ExitReason;
  /** epoch ms */
  at: number;
}

/** one state change, as the status page and GET /api/v1/events show it */
export interface StateChange {
  from: ComponentState;
  to: ComponentState;
  /** what caused it, in words: 'ready', 'restarting after signal SIGKILL', 'stopped by operator'... */
  reason: string;
  /** epoch ms */
  at: number;
}

/** how many state changes a status keeps (the newest last) */
export const RECENT_CHANGES = 10;
/** how many restart times a status keeps (the newest last): enough to tell a crash loop */
export const RECENT_RESTARTS = 100;

export interface ComponentStatus {
  id: string;
  description: string;
  critical: boolean;
  startPriority: number;
  /** rev. 2: a longrun keeps running; a oneshot runs to completion */
  kind: 'longrun' | 'oneshot';
  state: ComponentState;
  /** pid of the main process, which is also its process group id; absent when not running */
  pid?: number;
  /** ready: readiness passed (or startDelay elapsed) and the state is `running` */
  ready: boolean;
  /** when not ready, why, for /readyz?verbose: 'starting', 'stopped by operator', 'readiness: ...' */
  notReadyReason?: string;
  /** epoch ms of the last spawn */
  startedAt?: number;
  restarts: number;
  exits: Record<ExitReason, number>;
  lastExit?: LastExit;
  /** stopped by an operator: stays stopped until started again */
  stoppedByOperator: boolean;
  /** stopped for an ordered restart of everything: it starts again when its group's turn comes */
  restartPending?: true;
  /** why the last spawn failed (command not found, not executable, unknown user) */
  startError?: { code?: string; message: string };
  /** in backoff: epoch ms of the next try */
  nextStartAt?: number;
  /** rev. 2: its `<limits memory>` in bytes, when it has one */
  memoryLimitBytes?: number;
  /** a scheduled oneshot: epoch ms of its next run, once its schedule runs */
  nextRunAt?: number;
  /** a scheduled oneshot: its runs by result */
  scheduledRuns?: ScheduledRuns;
  /** epoch ms of the last restarts (at most RECENT_RESTARTS, oldest first) */
  restartTimes: readonly number[];
  /** the last state changes (at most RECENT_CHANGES, oldest first) */
  changes: readonly Readonly<StateChange>[];
}

export type SupervisorPhase = 'starting' | 'running' | 'stopping' | 'stopped' | 'gave-up';

export type CheckKind = 'readiness' | 'liveness';

/** Events a SupervisorView emits, with their payloads. */
export interface SupervisorEventMap {
  /** a component changed state */
  state: [status: ComponentStatus, previous: ComponentState];
  /** one probe finished (for the check histogram and failure counter) */
  check: [component: string, kind: CheckKind, ok: boolean, durationSeconds: number];
  /** orphans (not components) were reaped */
  reaped: [count: number];
  /** a reload was attempted */
  reload: [attempt: ReloadAttempt];
  /** a component a reload removed is gone (stopped, and no longer listed) */
  removed: [id: string];
}

export interface SupervisorView extends EventEmitter<SupervisorEventMap> {
  components(): ComponentStatus[];
  component(id: string): ComponentStatus | undefined;
  readonly phase: SupervisorPhase;
}

/** a reload: what it changed, or why the registry was refused (then nothing changed) */
export type ReloadAttempt =
  | { result: 'success'; changes: ReloadChanges }
  | { result: 'failure'; reason: string };

/** what a reload did, server ids by what happened to them */
export interface ReloadChanges {
  added: string[];
  removed: string[];
  /** the process definition changed: restarted with the new one */
  restarted: string[];
  /** only supervision settings changed (priority, timeouts, restart policy...): same process */
  updated: string[];
  unchanged: string[];
}

export type ControlResult =
  | {
      ok: true;
      message: string;
      changes?: ReloadChanges;
      /** reload: what could not be applied (a listener that could not move, and why) */
      warnings?: string[];
    }
  | { ok: false; status: 404 | 409 | 422; message: string };

/** The operator's levers (control socket, token-guarded HTTP routes, CLI). */
export interface SupervisorControl extends SupervisorView {
  start(id: string): Promise<ControlResult>;
  stop(id: string): Promise<ControlResult>;
  /** no id: every component */
  restart(id?: string): Promise<ControlResult>;
  /** re-read the registry file; an invalid one changes nothing */
  reload(): Promise<ControlResult>;
  /**
   * rev. 2: send a signal (a name such as `HUP` or `SIGHUP`, or a number) to the component's
   * process group. 404 unknown id, 422 unknown signal, 409 no process to signal.
   */
  signal(id: string, signal: string): Promise<ControlResult>;
}
