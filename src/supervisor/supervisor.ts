// The supervisor: starts priority groups in order, applies restart intensity, stops everything in
// reverse order, and offers the status view and operator levers the edges (HTTP, control socket,
// metrics) use. Per-component behaviour lives in component.ts and lifecycle.ts.
import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { CheckOutcome, StartProbe } from '../health/check.js';
import type { ProcessHost, Timer } from '../process/host.js';
import { describeSignal, parseSignalArgument } from '../process/signals.js';
import type { Registry, RegistryConfig, ServerSpec } from '../registry/model.js';
import { type AttachOutput, Component } from './component.js';
import { AFTER_KILL_GRACE_MS } from './deadline.js';
import { describeWait, type ServerProgress, StartPlan } from './dependencies.js';
import { RestartIntensity } from './intensity.js';
import type { RestartVerdict } from './lifecycle.js';
import { startOrder, stopOrder } from './ordering.js';
import { diffServers } from './reload.js';
import type {
  ComponentState,
  ComponentStatus,
  ControlResult,
  ReloadChanges,
  SupervisorControl,
  SupervisorEventMap,
  SupervisorPhase,
} from './status.js';

export interface SupervisorOptions {
  /** the operating system as the core sees it: processes, groups, timers, the clock */
  host: ProcessHost;
  registry: Registry;
  logger: Logger;
  attachOutput: AttachOutput;
  startProbe?: StartProbe;
  watchReadyFd?: (stream: Readable, onReady: () => void) => void;
  /** re-reads the registry for reload(); throws the registry's own error when it is invalid */
  loadRegistry?: () => Registry;
  /** tini mode: the child also gets the supervisor's stdin */
  inheritStdin?: boolean;
  /** tini mode with stdin our controlling terminal: see ComponentDeps.terminal */
  terminal?: { takeForeground: boolean };
  /** tini mode: see ComponentDeps.exitIsResult */
  exitIsResult?: boolean;
  /** tini mode: see ComponentDeps.leftoverGraceMs */
  leftoverGraceMs?: number;
  /**
   * reload: applies the new config's listeners (<tcpport>, <host>, <temp>); says what moved and
   * what could not (then the old listener stays). Without it, a change there is only logged.
   */
  reconfigure?: (next: RegistryConfig) => Promise<{ applied: string[]; failed: string[] }>;
  /** told of every component process group that comes and goes (the parent-death watchdog) */
  groupWatch?: { started(pgid: number): void; gone(pgid: number): void };
  /** what `<limits memory>` is sampled from; without it, limits are not watched */
  memory?: GroupMemory;
}

/**
 * The resident memory of the components' process groups: the one /proc reading that metrics, the
 * page, the API and the stats log share (src/metrics/resources.ts's ResourceReader is one), so
 * sampling the limits adds no pass of its own. Asked with every component's status, as every
 * consumer asks, so one reading covers them all.
 */
export interface GroupMemory {
  /** a reading at most `maxAgeMs` old */
  read(
    statuses: readonly ComponentStatus[],
    maxAgeMs: number,
  ): ReadonlyMap<string, { readonly rssBytes: number }>;
}

/**
 * How old a memory sample's reading may be: a scrape's reading of a moment ago is reused (and the
 * components sampled at the same tick share one), but not one from up to a second ago, which
 * would delay a restart by that much.
 */
const MEMORY_READING_MAX_AGE_MS = 250;

/** why run() returned: decides the exit code */
export type Outcome = { kind: 'stopped' } | { kind: 'gave-up' };

export class Supervisor extends EventEmitter<SupervisorEventMap> implements SupervisorControl {
  private registry: Registry;
  private readonly logger: Logger;
  private readonly host: ProcessHost;
  private readonly byId = new Map<string, Component>();
  private intensity: RestartIntensity;
  private currentPhase: SupervisorPhase = 'starting';
  /** re-evaluated on every state change: how start ordering and shutdown wait */
  private readonly waiters = new Set<() => void>();
  private shutdownPromise: Promise<void> | undefined;
  /** while draining before a stop (shutdownDelay): ends the delay now */
  private endDrain: (() => void) | undefined;
  /** components queued for their turn in the ordered start (see orderedStart) */
  private readonly waitingForTurn = new Set<Component>();
  /** started by the ordered start under way, with how many runs they had at their turn */
  private readonly startedInTurn = new Map<Component, number>();
  /** the ordered start under way, if any */
  private sequence: Promise<void> | undefined;
  /** > 0 while a restart of everything is stopping components: no group starts meanwhile */
  private startsHeld = 0;
  /** tini mode after a forwarded TERM/INT: whatever exits now stays down */
  private restartsDisabled = false;
  private resolveOutcome!: (outcome: Outcome) => void;
  /** settles when the supervisor has stopped everything, for whatever reason */
  readonly outcome: Promise<Outcome>;

  constructor(private readonly options: SupervisorOptions) {
    super();
    this.registry = options.registry;
    this.logger = options.logger;
    this.host = options.host;
    const { max, period } = options.registry.config.restartIntensity;
    this.intensity = new RestartIntensity(max, period);
    this.outcome = new Promise((resolve) => {
      this.resolveOutcome = resolve;
    });
    for (const spec of options.registry.servers) this.byId.set(spec.id, this.createComponent(spec));
  }

  get phase(): SupervisorPhase {
    return this.currentPhase;
  }

  components(): ComponentStatus[] {
    return this.list().map((c) => c.status());
  }

  component(id: string): ComponentStatus | undefined {
    return this.byId.get(id)?.status();
  }

  /** Starts the priority groups in ascending order, each once the previous one is ready. */
  async startAll(): Promise<void> {
    this.logger.info(
      { components: this.registry.servers.length, registry: this.registry.file || undefined },
      'supervisor starting',
    );
    await this.orderedStart(this.list());
    if (this.currentPhase === 'starting') {
      this.currentPhase = 'running';
      this.logger.info('all priority groups started');
    }
  }

  /** Everything down in shutdown order, then up again in start order (like a stop and a start). */
  private async restartAllInOrder(): Promise<void> {
    this.logger.info('operator: restarting every component in order');
    // no group starts while we stop: an ordered start under way (start-up, a reload) resumes after
    this.startsHeld += 1;
    this.notifyWaiters();
    // what an operator stopped stays out of it, until an explicit start
    const all = this.list().filter((c) => !c.lifecycle.stoppedByOperator);
    for (const component of all) this.waitingForTurn.delete(component);
    try {
      for (const group of stopOrder(all)) {
        for (const component of group.members) component.stopForRestart();
        await this.waitFor(() => this.shuttingDown() || group.members.every((c) => c.settled));
      }
    } finally {
      this.startsHeld -= 1;
      this.notifyWaiters();
    }
    // what a reload removed meanwhile stays gone; what it added is already waiting for its turn
    if (!this.shuttingDown()) await this.orderedStart(all.filter((c) => this.isCurrent(c)));
  }

  private shuttingDown(): boolean {
    return (
      this.currentPhase === 'stopping' || this.currentPhase === 'gave-up' || this.currentPhase === 'stopped'
    );
  }

  /** true while `component` is the one registered under its id (not removed or replaced by a reload) */
  private isCurrent(component: Component): boolean {
    return this.byId.get(component.id) === component;
  }

  /**
   * Queues `components` for their turn and runs the one ordered start (start-up, restart of
   * everything and reloads all share it, so their orders cannot cross). Resolves when nothing is
   * left waiting for its turn.
   */
  private orderedStart(components: Component[]): Promise<void> {
    for (const component of components) {
      this.waitingForTurn.add(component);
      this.startedInTurn.delete(component);
    }
    if (this.sequence) {
      // the start under way takes them in: they show what they wait for now, or start if they may
      if (components.length > 0) {
        this.showWaits(this.startPlan());
        this.notifyWaiters();
      }
      return this.sequence;
    }
    // set before the first step runs: a state change during it must not begin a second sequence
    let done!: () => void;
    this.sequence = new Promise<void>((resolve) => {
      done = resolve;
    });
    const sequence = this.sequence;
    void this.startInTurn().finally(() => {
      this.sequence = undefined;
      this.startedInTurn.clear();
      done();
    });
    return sequence;
  }

  /**
   * Starts whatever the start plan (dependencies.ts) lets go: a server's priority turn has come
   * and its dependencies hold; the others show why they wait. Decided at each change, not in
   * advance: what a reload removed, an operator stopped or a restart of everything took back by
   * then is left out. Resolves when nothing queued can start by itself any more and what it
   * started is ready or settled; a server held back by a dependency that will not get there
   * (fatal, stopped) stays queued, and starts when that changes (see onStateChange).
   */
  private async startInTurn(): Promise<void> {
    for (;;) {
      // no await unless held: the first group starts before startAll() returns, so a signal that
      // came early (tini mode) finds its child already on its way
      if (this.startsHeld > 0) await this.waitFor(() => this.shuttingDown() || this.startsHeld === 0);
      if (this.shuttingDown()) {
        this.waitingForTurn.clear();
        return;
      }
      for (const component of this.waitingForTurn)
        if (!this.isCurrent(component) || component.lifecycle.stoppedByOperator)
          this.waitingForTurn.delete(component);
      const plan = this.startPlan();
      const startable = plan.startable().flatMap((id) => {
        const component = this.byId.get(id);
        return component ? [component] : [];
      });
      if (startable.length > 0) {
        for (const { priority, members } of startOrder(startable)) {
          // an earlier group that cannot come up (fatal, exited for good) does not hold this one back
          const notReady = [...this.startedInTurn.keys()].filter(
            (c) => c.spec.startPriority < priority && this.isCurrent(c) && !c.status().ready,
          );
          if (notReady.length > 0)
            this.logger.warn(
              { priority: notReady[0]?.spec.startPriority, components: notReady.map((c) => c.id) },
              'priority group not fully ready: going on',
            );
          this.logger.info({ priority, components: members.map((c) => c.id) }, 'starting priority group');
          for (const component of members) {
            this.waitingForTurn.delete(component);
            this.startedInTurn.set(component, component.lifecycle.runs);
            component.start();
          }
        }
        continue;
      }
      this.showWaits(plan);
      if (this.sequenceDone(plan)) return;
      await this.waitFor(() => {
        if (this.shuttingDown() || this.startsHeld > 0) return true;
        const now = this.startPlan();
        return now.startable().length > 0 || this.sequenceDone(now);
      });
    }
  }

  /** nothing queued can start by itself, and what this start started is ready or settled */
  private sequenceDone(plan: StartPlan): boolean {
    return (
      [...this.waitingForTurn].every((c) => plan.held(c.id)) &&
      [...this.startedInTurn.keys()].every((c) => c.status().ready || c.settled || !this.isCurrent(c))
    );
  }

  /** The start plan of this moment, over every current server. */
  private startPlan(): StartPlan {
    const components = this.list();
    return new StartPlan(
      components.map((c) => c.spec),
      (id) => {
        const component = this.byId.get(id);
        return component ? this.progressOf(component) : undefined;
      },
    );
  }

  /** What the plan needs to know of one component (dependencies.ts ServerProgress). */
  private progressOf(component: Component): ServerProgress {
    const l = component.lifecycle;
    const status = component.status();
    const runsAtTurn = this.startedInTurn.get(component);
    const phase = this.waitingForTurn.has(component)
      ? 'queued'
      : runsAtTurn !== undefined
        ? 'started'
        : 'outside';
    // in this start, only what happened since its turn counts (a restart of everything runs a
    // oneshot again: its exit of before says nothing)
    const since = phase === 'started' ? (runsAtTurn ?? 0) : phase === 'queued' ? l.runs : 0;
    const exitedSince = l.lastExit !== undefined && l.lastExitRun > since;
    return {
      phase,
      state: status.state,
      spawned: l.runs > since && (phase === 'started' || l.pid !== undefined),
      ready: status.ready,
      lastExitCode: exitedSince && l.lastExit?.reason !== 'stopped' ? l.lastExit?.code : undefined,
      settled: component.settled && !l.waiting,
    };
  }

  /** A queued server whose dependencies do not hold is `starting`, saying what it waits for. */
  private showWaits(plan: StartPlan): void {
    for (const component of this.waitingForTurn) {
      const reason = plan.reason(component.id);
      if (reason?.type === 'dependencies' || (reason && component.lifecycle.waiting)) {
        const text = describeWait(reason);
        if (text !== undefined && text !== component.lifecycle.notReadyReason) component.hold(text);
      }
    }
  }

  /**
   * Stops every component, groups in descending priority, bounded by shutdownTimeout (then
   * SIGKILL for all). Idempotent: later calls share the first one.
   */
  shutdown(reason: string, gaveUp = false): Promise<void> {
    if (this.shutdownPromise) return this.shutdownPromise;
    this.currentPhase = gaveUp ? 'gave-up' : 'stopping';
    this.notifyWaiters();
    this.shutdownPromise = this.stopEverything(reason, gaveUp);
    return this.shutdownPromise;
  }

  private async stopEverything(reason: string, gaveUp: boolean): Promise<void> {
    await this.stopAll(reason);
    if (!gaveUp) this.currentPhase = 'stopped';
    this.resolveOutcome(gaveUp ? { kind: 'gave-up' } : { kind: 'stopped' });
  }

  /**
   * Drain before stop (design.md §3 rev. 2): the first SIGTERM/SIGINT. The phase turns `stopping`
   * at once (so /readyz answers 503 and load balancers take the pod out), the components keep
   * running for `<shutdownDelay>` seconds, then they stop as in shutdown(), whose shutdownTimeout
   * counts from the end of the delay. skipDrain() (a second signal) cuts the delay short.
   */
  drainAndShutdown(reason: string): Promise<void> {
    if (this.shutdownPromise) return this.shutdownPromise;
    const delay = this.registry.config.shutdownDelay;
    // nothing runs that traffic could reach (an early signal, or all stopped): no point waiting
    const anyRunning = this.list().some((c) => c.status().pid !== undefined);
    if (delay <= 0 || !anyRunning) return this.shutdown(reason);
    this.currentPhase = 'stopping';
    this.notifyWaiters();
    this.logger.info(
      { reason, shutdownDelay: delay },
      `draining: /readyz answers 503 from now on, the components stop in ${delay}s`,
    );
    const drained = new Promise<void>((resolve) => {
      const timer = this.host.clock.after(delay * 1000, () => {
        this.endDrain = undefined;
        resolve();
      });
      this.endDrain = () => {
        timer.cancel();
        this.endDrain = undefined;
        resolve();
      };
    });
    this.shutdownPromise = drained.then(() => this.stopEverything(reason, false));
    return this.shutdownPromise;
  }

  /** A second signal during the drain: stop now, in order. false when no drain is under way. */
  skipDrain(): boolean {
    if (!this.endDrain) return false;
    this.logger.info('second signal during the shutdown delay: stopping the components now');
    this.endDrain();
    return true;
  }

  /** Second signal: no more asking. SIGKILL every group at once. */
  killAll(): void {
    for (const component of this.byId.values()) component.killNow();
  }

  /** From now on a component that exits is not restarted (tini mode, after a forwarded TERM/INT). */
  disableRestarts(): void {
    this.restartsDisabled = true;
    // a restart already waiting out its backoff is called off too
    for (const component of this.byId.values()) if (component.state === 'backoff') component.stop();
  }

  /** SIGUSR1/SIGUSR2 (and everything in tini mode) go on to every component's process group. */
  forwardSignal(signal: NodeJS.Signals): void {
    for (const component of this.byId.values()) component.signal(signal);
  }

  // SupervisorControl ---------------------------------------------------------------------------

  async start(id: string): Promise<ControlResult> {
    // an operator's start does not wait for the dependencies: it is an order
    return this.control(
      id,
      (c) => {
        this.waitingForTurn.delete(c);
        c.start(true);
      },
      'started',
    );
  }

  async stop(id: string): Promise<ControlResult> {
    return this.control(id, (c) => c.stop(true), 'stopped');
  }

  async restart(id?: string): Promise<ControlResult> {
    if (id === undefined) {
      if (this.shuttingDown()) return { ok: false, status: 409, message: 'the supervisor is shutting down' };
      void this.restartAllInOrder();
      return {
        ok: true,
        message:
          'restarting every component: stopping in descending priority, then starting in ascending priority',
      };
    }
    return this.control(
      id,
      (c) => {
        this.waitingForTurn.delete(c);
        c.restart();
      },
      'restarting',
    );
  }

  /** An operator's signal (design.md §1 `signal`) to one component's process group. */
  async signal(id: string, text: string): Promise<ControlResult> {
    const signal = parseSignalArgument(text);
    if (!signal)
      return {
        ok: false,
        status: 422,
        message: `unknown signal "${text}": expected a name such as HUP, SIGUSR1 or TERM, or a number`,
      };
    const component = this.byId.get(id);
    if (!component) return { ok: false, status: 404, message: `no component "${id}"` };
    const pid = component.status().pid;
    if (pid === undefined || !component.sendSignal(signal.number))
      return {
        ok: false,
        status: 409,
        message: `${id} has no process to signal (it is ${component.state})`,
      };
    const name = describeSignal(signal);
    this.logger.info({ component: id, pid, signal: name }, `operator: ${name} sent`);
    return { ok: true, message: `${name} sent to ${id} (process group ${pid})` };
  }

  /**
   * Re-reads the registry and applies it as a difference: removed servers stop, new ones start
   * in priority order, changed ones restart, unchanged ones are not touched. A registry that
   * does not load changes nothing.
   */
  async reload(): Promise<ControlResult> {
    if (!this.options.loadRegistry)
      return { ok: false, status: 422, message: 'there is no registry file to reload' };
    if (this.shuttingDown()) return { ok: false, status: 409, message: 'the supervisor is shutting down' };
    let next: Registry;
    try {
      next = this.options.loadRegistry();
    } catch (error) {
      // the registry's own error says which file, line and element
      const message = error instanceof Error ? error.message : String(error);
      this.logger.error({ reason: message }, 'reload failed: the running registry stays in place');
      this.emit('reload', { result: 'failure', reason: message });
      return { ok: false, status: 422, message: `reload failed, nothing changed:\n${message}` };
    }
    const diff = diffServers(this.registry.servers, next.servers);
    // the listeners move to a new <tcpport>, <host> or <temp>; one that cannot stays where it is
    const listeners = this.options.reconfigure
      ? await this.options.reconfigure(next.config)
      : { applied: [], failed: this.unmovedListeners(next.config) };
    const { max, period } = next.config.restartIntensity;
    const old = this.registry.config.restartIntensity;
    if (max !== old.max || period !== old.period) this.intensity = new RestartIntensity(max, period);
    this.registry = next;

    for (const spec of diff.updated) this.byId.get(spec.id)?.updateSpec(spec);
    for (const spec of diff.changed) this.byId.get(spec.id)?.replaceSpec(spec);
    const removed = diff.removed.flatMap((id) => {
      const component = this.byId.get(id);
      return component ? [component] : [];
    });
    for (const component of removed) component.stop();
    const added = diff.added.map((spec) => {
      const component = this.createComponent(spec);
      this.byId.set(spec.id, component);
      return component;
    });
    void this.waitFor(() => removed.every((c) => c.settled)).then(() => {
      for (const component of removed)
        if (this.byId.get(component.id) === component) {
          this.byId.delete(component.id);
          this.emit('removed', component.id);
        }
      this.notifyWaiters();
    });
    for (const component of removed) this.waitingForTurn.delete(component);
    // added servers wait for their turn like everything else (after start-up: in their own order)
    void this.orderedStart(added);

    const summary: ReloadChanges = {
      added: diff.added.map((s) => s.id),
      removed: diff.removed,
      restarted: diff.changed.map((s) => s.id),
      updated: diff.updated.map((s) => s.id),
      unchanged: diff.unchanged,
    };
    this.logger.info(summary, 'registry reloaded');
    this.emit('reload', { result: 'success', changes: summary });
    return {
      ok: true,
      message: describeReload(next.file, summary, listeners),
      changes: summary,
      ...(listeners.failed.length > 0 ? { warnings: listeners.failed } : {}),
    };
  }

  /** without a way to move the listeners (reconfigure), a new place for them is only logged */
  private unmovedListeners(next: RegistryConfig): string[] {
    const changed = (['tcpport', 'host', 'temp'] as const).filter(
      (key) => next[key] !== this.registry.config[key],
    );
    if (changed.length === 0) return [];
    this.logger.warn({ settings: changed }, 'reload: the listeners cannot move here: a restart applies them');
    return changed.map((key) => `the new <${key}> takes effect only when the supervisor restarts`);
  }

  private async control(id: string, act: (c: Component) => void, verb: string): Promise<ControlResult> {
    const component = this.byId.get(id);
    if (!component) return { ok: false, status: 404, message: `no component "${id}"` };
    if (this.shuttingDown()) return { ok: false, status: 409, message: 'the supervisor is shutting down' };
    act(component);
    this.logger.info({ component: id }, `operator: ${verb}`);
    return { ok: true, message: `${id} ${verb}` };
  }

  private async stopAll(reason: string): Promise<void> {
    const { shutdownTimeout } = this.registry.config;
    this.logger.info({ reason, shutdownTimeout }, 'shutting down');
    let killed = false;
    let giveUpWaiting: () => void = () => {};
    const abandoned = new Promise<void>((resolve) => {
      giveUpWaiting = resolve;
    });
    let afterKill: Timer | undefined;
    const deadline = this.host.clock.after(shutdownTimeout * 1000, () => {
      this.logger.warn(
        { shutdownTimeout },
        `shutdown took longer than ${shutdownTimeout}s: SIGKILL to every component`,
      );
      killed = true;
      this.killAll();
      // a process in uninterruptible sleep can outlive SIGKILL: we do not wait for it forever
      afterKill = this.host.clock.after(AFTER_KILL_GRACE_MS, giveUpWaiting);
    });
    try {
      for (const group of stopOrder(this.list())) {
        // a server held back by its dependencies has no process, but must leave `starting`
        // (and a completed scheduled oneshot has a next run to call off)
        const running = group.members.filter((c) => !c.settled || c.lifecycle.waiting || c.scheduled);
        if (running.length === 0) continue;
        this.logger.info(
          { priority: group.priority, components: running.map((c) => c.id) },
          'stopping priority group',
        );
        for (const component of running) component.stop();
        await Promise.race([this.waitFor(() => running.every((c) => c.settled)), abandoned]);
        if (killed && !running.every((c) => c.settled)) break;
      }
    } finally {
      deadline.cancel();
      afterKill?.cancel();
    }
    const left = this.list().filter((c) => !c.settled);
    if (left.length > 0) {
      this.logger.error(
        { components: left.map((c) => ({ id: c.id, pid: c.status().pid, state: c.state })) },
        `still not gone ${AFTER_KILL_GRACE_MS / 1000}s after SIGKILL (uninterruptible sleep?): leaving them`,
      );
      return;
    }
    this.logger.info('every component stopped');
  }

  private list(): Component[] {
    return [...this.byId.values()];
  }

  private createComponent(spec: ServerSpec): Component {
    return new Component(spec, {
      host: this.host,
      logger: this.logger,
      attachOutput: this.options.attachOutput,
      ...(this.options.startProbe ? { startProbe: this.options.startProbe } : {}),
      ...(this.options.watchReadyFd ? { watchReadyFd: this.options.watchReadyFd } : {}),
      ...(this.options.inheritStdin ? { inheritStdin: true } : {}),
      ...(this.options.exitIsResult ? { exitIsResult: true } : {}),
      ...(this.options.terminal ? { terminal: this.options.terminal } : {}),
      ...(this.options.leftoverGraceMs !== undefined
        ? { leftoverGraceMs: this.options.leftoverGraceMs }
        : {}),
      ...(this.options.groupWatch
        ? {
            onGroupStarted: (pgid: number) => this.options.groupWatch?.started(pgid),
            onGroupGone: (pgid: number) => this.options.groupWatch?.gone(pgid),
          }
        : {}),
      ...(this.options.memory
        ? {
            residentMemory: (component: Component) =>
              this.options.memory?.read(this.components(), MEMORY_READING_MAX_AGE_MS).get(component.id)
                ?.rssBytes,
          }
        : {}),
      restartVerdict: (component) => this.restartVerdict(component),
      giveUp: (component, reason) => {
        this.logger.error({ component: component.id, reason }, `giving up: ${reason}`);
        void this.shutdown(reason, true);
      },
      onStateChange: (component, previous) => this.onStateChange(component, previous),
      onProgress: () => this.notifyWaiters(),
      onCheck: (component, kind, outcome: CheckOutcome) =>
        this.emit('check', component.id, kind, outcome.ok, outcome.durationSeconds),
    });
  }

  /**
   * May `component` be restarted after its exit? A question only: the component stops by itself
   * on a no, and tells giveUp() once that change is reported (so nothing re-enters it).
   */
  private restartVerdict(component: Component): RestartVerdict {
    if (this.restartsDisabled || this.shuttingDown()) return 'disabled';
    if (this.intensity.allow(this.host.clock.now())) return 'allowed';
    const { max, period } = this.registry.config.restartIntensity;
    this.logger.error(
      { component: component.id, max, period },
      `restart intensity exceeded (more than ${max} restarts in ${period}s): giving up`,
    );
    return 'exceeded';
  }

  private onStateChange(component: Component, previous: ComponentState): void {
    const status = component.status();
    const reason = status.changes.at(-1)?.reason;
    this.logger.debug({ component: component.id, from: previous, to: status.state, reason }, 'state change');
    if (previous === 'starting' && status.state === 'running')
      this.logger.info({ component: component.id, pid: status.pid }, 'component ready');
    this.emit('state', status, previous);
    this.notifyWaiters();
    // servers held back by a dependency that has now moved (an operator started it, it recovered)
    if (!this.sequence && this.waitingForTurn.size > 0 && !this.shuttingDown()) void this.orderedStart([]);
  }

  private waitFor(condition: () => boolean): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (!condition()) return;
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
    });
  }

  private notifyWaiters(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** the reload's answer to the operator: which servers went which way, by id */
function describeReload(
  file: string,
  changes: ReloadChanges,
  listeners: { applied: readonly string[]; failed: readonly string[] },
): string {
  const groups: Array<[string, string[]]> = [
    ['added (starting)', changes.added],
    ['removed (stopping)', changes.removed],
    ['restarted (process changed)', changes.restarted],
    ['updated in place (same process)', changes.updated],
    ['unchanged', changes.unchanged],
  ];
  const lines = groups
    .filter(([, ids]) => ids.length > 0)
    .map(([what, ids]) => `  ${what}: ${ids.join(', ')}`);
  const changed =
    changes.added.length + changes.removed.length + changes.restarted.length + changes.updated.length;
  const head = changed === 0 ? `reloaded ${file}: no server changed` : `reloaded ${file}:`;
  const notes = [
    ...listeners.applied.map((what) => `  ${what}`),
    ...listeners.failed.map((why) => `  not applied: ${why}`),
  ];
  return [head, ...lines, ...notes].join('\n');
}
