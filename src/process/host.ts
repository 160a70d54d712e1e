// The process port: everything the supervision core asks of the operating system, in one
// interface it receives (supervisord's `options` object, which its tests replace by DummyOptions).
// The core (src/supervisor/) imports no child_process, no process.kill, no timer of its own: it
// starts processes, signals and waits for their groups, and keeps time through a ProcessHost.
// node-host.ts implements it over node:child_process; the tests implement it in virtual time.
import type { Readable } from 'node:stream';
import type { ExitStatus } from './spawn-error.js';

export { type ExitStatus, SpawnError } from './spawn-error.js';

/** What to run, as the registry says it: the host adds the rest (see NodeProcessHost.launch). */
export interface LaunchSpec {
  command: string;
  args: readonly string[];
  /** absolute; the supervisor's own when absent */
  cwd?: string;
  /** the registry's variables, set over the inherited environment (less what a child must not see) */
  env?: Readonly<Record<string, string>>;
  /** run as this user, with its groups, HOME, USER and LOGNAME (src/process/users.ts) */
  user?: string;
  /** tini mode hands the child our stdin; otherwise it has none */
  stdin: 'inherit' | 'ignore';
  /**
   * 'capture': stdout and stderr come back as pipes; 'relay': the same, as RelayablePipes (raw
   * output, which a thread may relay to ours); 'inherit': the child writes to ours
   */
  output: 'capture' | 'relay' | 'inherit';
  /** a descriptor (3 or more) to pipe back as well: readiness by fd, as with s6 */
  readyFd?: number;
  /** tini mode on a terminal: see SpawnSpec.terminal */
  terminal?: { takeForeground: boolean };
}

export interface Launched {
  /** the main process, which is also the id of its own process group */
  pid: number;
  stdout?: Readable;
  stderr?: Readable;
  /** the read end of LaunchSpec.readyFd */
  readyPipe?: Readable;
  /** settles once the main process exited and was reaped; never rejects */
  exited: Promise<ExitStatus>;
}

/** A timer of the host's clock; cancelling one that already fired does nothing. */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** epoch milliseconds */
  now(): number;
  /** `callback` after `ms`; `unref`: the timer alone does not keep the process alive */
  after(ms: number, callback: () => void, options?: { unref?: boolean }): Timer;
  /** `callback` on the next turn of the event loop, after the current event ran to completion */
  soon(callback: () => void): Timer;
}

export interface ProcessHost {
  /**
   * Starts a process in a process group of its own. Rejects only with a SpawnError, whose `fatal`
   * says whether trying again can help (design.md §3 rev. 2).
   */
  launch(spec: LaunchSpec): Promise<Launched>;
  /** `signal` to every process of group `pgid`; false when the group no longer exists */
  signalGroup(pgid: number, signal: NodeJS.Signals | number): boolean;
  /** resolves true once group `pgid` is empty, false when `timeoutMs` ran out first */
  waitGroupGone(pgid: number, timeoutMs: number): Promise<boolean>;
  readonly clock: Clock;
}
