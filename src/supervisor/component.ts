// One supervised component: carries out the effects its Lifecycle asks for (spawn, signals,
// timers, checks) and feeds what happens back into it. All decisions live in lifecycle.ts.
import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { CheckOutcome, RunningProbe, StartProbe } from '../health/check.js';
import { signalGroup, waitGroupGone } from '../process/group.js';
import { signalNumber } from '../process/signals.js';
import { spawnChild } from '../process/spawn.js';
import { childStdio, releaseChildStdio } from '../process/stdio.js';
import { firstTime, planSpawn } from '../process/users.js';
import type { CheckSpec, ServerSpec } from '../registry/model.js';
import { describeExit, type Effect, Lifecycle, type ProcessExit } from './lifecycle.js';
import type { CheckKind, ComponentState, ComponentStatus } from './status.js';

export interface OutputMeta {
  component: string;
  stream: 'stdout' | 'stderr';
  mode: 'json' | 'raw';
}

/** Copies a component's output stream into the log; resolves once it ended and was flushed. */
export type AttachOutput = (stream: Readable, meta: OutputMeta) => Promise<void>;

export interface ComponentDeps {
  logger: Logger;
  attachOutput: AttachOutput;
  /** health checks; without them, checks in the registry are ignored and startDelay decides */
  startProbe?: StartProbe;
  watchReadyFd?: (stream: Readable, onReady: () => void) => void;
  /** restart intensity: false means the supervisor gives up instead */
  allowRestart(component: Component): boolean;
  onStateChange(component: Component, previous: ComponentState): void;
  onCheck(component: Component, kind: CheckKind, outcome: CheckOutcome): void;
  /** tini mode hands the child the supervisor's stdin too */
  inheritStdin?: boolean;
  /**
   * tini mode: leftovers of the group get SIGTERM and this long to go before SIGKILL. Otherwise
   * they get SIGKILL at once (design.md §3: the group dies with its main process).
   */
  leftoverGraceMs?: number;
}

/** How long to wait for a dead component's leftover processes to vanish before going on anyway. */
const LEFTOVER_GRACE_MS = 2000;

export class Component {
  readonly lifecycle: Lifecycle;
  /** process group of the current (or last) run: outlives `lifecycle.pid` until the group is gone */
  private pgid: number | undefined;
  private stopTimer: NodeJS.Timeout | undefined;
  private backoffTimer: NodeJS.Timeout | undefined;
  private readinessTimer: NodeJS.Timeout | undefined;
  private probes: RunningProbe[] = [];
  /** bumped on every spawn and stop-checks, so late callbacks from an old run are ignored */
  private generation = 0;

  constructor(
    public spec: ServerSpec,
    private readonly deps: ComponentDeps,
  ) {
    this.lifecycle = new Lifecycle({ restart: spec.restart, stopTimeout: spec.stopTimeout });
  }

  get id(): string {
    return this.spec.id;
  }

  get state(): ComponentState {
    return this.lifecycle.state;
  }

  /** settled: not on its way anywhere (used by start ordering and shutdown) */
  get settled(): boolean {
    return this.state === 'stopped' || this.state === 'fatal';
  }

  /** reload: new supervision settings (priority, timeouts, restart policy), same process */
  updateSpec(spec: ServerSpec): void {
    this.spec = spec;
    this.lifecycle.updateOptions({ restart: spec.restart, stopTimeout: spec.stopTimeout });
  }

  /** reload: a new process definition; a running component restarts with it, a stopped one stays stopped */
  replaceSpec(spec: ServerSpec): void {
    this.updateSpec(spec);
    if (this.state === 'fatal') this.start();
    else if (this.state !== 'stopped') this.restart();
  }

  start(byOperator = false): void {
    this.apply(() => this.lifecycle.start(byOperator));
  }

  stop(byOperator = false): void {
    this.apply(() => this.lifecycle.stop(byOperator));
  }

  restart(): void {
    this.apply(() => this.lifecycle.restart());
  }

  stopForRestart(): void {
    this.apply(() => this.lifecycle.stopForRestart());
  }

  /** SIGKILL the whole group now (second signal to the supervisor, or shutdownTimeout). */
  killNow(): void {
    if (this.pgid !== undefined) signalGroup(this.pgid, 'SIGKILL');
  }

  /** pass a signal on to the component's process group (SIGUSR1/2, tini mode) */
  signal(signal: NodeJS.Signals): void {
    if (this.lifecycle.pid !== undefined) signalGroup(this.lifecycle.pid, signal);
  }

  status(): ComponentStatus {
    const l = this.lifecycle;
    return {
      id: this.spec.id,
      description: this.spec.description,
      critical: this.spec.critical,
      startPriority: this.spec.startPriority,
      state: l.state,
      ...(l.pid !== undefined ? { pid: l.pid } : {}),
      ready: l.ready && l.state === 'running',
      ...(l.notReadyReason !== undefined && !l.ready ? { notReadyReason: l.notReadyReason } : {}),
      ...(l.startedAt !== undefined ? { startedAt: l.startedAt } : {}),
      restarts: l.restarts,
      exits: { ...l.exits },
      ...(l.lastExit ? { lastExit: { ...l.lastExit } } : {}),
      stoppedByOperator: l.stoppedByOperator,
      ...(l.restartPending ? { restartPending: true as const } : {}),
      ...(l.startError ? { startError: { ...l.startError } } : {}),
    };
  }

  /** Runs one lifecycle event and carries out its effects, reporting any state change. */
  private apply(event: () => Effect[]): void {
    const before = this.lifecycle.state;
    const effects = event();
    for (const effect of effects) this.execute(effect);
    if (this.lifecycle.state !== before) this.deps.onStateChange(this, before);
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
          signalGroup(this.lifecycle.pid, this.spec.stopSignal);
        }
        clearTimeout(this.stopTimer);
        this.stopTimer = setTimeout(() => {
          this.deps.logger.warn(
            { component: this.id, stopTimeout: effect.seconds },
            `component did not stop within ${effect.seconds}s: SIGKILL`,
          );
          this.apply(() => this.lifecycle.stopTimedOut());
        }, effect.seconds * 1000);
        break;
      case 'kill-group':
        if (this.pgid !== undefined) signalGroup(this.pgid, 'SIGKILL');
        break;
      case 'cancel-stop-timer':
        clearTimeout(this.stopTimer);
        this.stopTimer = undefined;
        break;
      case 'watch-readiness':
        this.watchReadiness();
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
        clearTimeout(this.backoffTimer);
        this.backoffTimer = undefined;
        break;
    }
  }

  private spawn(): void {
    const spec = this.spec;
    this.generation += 1;
    // <user>: setpriv with the user's groups, HOME, USER and LOGNAME (src/process/users.ts)
    const planned = planSpawn(spec, spec.user);
    if (!planned.ok) {
      this.failSpawn(planned.message, planned.code);
      return;
    }
    const { plan } = planned;
    if (plan.warning && firstTime(plan.warning)) this.deps.logger.warn(plan.warning);
    const fdReadiness = spec.readiness?.type === 'fd' ? spec.readiness.fd : undefined;
    const captured = spec.output !== 'inherit';
    type Stdio = 'pipe' | 'ignore' | 'inherit';
    const stdio: [Stdio, Stdio | number, Stdio | number, ...Stdio[]] = [
      this.deps.inheritStdin ? 'inherit' : 'ignore',
      captured ? 'pipe' : childStdio(1),
      captured ? 'pipe' : childStdio(2),
    ];
    if (fdReadiness !== undefined) {
      while (stdio.length < fdReadiness) stdio.push('ignore');
      stdio[fdReadiness] = 'pipe';
    }
    let child: ChildProcess;
    try {
      child = spawnChild(plan.file, plan.args, {
        cwd: spec.workingDirectory,
        env: plan.env,
        extendEnv: true,
        // its own process group (and session), so one signal reaches all of its processes
        detached: true,
        // execa's types allow only descriptors 3-9; at run time any open descriptor is passed on
        stdio: stdio as unknown as ['ignore', 'pipe', 'pipe'],
        buffer: false,
        reject: false,
        // we stop components ourselves; execa's exit hooks would fight our signal handling
        cleanup: false,
        encoding: 'buffer',
        ...(plan.uid !== undefined ? { uid: plan.uid, gid: plan.gid } : {}),
      }) as unknown as ChildProcess;
    } catch (error) {
      releaseChildStdio(stdio);
      const code = (error as NodeJS.ErrnoException).code;
      this.failSpawn(error instanceof Error ? error.message : String(error), code);
      return;
    }
    releaseChildStdio(stdio);
    const pid = child.pid;
    if (pid === undefined) {
      // execa reports ENOENT/EACCES asynchronously through its result
      (child as unknown as Promise<{ originalMessage?: string; message: string; code?: string }>).then(
        (result) => this.failSpawn(result.originalMessage || result.message, result.code),
        (error: unknown) => this.failSpawn(String(error)),
      );
      return;
    }
    // the result promise would otherwise report a rejection nobody awaits
    (child as unknown as Promise<unknown>).catch(() => {});
    this.pgid = pid;
    if (captured) {
      if (child.stdout)
        void this.deps.attachOutput(child.stdout, {
          component: spec.id,
          stream: 'stdout',
          mode: spec.output as 'json' | 'raw',
        });
      if (child.stderr)
        void this.deps.attachOutput(child.stderr, {
          component: spec.id,
          stream: 'stderr',
          mode: spec.output as 'json' | 'raw',
        });
    }
    child.once('exit', (code, signal) => void this.onProcessExit(pid, code, signal));
    this.deps.logger.info(
      // as written: the expanded ${VAR}s may be secrets (design.md §7)
      { component: spec.id, pid, command: spec.shown.command, args: spec.shown.args },
      'component started',
    );
    this.apply(() => this.lifecycle.spawned(pid, Date.now()));
    if (fdReadiness !== undefined && this.deps.watchReadyFd) {
      const stream = child.stdio[fdReadiness];
      const generation = this.generation;
      if (stream && 'read' in stream) {
        this.deps.watchReadyFd(stream as Readable, () => {
          if (generation === this.generation) this.apply(() => this.lifecycle.becameReady());
        });
      }
    }
  }

  private failSpawn(reason: string, code?: string): void {
    this.deps.logger.error(
      { component: this.id, command: this.spec.command, reason },
      `cannot start component: ${reason}`,
    );
    this.apply(() => this.lifecycle.spawnFailed(reason, code));
  }

  private async onProcessExit(
    pid: number,
    code: number | null,
    signal: NodeJS.Signals | null,
  ): Promise<void> {
    const exit: ProcessExit = {
      code,
      signal,
      exitCode: signal ? 128 + signalNumber(signal) : (code ?? 0),
    };
    // Leftovers of the group die with the main process, before anything else happens, so a
    // restart never meets a stale worker holding the port.
    const grace = this.deps.leftoverGraceMs;
    if (grace !== undefined && signalGroup(pid, 'SIGTERM') && !(await waitGroupGone(pid, grace))) {
      this.deps.logger.warn(
        { component: this.id, graceMs: grace },
        'leftover processes ignored SIGTERM: SIGKILL',
      );
    }
    if (signalGroup(pid, 'SIGKILL')) await waitGroupGone(pid, LEFTOVER_GRACE_MS);
    const level = this.lifecycle.state === 'stopping' ? 'info' : 'warn';
    this.deps.logger[level](
      { component: this.id, pid, code, signal },
      `component exited with ${describeExit(exit)}`,
    );
    this.apply(() => this.lifecycle.exited(exit, Date.now()));
  }

  private scheduleRestart(delayMs: number): void {
    if (!this.deps.allowRestart(this)) return;
    if (delayMs <= 0) {
      this.apply(() => this.lifecycle.backoffElapsed());
      return;
    }
    this.deps.logger.info({ component: this.id, delayMs }, `restarting in ${(delayMs / 1000).toFixed(2)}s`);
    clearTimeout(this.backoffTimer);
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = undefined;
      this.apply(() => this.lifecycle.backoffElapsed());
    }, delayMs);
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
    this.readinessTimer = setTimeout(() => {
      if (generation === this.generation) this.apply(() => this.lifecycle.becameReady());
    }, this.spec.startDelay * 1000);
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
        this.apply(() => this.lifecycle.unhealthy());
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

  private stopChecks(): void {
    this.generation += 1;
    clearTimeout(this.readinessTimer);
    this.readinessTimer = undefined;
    for (const probe of this.probes) probe.stop();
    this.probes = [];
  }
}
