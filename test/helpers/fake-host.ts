// A ProcessHost in virtual time, without processes (supervisord's DummyOptions): the supervisor
// and its components run against it as they do against the operating system, and a test decides
// when each fake process is ready, exits or ignores its stop signal, and moves the clock.
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import type { RunningProbe, StartProbe } from '../../src/health/check.js';
import { type StateEvent, StateEvents } from '../../src/http/events.js';
import {
  type Clock,
  type ExitStatus,
  type Launched,
  type LaunchSpec,
  type ProcessHost,
  SpawnError,
  type Timer,
} from '../../src/process/host.js';
import type { Registry, RegistryConfig, ServerSpec } from '../../src/registry/model.js';
import type { ComponentStatus } from '../../src/supervisor/status.js';
import { type GroupMemory, Supervisor, type SupervisorOptions } from '../../src/supervisor/supervisor.js';

interface PendingTimer {
  at: number;
  seq: number;
  callback: () => void;
  cancelled: boolean;
}

/** Lets every promise continuation that is ready run (the fake host resolves nothing by itself). */
export async function settle(): Promise<void> {
  // one macrotask turn drains the microtasks queued so far; continuations can queue more
  for (let i = 0; i < 3; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

export class FakeClock implements Clock {
  private time: number;
  private seq = 0;
  private timers: PendingTimer[] = [];

  constructor(start = 1_700_000_000_000) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  after(ms: number, callback: () => void): Timer {
    const timer: PendingTimer = {
      at: this.time + Math.max(0, ms),
      seq: this.seq++,
      callback,
      cancelled: false,
    };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  soon(callback: () => void): Timer {
    return this.after(0, callback);
  }

  /** timers not yet fired nor cancelled */
  get pending(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** Moves time on by `ms`, firing every timer due on the way in order, settling after each. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    await settle();
    for (;;) {
      this.timers = this.timers.filter((t) => !t.cancelled);
      const next = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      this.time = Math.max(this.time, next.at);
      next.cancelled = true;
      next.callback();
      await settle();
    }
    this.time = end;
    await settle();
  }
}

/** What a fake process does when its group gets a signal. */
export type SignalReaction = 'exit' | 'ignore';

export class FakeProcess {
  readonly signals: Array<NodeJS.Signals | number> = [];
  /** processes of its group besides the main one that outlive it until SIGKILL */
  leftovers = 0;
  /** how it reacts to a catchable stop signal (SIGTERM, SIGINT, SIGQUIT, SIGHUP...) */
  onStopSignal: SignalReaction = 'exit';
  /** the resident memory of its group, as the fake /proc reading gives it */
  rssBytes = 0;
  private status: ExitStatus | undefined;
  private resolveExit!: (status: ExitStatus) => void;
  readonly exited: Promise<ExitStatus>;
  private readonly gone = new Set<() => void>();

  constructor(
    readonly pid: number,
    readonly spec: LaunchSpec,
    readonly id: string,
  ) {
    this.exited = new Promise((resolve) => {
      this.resolveExit = resolve;
    });
  }

  get running(): boolean {
    return this.status === undefined;
  }

  get groupAlive(): boolean {
    return this.running || this.leftovers > 0;
  }

  /** the main process ends by itself */
  exit(code: number): void {
    this.end({ code, signal: null });
  }

  kill(signal: NodeJS.Signals): void {
    this.end({ code: null, signal });
  }

  deliver(signal: NodeJS.Signals | number): void {
    this.signals.push(signal);
    if (signal === 0 || signal === 'SIGCONT' || signal === 'SIGUSR1' || signal === 'SIGUSR2') return;
    if (signal === 'SIGKILL') {
      this.leftovers = 0;
      if (this.running) this.kill('SIGKILL');
      this.notifyIfGone();
      return;
    }
    if (typeof signal === 'string' && this.running && this.onStopSignal === 'exit') this.kill(signal);
  }

  whenGroupGone(callback: () => void): () => void {
    this.gone.add(callback);
    return () => this.gone.delete(callback);
  }

  private end(status: ExitStatus): void {
    if (!this.running) return;
    this.status = status;
    this.resolveExit(status);
    this.notifyIfGone();
  }

  private notifyIfGone(): void {
    if (this.groupAlive) return;
    for (const callback of [...this.gone]) callback();
    this.gone.clear();
  }
}

export class FakeHost implements ProcessHost {
  readonly clock = new FakeClock();
  readonly processes: FakeProcess[] = [];
  /** launches of a command fail with this errno code while set (ENOENT: fatal, EAGAIN: a shortage) */
  readonly failing = new Map<string, string>();
  /** every signal sent to a group, in order: [component id, signal] */
  readonly signalLog: Array<[string, NodeJS.Signals | number]> = [];
  /** what each new process of a command does on its stop signal */
  readonly stopReaction = new Map<string, SignalReaction>();
  private nextPid = 1000;

  async launch(spec: LaunchSpec): Promise<Launched> {
    const code = this.failing.get(spec.command);
    if (code) throw new SpawnError(`spawn ${spec.command} ${code}`, code);
    const pid = this.nextPid++;
    // the command is the component's id in the registries of these tests
    const proc = new FakeProcess(pid, spec, spec.command);
    proc.onStopSignal = this.stopReaction.get(spec.command) ?? 'exit';
    this.processes.push(proc);
    return { pid, exited: proc.exited };
  }

  signalGroup(pgid: number, signal: NodeJS.Signals | number): boolean {
    const proc = this.processes.find((p) => p.pid === pgid);
    if (!proc?.groupAlive) return false;
    if (signal !== 0) this.signalLog.push([proc.id, signal]);
    proc.deliver(signal);
    return true;
  }

  waitGroupGone(pgid: number, timeoutMs: number): Promise<boolean> {
    const proc = this.processes.find((p) => p.pid === pgid);
    if (!proc?.groupAlive) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = this.clock.after(timeoutMs, () => {
        forget();
        resolve(false);
      });
      const forget = proc.whenGroupGone(() => {
        timer.cancel();
        resolve(true);
      });
    });
  }

  /** /proc readings made through `memory` (what the limits sampled) */
  memoryReadings = 0;

  /** the shared /proc reading (GroupMemory) over the fake processes: each one's rssBytes */
  readonly memory: GroupMemory = {
    read: (statuses) => {
      this.memoryReadings += 1;
      const result = new Map<string, { rssBytes: number }>();
      for (const status of statuses) {
        const proc = status.pid === undefined ? undefined : this.processes.find((p) => p.pid === status.pid);
        if (proc?.groupAlive) result.set(status.id, { rssBytes: proc.rssBytes });
      }
      return result;
    },
  };

  /** the live process of component `id` (its latest run) */
  current(id: string): FakeProcess | undefined {
    return this.processes.filter((p) => p.id === id && p.running).at(-1);
  }

  /** every run of component `id`, oldest first */
  runs(id: string): FakeProcess[] {
    return this.processes.filter((p) => p.id === id);
  }
}

/** A StartProbe whose outcomes the test decides: a check passes while its url is in `passing`. */
export class FakeProbes {
  readonly passing = new Set<string>();

  constructor(private readonly clock: FakeClock) {}

  readonly start: StartProbe = (spec, onOutcome) => {
    const url =
      spec.type === 'http' ? spec.url : spec.type === 'tcp' ? `${spec.host}:${spec.port}` : spec.command;
    let stopped = false;
    let timer: Timer | undefined;
    const probe = () => {
      if (stopped) return;
      const ok = this.passing.has(url);
      onOutcome({ ok, durationSeconds: 0.001, ...(ok ? {} : { reason: 'HTTP 503' }) });
      if (!stopped) timer = this.clock.after(spec.interval * 1000, probe);
    };
    timer = this.clock.soon(probe);
    const running: RunningProbe = {
      stop: () => {
        stopped = true;
        timer?.cancel();
      },
    };
    return running;
  };
}

/** A server of a test registry: the command is its id, so FakeHost can tell whose process is whose. */
export function server(id: string, overrides: Partial<ServerSpec> = {}): ServerSpec {
  return {
    id,
    description: id,
    command: id,
    args: [],
    shown: { command: id, args: [] },
    env: {},
    workingDirectory: '/',
    startPriority: 1,
    startDelay: 0,
    stopTimeout: 10,
    stopSignal: 'SIGTERM',
    restart: { policy: 'always', backoffInitial: 1, backoffMax: 30, resetAfter: 10 },
    critical: true,
    output: 'json',
    kind: 'longrun',
    dependsOn: [],
    envFiles: [],
    ...overrides,
  };
}

export function registry(servers: ServerSpec[], config: Partial<RegistryConfig> = {}): Registry {
  return {
    file: '/fake/conf/SupervisorRegistry.xml',
    home: '/fake',
    config: {
      tcpport: 0,
      host: '127.0.0.1',
      temp: '/fake/temp',
      tracelevel: 2,
      tracestatsinterval: 0,
      restartIntensity: { max: 10, period: 60 },
      shutdownTimeout: 30,
      shutdownDelay: 0,
      logRetentionDays: 14,
      logBuffer: { lines: 0 },
      ...config,
    },
    servers,
  };
}

export interface LogRecord {
  level: number;
  msg: string;
  component?: string;
  [key: string]: unknown;
}

/** a pino logger that keeps its records in memory */
export function memoryLogger(): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line.trim() !== '') records.push(JSON.parse(line) as LogRecord);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), records };
}

/** a state change as GET /api/v1/events sends it, reduced to what the tests compare */
export interface StateEventSeen {
  id: string;
  from: string;
  to: string;
  reason: string;
}

/** A Supervisor over a FakeHost, with what it said recorded. */
export function fakeSupervisor(
  reg: Registry,
  options: Partial<SupervisorOptions> = {},
  host = new FakeHost(),
): {
  supervisor: Supervisor;
  host: FakeHost;
  probes: FakeProbes;
  records: LogRecord[];
  /** every 'state' event, in order, as the events stream sends them */
  events: StateEventSeen[];
  status(id: string): ComponentStatus;
} {
  const probes = new FakeProbes(host.clock);
  const { logger, records } = memoryLogger();
  const supervisor = new Supervisor({
    host,
    registry: reg,
    logger,
    attachOutput: async () => {},
    startProbe: probes.start,
    memory: host.memory,
    ...options,
  });
  // the feed GET /api/v1/events serves: what the tests see is what a client would
  const events: StateEventSeen[] = [];
  new StateEvents(supervisor).subscribe((event) => {
    if (event.type !== undefined) return;
    const { component, from, to, reason } = JSON.parse(event.data) as StateEvent;
    events.push({ id: component, from, to, reason });
  });
  const status = (id: string) => {
    const found = supervisor.component(id);
    if (!found) throw new Error(`no component ${id}`);
    return found;
  };
  return { supervisor, host, probes, records, events, status };
}
