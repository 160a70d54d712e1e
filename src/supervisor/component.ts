// One supervised component: carries out the effects its Lifecycle asks for (spawn, signals,
// timers, checks) through the process host, and feeds what happens back into it. All decisions
// live in lifecycle.ts; every state change is reported once, after the event that caused it.
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { CheckOutcome, RunningProbe, StartProbe } from '../health/check.js';
import type { ExitStatus, Launched, ProcessHost, SpawnError, Timer } from '../process/host.js';
import { signalNumber } from '../process/signals.js';
import { parseSchedule, type Schedule } from '../registry/cron.js';
import type { CheckSpec, ServerSpec } from '../registry/model.js';
import { formatSize } from '../registry/values.js';
import {
  describeExit,
  type Effect,
  Lifecycle,
  type LifecycleOptions,
  MEMORY_SAMPLES_OVER,
  type ProcessExit,
  type RestartVerdict,
} from './lifecycle.js';
import {
  type CheckKind,
  type ComponentState,
  type ComponentStatus,
  RECENT_CHANGES,
  RECENT_RESTARTS,
  type StateChange,
} from './status.js';

export interface OutputMeta {
  component: string;
  stream: 'stdout' | 'stderr';
  mode: 'json' | 'raw';
  /** the pid of the run that printed it */
  pid: number;
}

/** Copies a component's output stream into the log; resolves once it ended and was flushed. */
export type AttachOutput = (stream: Readable, meta: OutputMeta) => Promise<void>;

export interface ComponentDeps {
  host: ProcessHost;
  logger: Logger;
  attachOutput: AttachOutput;
  /** health checks; without them, checks in the registry are ignored and startDelay decides */
  startProbe?: StartProbe;
  watchReadyFd?: (stream: Readable, onReady: () => void) => void;
  /** asked when an exit would be restarted by policy (restart intensity, shutdown) */
  restartVerdict(component: Component): RestartVerdict;
  /** the restart intensity was exceeded, or a critical oneshot failed for good (after that change was reported) */
  giveUp(component: Component, reason: string): void;
  /**
   * the resident memory of the component's process group now, for `<limits memory>`; undefined
   * when there is no reading of it (yet). Without it, limits are not watched.
   */
  residentMemory?(component: Component): number | undefined;
  onStateChange(component: Component, previous: ComponentState): void;
  /** it spawned a process without changing state (starting stays starting): dependencies on `started` */
  onProgress?(component: Component): void;
  onCheck(component: Component, kind: CheckKind, outcome: CheckOutcome): void;
  /** a run's process group came to be / is gone (the parent-death watchdog keeps the list) */
  onGroupStarted?(pgid: number): void;
  onGroupGone?(pgid: number): void;
  /** tini mode hands the child the supervisor's stdin too */
  inheritStdin?: boolean;
  /** tini mode on a terminal: the child keeps it (see SpawnSpec.terminal) */
  terminal?: { takeForeground: boolean };
  /**
   * tini mode: leftovers of the group get SIGTERM and this long to go before SIGKILL. Otherwise
   * they get SIGKILL at once (design.md §3: the group dies with its main process).
   */
  leftoverGraceMs?: number;
  /**
   * tini mode: the command's exit is the supervisor's exit code, not a problem of ours; logged at
   * info unless the command is restarted after it
   */
  exitIsResult?: boolean;
}

/** How long to wait for a dead component's leftover processes to vanish before going on anyway. */
const LEFTOVER_GRACE_MS = 2000;
/** How long a run's output may stay open after its process group is gone (see closeOutputsSoon). */
const OUTPUT_GRACE_MS = 1000;

export class Component {
  readonly lifecycle: Lifecycle;
  /** process group of the current (or last) run: outlives `lifecycle.pid` until the group is gone */
  private pgid: number | undefined;
  private stopTimer: Timer | undefined;
  private backoffTimer: Timer | undefined;
  private readinessTimer: Timer | undefined;
  private memoryTimer: Timer | undefined;
  private probes: RunningProbe[] = [];
  /** signals passed on while the process was being started, delivered once it has a pid */
  private pendingSignals: NodeJS.Signals[] = [];
  /** the output pipes of the current run */
  private outputs: Readable[] = [];
  /** true while apply() runs an event; events that arise meanwhile wait in pendingEvents */
  private applying = false;
  private readonly pendingEvents: Array<() => void> = [];
  /** bumped on every spawn and stop-checks, so late callbacks from an old run are ignored */
  private generation = 0;
  /** in backoff: when the next try is due (epoch ms) */
  private nextStartAt: number | undefined;
  /**
   * The last restarts and state changes, bounded, for the status page and the events stream;
   * status() hands out frozen copies made when they change, not a copy per call (/readyz and
   * every scrape take a status of every component).
   */
  private restartTimes: readonly number[] = Object.freeze([]);
  private changes: readonly Readonly<StateChange>[] = Object.freeze([]);
  /** a scheduled oneshot: when it runs next, from the first start until it is stopped */
  private schedule: Schedule | undefined;
  private scheduleTimer: Timer | undefined;
  /** epoch ms the armed schedule timer is due */
  private nextRunAt: number | undefined;

  constructor(
    public spec: ServerSpec,
    private readonly deps: ComponentDeps,
  ) {
    this.lifecycle = new Lifecycle(lifecycleOptions(spec));
    this.schedule = scheduleOf(spec, deps.logger);
  }

  get id(): string {
    return this.spec.id;
  }

  get state(): ComponentState {
    return this.lifecycle.state;
  }

  /** settled: not on its way anywhere, nothing running (used by start ordering and shutdown) */
  get settled(): boolean {
    return (
      this.state === 'stopped' ||
      this.state === 'fatal' ||
      this.state === 'completed' ||
      // held back by its dependencies: no process, nothing to wait for
      this.lifecycle.waiting
    );
  }

  /** reload: new supervision settings (priority, timeouts, restart policy, schedule), same process */
  updateSpec(spec: ServerSpec): void {
    const scheduleBefore = JSON.stringify(this.spec.schedule);
    this.spec = spec;
    this.lifecycle.updateOptions(lifecycleOptions(spec));
    if (JSON.stringify(spec.schedule) !== scheduleBefore) {
      this.schedule = scheduleOf(spec, this.deps.logger);
      // a schedule that ran goes on with the new times
      if (this.scheduleTimer) {
        this.cancelSchedule();
        this.armSchedule(this.deps.host.clock.now());
      }
    }
    // a limit a reload added applies to the run under way (a removed one ends at its next tick)
    if (this.state === 'starting' || this.state === 'running') this.watchMemory();
  }

  /** reload: a new process definition; a running component restarts with it, a stopped one stays stopped */
  replaceSpec(spec: ServerSpec): void {
    this.updateSpec(spec);
    // held back by its dependencies: it starts with the new spec when they hold
    if (this.lifecycle.waiting) return;
    if (this.state === 'fatal') this.start();
    // waiting out its backoff: the next start uses the new spec; starting now would skip the
    // backoff and the restart intensity
    else if (this.state !== 'stopped' && this.state !== 'backoff') this.restart();
  }

  start(byOperator = false): void {
    this.apply(() => this.lifecycle.start(byOperator), byOperator ? 'started by operator' : 'started');
    // a schedule begins with the first run, at the server's turn (or an operator's start)
    if (this.schedule && !this.scheduleTimer && !this.lifecycle.stoppedByOperator)
      this.armSchedule(this.deps.host.clock.now());
  }

  /** held back by its dependencies: `starting`, with `reason` (waiting for X (state)) */
  hold(reason: string): void {
    this.apply(() => this.lifecycle.hold(reason), reason);
  }

  stop(byOperator = false): void {
    this.cancelSchedule();
    this.apply(
      () => this.lifecycle.stop(byOperator),
      byOperator ? 'stopped by operator' : 'stopped by the supervisor',
    );
  }

  restart(): void {
    this.apply(() => this.lifecycle.restart(), 'restarted by operator');
  }

  stopForRestart(): void {
    this.cancelSchedule();
    this.apply(() => this.lifecycle.stopForRestart(), 'restart of every component');
  }

  /** SIGKILL the whole group now (second signal to the supervisor, or shutdownTimeout). */
  killNow(): void {
    this.killGroup();
  }

  /** pass a signal on to the component's process group (SIGUSR1/2, tini mode) */
  signal(signal: NodeJS.Signals): void {
    if (this.lifecycle.pid !== undefined) this.deps.host.signalGroup(this.lifecycle.pid, signal);
    // being started: it gets the signal as soon as it has a pid
    else if (this.state === 'starting') this.pendingSignals.push(signal);
  }

  /**
   * An operator's signal to the component's process group (`s7supervisor signal`): false when it
   * has no process to receive it (not started yet, between runs, stopped).
   */
  sendSignal(signal: number): boolean {
    return this.lifecycle.pid !== undefined && this.deps.host.signalGroup(this.lifecycle.pid, signal);
  }

  status(): ComponentStatus {
    const l = this.lifecycle;
    return {
      id: this.spec.id,
      description: this.spec.description,
      critical: this.spec.critical,
      startPriority: this.spec.startPriority,
      kind: this.spec.kind,
      state: l.state,
      ...(l.pid !== undefined ? { pid: l.pid } : {}),
      ready: l.countsAsReady,
      ...(l.notReadyReason !== undefined && !l.countsAsReady ? { notReadyReason: l.notReadyReason } : {}),
      ...(l.startedAt !== undefined ? { startedAt: l.startedAt } : {}),
      restarts: l.restarts,
      exits: { ...l.exits },
      ...(l.lastExit ? { lastExit: { ...l.lastExit } } : {}),
      stoppedByOperator: l.stoppedByOperator,
      ...(l.restartPending ? { restartPending: true as const } : {}),
      ...(l.startError ? { startError: { ...l.startError } } : {}),
      ...(l.state === 'backoff' && this.nextStartAt !== undefined ? { nextStartAt: this.nextStartAt } : {}),
      ...(this.spec.limits ? { memoryLimitBytes: this.spec.limits.memory } : {}),
      ...(this.nextRunAt !== undefined ? { nextRunAt: this.nextRunAt } : {}),
      ...(this.spec.schedule ? { scheduledRuns: { ...l.scheduledRuns } } : {}),
      restartTimes: this.restartTimes,
      changes: this.changes,
    };
  }

  /**
   * Runs one lifecycle event and carries out its effects, reporting any state change. `cause`
   * says in words what asked for it, when the new state alone does not (see changeReason).
   *
   * One event at a time: an event that arises while another is being applied (an effect that
   * completes at once, a listener of the state change that acts on this component) waits until
   * that one is done and told, so every change is reported once, in the order it happened.
   */
  private apply(event: () => Effect[], cause?: string): void {
    if (this.applying) {
      this.pendingEvents.push(() => this.apply(event, cause));
      return;
    }
    this.applying = true;
    let gaveUp: string | undefined;
    try {
      gaveUp = this.applyNow(event, cause);
    } finally {
      this.applying = false;
    }
    // giving up stops everything, this component included: only once its own change is told
    if (gaveUp !== undefined) this.deps.giveUp(this, gaveUp);
    this.pendingEvents.shift()?.();
  }

  /** apply() of one event; the reason when it says the supervisor must give up */
  private applyNow(event: () => Effect[], cause: string | undefined): string | undefined {
    const before = this.lifecycle.state;
    const restartsBefore = this.lifecycle.restarts;
    const runsBefore = this.lifecycle.runs;
    const effects = event();
    for (const effect of effects) this.execute(effect);
    const now = this.deps.host.clock.now();
    if (this.lifecycle.restarts > restartsBefore)
      this.restartTimes = withLast(this.restartTimes, now, RECENT_RESTARTS);
    const after = this.lifecycle.state;
    if (after !== before) {
      if (after !== 'backoff') this.nextStartAt = undefined;
      const reason = changeReason(before, after, cause, this.lifecycle);
      this.changes = withLast(
        this.changes,
        Object.freeze({ from: before, to: after, reason, at: now }),
        RECENT_CHANGES,
      );
      this.deps.onStateChange(this, before);
    } else if (this.lifecycle.runs !== runsBefore) this.deps.onProgress?.(this);
    const giveUp = effects.find((effect) => effect.type === 'give-up');
    return giveUp?.type === 'give-up' ? giveUp.reason : undefined;
  }

  private execute(effect: Effect): void {
    switch (effect.type) {
      case 'spawn':
        this.spawn();
        break;
      case 'stop-group':
        if (this.lifecycle.pid !== undefined) {
          this.deps.logger.info(
            {
              component: this.id,
              pid: this.lifecycle.pid,
              signal: this.spec.stopSignal,
              stopTimeout: effect.seconds,
            },
            'stopping component',
          );
          this.deps.host.signalGroup(this.lifecycle.pid, this.spec.stopSignal);
          // a stopped (SIGSTOPped) process acts on its stop signal only once continued, as systemd does
          if (this.spec.stopSignal !== 'SIGCONT') this.deps.host.signalGroup(this.lifecycle.pid, 'SIGCONT');
        }
        this.stopTimer?.cancel();
        this.stopTimer = this.deps.host.clock.after(effect.seconds * 1000, () => {
          this.deps.logger.warn(
            { component: this.id, stopTimeout: effect.seconds },
            `component did not stop within ${effect.seconds}s: SIGKILL`,
          );
          this.apply(() => this.lifecycle.stopTimedOut(), 'stop timeout: SIGKILL');
        });
        break;
      case 'kill-group':
        this.killGroup();
        break;
      case 'end-group':
        void this.endGroup(effect.pid, effect.exit);
        break;
      case 'cancel-stop-timer':
        this.stopTimer?.cancel();
        this.stopTimer = undefined;
        break;
      case 'watch-readiness':
        this.watchReadiness();
        // a run's memory is watched from its start, and ends with its checks (stop-checks)
        this.watchMemory();
        break;
      case 'watch-liveness':
        this.watchLiveness();
        break;
      case 'stop-checks':
        this.stopChecks();
        break;
      case 'restart':
        this.scheduleRestart(effect.delayMs);
        break;
      case 'cancel-backoff':
        this.cancelBackoff();
        break;
      case 'give-up':
        // told to the supervisor by apply(), once this change is reported
        break;
    }
  }

  /** The one place a component's process group gets SIGKILL; false when there is none (left). */
  private killGroup(pgid = this.pgid): boolean {
    return pgid !== undefined && this.deps.host.signalGroup(pgid, 'SIGKILL');
  }

  private spawn(): void {
    const spec = this.spec;
    this.generation += 1;
    const run = this.generation;
    const fdReadiness = spec.readiness?.type === 'fd' ? spec.readiness.fd : undefined;
    this.deps.host
      .launch({
        command: spec.command,
        args: spec.args,
        cwd: spec.workingDirectory,
        env: spec.env,
        ...(spec.user !== undefined ? { user: spec.user } : {}),
        stdin: this.deps.inheritStdin ? 'inherit' : 'ignore',
        output: spec.output === 'inherit' ? 'inherit' : spec.output === 'raw' ? 'relay' : 'capture',
        ...(fdReadiness !== undefined ? { readyFd: fdReadiness } : {}),
        ...(this.deps.terminal ? { terminal: this.deps.terminal } : {}),
      })
      .then(
        (launched) => this.onSpawned(launched, run),
        (error: SpawnError) => this.failSpawn(error),
      );
  }

  private onSpawned(launched: Launched, run: number): void {
    const { pid, readyPipe } = launched;
    const spec = this.spec;
    this.pgid = pid;
    this.deps.onGroupStarted?.(pid);
    this.outputs = [];
    for (const stream of ['stdout', 'stderr'] as const) {
      const pipe = launched[stream];
      if (!pipe) continue;
      this.outputs.push(pipe);
      void this.deps.attachOutput(pipe, {
        component: spec.id,
        stream,
        mode: spec.output === 'raw' ? 'raw' : 'json',
        pid,
      });
    }
    void launched.exited.then((status) => this.onProcessExit(pid, status));
    this.deps.logger.info(
      // as written: the expanded ${VAR}s may be secrets (design.md §7)
      { component: spec.id, pid, command: spec.shown.command, args: spec.shown.args },
      'component started',
    );
    this.apply(() => this.lifecycle.spawned(pid, this.deps.host.clock.now()));
    for (const signal of this.pendingSignals.splice(0)) this.deps.host.signalGroup(pid, signal);
    if (readyPipe) {
      if (this.deps.watchReadyFd && run === this.generation)
        this.deps.watchReadyFd(readyPipe, () => {
          if (run === this.generation) this.apply(() => this.lifecycle.becameReady());
        });
      // the descriptor belongs to this run only: closed when the run's process is gone
      void launched.exited.then(() => readyPipe.destroy());
    }
  }

  private failSpawn(error: SpawnError): void {
    this.pendingSignals = [];
    const level = error.fatal ? 'error' : 'warn';
    this.deps.logger[level](
      { component: this.id, command: this.spec.shown.command, code: error.code, reason: error.message },
      `cannot start component: ${error.message}${error.fatal ? '' : ' (a shortage: trying again)'}`,
    );
    this.apply(() =>
      this.lifecycle.spawnFailed(error.message, error.code, error.fatal, () =>
        this.deps.restartVerdict(this),
      ),
    );
  }

  private onProcessExit(pid: number, status: ExitStatus): void {
    if (status.terminalTakenBack)
      this.deps.logger.debug({ component: this.id, pid }, 'the terminal is ours again');
    const { code, signal } = status;
    const exit: ProcessExit = { code, signal, exitCode: signal ? 128 + signalNumber(signal) : (code ?? 0) };
    this.apply(() => this.lifecycle.exited(pid, exit));
  }

  /**
   * The main process `pid` is gone: what is left of its group goes too, before anything else
   * happens (tini mode first asks it with SIGTERM), then the lifecycle learns what the exit means.
   */
  private async endGroup(pid: number, exit: ProcessExit): Promise<void> {
    const { code, signal } = exit;
    const host = this.deps.host;
    const grace = this.deps.leftoverGraceMs;
    if (grace !== undefined && host.signalGroup(pid, 'SIGTERM') && !(await host.waitGroupGone(pid, grace))) {
      this.deps.logger.warn(
        { component: this.id, graceMs: grace },
        'leftover processes ignored SIGTERM: SIGKILL',
      );
    }
    const gone = !this.killGroup(pid) || (await host.waitGroupGone(pid, LEFTOVER_GRACE_MS));
    if (gone && this.pgid === pid) {
      // the group id may be reused by anyone from now on: never signal it again
      this.pgid = undefined;
      this.deps.onGroupGone?.(pid);
    }
    this.closeOutputsSoon();
    // a clean exit is not a warning, nor (tini mode) the command's end that is our exit code
    const clean = code === 0 && !signal;
    const policy = this.spec.restart.policy;
    const restarted = policy === 'always' || (policy === 'on-failure' && !clean);
    const expected =
      this.lifecycle.state === 'stopping' || clean || (this.deps.exitIsResult === true && !restarted);
    this.deps.logger[expected ? 'info' : 'warn'](
      { component: this.id, pid, code, signal },
      `component exited with ${describeExit(exit)}`,
    );
    this.apply(() => this.lifecycle.groupEnded(exit, host.clock.now(), () => this.deps.restartVerdict(this)));
  }

  /**
   * The run is over and its group is gone, so its pipes normally end by themselves. A process that
   * left the group (a daemon that called setsid) can hold them open forever: after a grace period
   * they are closed, so no run leaves descriptors behind.
   */
  private closeOutputsSoon(): void {
    const outputs = this.outputs;
    this.outputs = [];
    const open = outputs.filter((stream) => !stream.destroyed && !stream.readableEnded);
    if (open.length === 0) return;
    this.deps.host.clock.after(
      OUTPUT_GRACE_MS,
      () => {
        const stillOpen = open.filter((stream) => !stream.destroyed && !stream.readableEnded);
        if (stillOpen.length === 0) return;
        this.deps.logger.warn(
          { component: this.id, graceMs: OUTPUT_GRACE_MS },
          "a process outside the component's group still holds its output open: closing it",
        );
        for (const stream of stillOpen) stream.destroy();
      },
      { unref: true },
    );
  }

  private scheduleRestart(delayMs: number): void {
    if (delayMs > 0)
      this.deps.logger.info({ component: this.id, delayMs }, `restarting in ${(delayMs / 1000).toFixed(2)}s`);
    this.cancelBackoff();
    const clock = this.deps.host.clock;
    this.nextStartAt = clock.now() + delayMs;
    const elapsed = () => {
      this.backoffTimer = undefined;
      this.apply(() => this.lifecycle.backoffElapsed(), 'backoff over: starting again');
    };
    // even an immediate restart waits for the next turn of the event loop: the event that caused
    // it runs to completion first, and a crash loop cannot starve timers, signals or HTTP
    this.backoffTimer = delayMs > 0 ? clock.after(delayMs, elapsed) : clock.soon(elapsed);
  }

  private cancelBackoff(): void {
    this.backoffTimer?.cancel();
    this.backoffTimer = undefined;
  }

  /**
   * The timer of the next scheduled run after `after` (epoch ms). Whether that run happens or is
   * skipped is the lifecycle's decision (scheduleDue). The next time counts from when this one was
   * due, not from when it ran: a fixed grid for @every, so a run still going is skipped, not
   * pushed back. Times already past (the clock jumped, the machine slept) are not caught up.
   */
  private armSchedule(after: number): void {
    const schedule = this.schedule;
    if (!schedule) return;
    const clock = this.deps.host.clock;
    const now = clock.now();
    let due = schedule.nextRun(new Date(after)).getTime();
    while (due <= now - 1000) due = schedule.nextRun(new Date(due)).getTime();
    this.nextRunAt = due;
    // not unref'd: a run to come is work the supervisor has to do, even when nothing else (no
    // listener, no process) would keep it alive meanwhile; shutdown ends the schedule
    this.scheduleTimer = clock.after(Math.max(0, due - now), () => {
      this.scheduleTimer = undefined;
      this.nextRunAt = undefined;
      const skippedBefore = this.lifecycle.scheduledRuns.skipped;
      this.apply(() => this.lifecycle.scheduleDue(), 'scheduled run');
      if (this.lifecycle.scheduledRuns.skipped > skippedBefore)
        this.deps.logger.warn(
          { component: this.id, state: this.state },
          'scheduled run skipped: the last run is still going on',
        );
      if (!this.lifecycle.stoppedByOperator) this.armSchedule(due);
    });
  }

  /** a schedule is armed: its next run is to come */
  get scheduled(): boolean {
    return this.scheduleTimer !== undefined;
  }

  private cancelSchedule(): void {
    this.scheduleTimer?.cancel();
    this.scheduleTimer = undefined;
    this.nextRunAt = undefined;
  }

  private watchReadiness(): void {
    const check = this.spec.readiness;
    const generation = this.generation;
    if (check && check.type === 'fd') return; // watched from spawn()
    if (check && this.deps.startProbe) {
      this.runProbe('readiness', check, (ok, failuresInARow, outcome) => {
        if (ok) this.apply(() => this.lifecycle.becameReady());
        else if (this.lifecycle.ready && failuresInARow >= check.failureThreshold)
          this.apply(() => this.lifecycle.becameNotReady(`readiness: ${outcome.reason ?? 'failed'}`));
      });
      return;
    }
    this.readinessTimer = this.deps.host.clock.after(this.spec.startDelay * 1000, () => {
      if (generation === this.generation) this.apply(() => this.lifecycle.becameReady());
    });
  }

  private watchLiveness(): void {
    const check = this.spec.liveness;
    if (!check || check.type === 'fd' || !this.deps.startProbe) return;
    this.runProbe('liveness', check, (ok, failuresInARow, outcome) => {
      if (!ok && failuresInARow >= check.failureThreshold) {
        this.deps.logger.warn(
          { component: this.id, failures: failuresInARow, reason: outcome.reason },
          'liveness check failed: restarting component',
        );
        this.apply(() => this.lifecycle.unhealthy(), `liveness failed: ${outcome.reason ?? 'failed'}`);
      }
    });
  }

  private runProbe(
    kind: CheckKind,
    check: Exclude<CheckSpec, { type: 'fd' }>,
    decide: (ok: boolean, failuresInARow: number, outcome: CheckOutcome) => void,
  ): void {
    const generation = this.generation;
    let failuresInARow = 0;
    const probe = this.deps.startProbe!(check, (outcome) => {
      if (generation !== this.generation) return;
      this.deps.onCheck(this, kind, outcome);
      failuresInARow = outcome.ok ? 0 : failuresInARow + 1;
      decide(outcome.ok, failuresInARow, outcome);
    });
    this.probes.push(probe);
  }

  /**
   * Samples the run's resident memory every `checkInterval` while it has a `<limits memory>`;
   * only such components have this timer, so a supervisor without limits never wakes for it.
   */
  private watchMemory(): void {
    const limits = this.spec.limits;
    const residentMemory = this.deps.residentMemory;
    if (!limits || !residentMemory || this.memoryTimer) return;
    const generation = this.generation;
    const clock = this.deps.host.clock;
    const intervalMs = limits.checkInterval * 1000;
    // on multiples of the interval: components with the same interval sample at the same moment
    // and so share one /proc reading (src/metrics/resources.ts) instead of one pass each
    const delay = intervalMs - (clock.now() % intervalMs);
    this.memoryTimer = clock.after(
      delay,
      () => {
        this.memoryTimer = undefined;
        if (generation !== this.generation) return;
        const limit = this.spec.limits?.memory;
        const bytes = residentMemory(this);
        if (limit !== undefined && bytes !== undefined) this.memorySampled(bytes, limit);
        // the sample may have ended the run's watching (a restart, or a reload removed the limit)
        if (generation === this.generation) this.watchMemory();
      },
      { unref: true },
    );
  }

  private memorySampled(bytes: number, limit: number): void {
    const why = `resident memory ${formatSize(bytes)} above the limit ${formatSize(limit)} at ${MEMORY_SAMPLES_OVER} samples in a row`;
    this.apply(() => {
      const effects = this.lifecycle.memorySampled(bytes, limit);
      if (effects.length > 0)
        this.deps.logger.warn(
          { component: this.id, residentMemoryBytes: bytes, memoryLimitBytes: limit },
          `${why}: restarting`,
        );
      return effects;
    }, why);
  }

  private stopChecks(): void {
    this.generation += 1;
    this.readinessTimer?.cancel();
    this.readinessTimer = undefined;
    this.memoryTimer?.cancel();
    this.memoryTimer = undefined;
    for (const probe of this.probes) probe.stop();
    this.probes = [];
  }
}

/** a frozen copy of `list` with `item` at the end, the oldest dropped beyond `max` */
function withLast<T>(list: readonly T[], item: T, max: number): readonly T[] {
  return Object.freeze([...list.slice(Math.max(0, list.length + 1 - max)), item]);
}

/**
 * A state change in words. The new state and its notReadyReason say most of it (why it is in
 * backoff, fatal or stopped); what the state cannot tell (who stopped or started it, a liveness
 * failure) comes as the cause from the call site.
 */
function changeReason(
  from: ComponentState,
  to: ComponentState,
  cause: string | undefined,
  lifecycle: Lifecycle,
): string {
  switch (to) {
    case 'running':
      return 'ready';
    case 'starting':
      if (cause) return cause;
      return from === 'stopping' ? 'restarting' : 'started';
    case 'stopping':
      return cause ?? 'stopping';
    case 'backoff':
    case 'fatal':
    case 'stopped':
      return lifecycle.notReadyReason ?? to;
    case 'completed':
      return 'completed (exit code 0)';
  }
}

function lifecycleOptions(spec: ServerSpec): LifecycleOptions {
  return {
    restart: spec.restart,
    stopTimeout: spec.stopTimeout,
    kind: spec.kind,
    critical: spec.critical,
    scheduled: spec.schedule !== undefined,
  };
}

/** the registry validated the expression already: a failure here is a bug, logged, not thrown */
function scheduleOf(spec: ServerSpec, logger: Logger): Schedule | undefined {
  if (!spec.schedule) return undefined;
  const parsed = parseSchedule(spec.schedule);
  if (parsed.ok) return parsed.value;
  logger.error({ component: spec.id, reason: parsed.message }, 'schedule not understood: it does not run');
  return undefined;
}
