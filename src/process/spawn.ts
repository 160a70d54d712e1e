// The one place in the program that starts child processes (components, exec checks).
//
// - It records the pid of every child Node spawned, so the orphan reaper (reaper.ts) can reap
//   everything else without stealing an exit status from libuv: a pid in this set is Node's to
//   wait for, never ours.
// - Output goes through real pipes (pipe2, from the addon), not the socket pairs Node makes for
//   'pipe': a child can then open /dev/stdout, /dev/stderr or /proc/self/fd/1 (nginx's
//   `access_log /dev/stdout`), which fails with ENXIO on a socket.
// - With the reaper running, the addon starts the child (native/spawn.c: vfork, not a fork of the
//   whole Node process, which costs 1-2 ms per start at our size), and the reaper hands its exit
//   back here (claimNativeExit). Without the reaper (before it starts, after it stopped, a test host
//   without one) nobody would collect such a child, so node:child_process starts it as before.
// - Every failure to start is classified (design.md §3 rev. 2): ENOENT, EACCES, ENOEXEC, EPERM
//   can never succeed by trying again (fatal); EAGAIN, EMFILE, ENFILE, ENOMEM and the rest are
//   resource shortages, to be retried with backoff. Nothing here throws past its caller or leaves
//   an 'error' event unhandled: for a PID 1 that would be the end of the container.
//
// Otherwise it uses node:child_process directly. execa 9 crashes the calling process when spawn fails
// with EMFILE or ENFILE (it iterates `subprocess.stdio`, which Node leaves undefined then, and the
// child's 'error' event goes unhandled), and every feature it adds (buffering, encodings,
// piping, cleanup on exit) is one a supervisor must turn off.
import type { ChildProcess } from 'node:child_process';
import { fchownSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import { constants } from 'node:os';
import type { Readable } from 'node:stream';
import { loadNative } from './native.js';
import { closeQuietly, OutputPipe, RelayablePipe } from './output-pipe.js';
import { type ExitStatus, SpawnError } from './spawn-error.js';

export { type ExitStatus, isFatalSpawnCode, SpawnError } from './spawn-error.js';

const nodeOwned = new Set<number>();

/** pids of live children that Node spawned and libuv will wait for */
export function nodeOwnedPids(): ReadonlySet<number> {
  return nodeOwned;
}

/**
 * What a child descriptor is connected to: 'pipe' is a real pipe whose read end comes back in
 * Spawned.pipes; a number is one of our descriptors, passed on as it is.
 */
export type StdioSlot = 'ignore' | 'inherit' | 'pipe' | number;

export interface SpawnSpec {
  file: string;
  args: readonly string[];
  cwd?: string;
  /** the child's whole environment (nothing of ours is added to it) */
  env: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
  /** index = the child's descriptor: [stdin, stdout, stderr, fd 3...] */
  stdio: readonly StdioSlot[];
  /** stdout's and stderr's pipes come back as RelayablePipes (raw output: a thread may relay them) */
  relayOutput?: boolean;
  /** its own session and process group, so one signal reaches all of its processes */
  newGroup: boolean;
  /**
   * tini mode with stdin our controlling terminal (design.md §5 rev. 2): instead of a new session,
   * a new process group in ours, so the terminal stays the child's controlling terminal; with
   * takeForeground that group becomes the terminal's foreground group, and the terminal comes
   * back to us when the child exits. Needs the reaper running (it collects the exit); without
   * it, the child starts as usual.
   */
  terminal?: { takeForeground: boolean };
}

export interface Spawned {
  pid: number;
  /** the read end of each 'pipe' slot, by the child's descriptor number */
  pipes: ReadonlyMap<number, Readable>;
  /** settles once the process exited and was reaped (by libuv, or by the reaper); never rejects */
  exited: Promise<ExitStatus>;
}

/** children the addon started (spawnNatively), not libuv's: the reaper hands us their exit */
const nativeChildren = new Map<number, (status: ExitStatus) => void>();
let nativeExitsCollected = false;
/**
 * libuv knows nothing of those children: without a ref'd handle, an event loop with nothing else
 * to do (tini mode as PID 1, no port, no socket) would end, and the process with it, while one
 * runs. A timer that never fires, ref'd only while such a child lives and its exit can come.
 */
let keepAlive: NodeJS.Timeout | undefined;

function holdEventLoop(): void {
  if (nativeExitsCollected && nativeChildren.size > 0) {
    keepAlive ??= setInterval(() => {}, 2 ** 30);
    keepAlive.ref();
  } else keepAlive?.unref();
}

/** the reaper tells us it runs (and so collects the exits of the children the addon starts) or stopped */
export function collectNativeExits(on: boolean): void {
  nativeExitsCollected = on;
  holdEventLoop();
}

/**
 * The reaper found `pid` exited: true when it was a child the addon started for us (its exit is
 * delivered to its `exited` promise, and it is not an orphan), false otherwise.
 */
export function claimNativeExit(pid: number, exitCode: number | null, signal: number | null): boolean {
  const deliver = nativeChildren.get(pid);
  if (!deliver) return false;
  nativeChildren.delete(pid);
  holdEventLoop();
  const name =
    signal === null
      ? null
      : ((Object.keys(constants.signals) as NodeJS.Signals[]).find((s) => constants.signals[s] === signal) ??
        null);
  deliver({ code: signal === null ? exitCode : null, signal: name });
  return true;
}

/** Starts a process. Rejects only with a SpawnError; every descriptor it made is closed then. */
export function spawnProcess(spec: SpawnSpec): Promise<Spawned> {
  const made: Array<[childFd: number, readFd: number, writeFd: number]> = [];
  const closeWriteEnds = () => {
    for (const [, , writeFd] of made) closeQuietly(writeFd);
  };
  const closeAll = () => {
    for (const [, readFd, writeFd] of made) {
      closeQuietly(readFd);
      closeQuietly(writeFd);
    }
  };
  let stdio: Array<'ignore' | 'inherit' | number>;
  try {
    stdio = spec.stdio.map((slot, childFd) => {
      if (slot !== 'pipe') return slot;
      const [readFd, writeFd] = loadNative().makePipe();
      made.push([childFd, readFd, writeFd]);
      // a <user> component must be able to reopen it (/dev/stdout), as runc does for a container's user
      if (spec.uid !== undefined) fchownSync(writeFd, spec.uid, spec.gid ?? -1);
      return writeFd;
    });
  } catch (error) {
    closeAll();
    return Promise.reject(toSpawnError(error, spec.file));
  }

  if (nativeExitsCollected) return spawnNatively(spec, stdio, made, closeWriteEnds, closeAll);

  let child: ChildProcess;
  try {
    child = nodeChildProcess().spawn(spec.file, spec.args, {
      ...(spec.cwd !== undefined ? { cwd: spec.cwd } : {}),
      env: spec.env,
      stdio,
      detached: spec.newGroup,
      ...(spec.uid !== undefined ? { uid: spec.uid } : {}),
      ...(spec.gid !== undefined ? { gid: spec.gid } : {}),
      windowsHide: true,
    });
  } catch (error) {
    // Node throws for the failures it does not consider run-time errors (E2BIG, EINVAL...)
    closeAll();
    return Promise.reject(toSpawnError(error, spec.file));
  }
  // the child has its own copies now (or never will)
  closeWriteEnds();

  const pid = child.pid;
  if (pid === undefined) {
    // ENOENT, EACCES, EAGAIN, EMFILE, ENFILE: Node reports them through 'error' on the next tick
    for (const [, readFd] of made) closeQuietly(readFd);
    return new Promise((_, reject) => {
      child.once('error', (error) => reject(toSpawnError(error, spec.file)));
    });
  }
  // From here on, Node owns this pid: the reaper must never wait for it.
  nodeOwned.add(pid);
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('exit', (code, signal) => {
      nodeOwned.delete(pid);
      resolve({ code, signal });
    });
  });
  // after a successful spawn, 'error' can only come from kill(); we signal groups ourselves
  child.on('error', () => {});
  const pipes = new Map<number, Readable>();
  for (const [childFd, readFd] of made)
    pipes.set(childFd, readEnd(childFd, readFd, spec.relayOutput === true));
  return Promise.resolve({ pid, pipes, exited });
}

/**
 * node:child_process, loaded on first use: while the reaper runs, children are started by the addon,
 * and loading it (with net and dgram behind it) is a few milliseconds of every start-up
 */
const nodeChildProcess = (): typeof import('node:child_process') =>
  createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');

/** spawnProcess by the addon (native/spawn.c), for when the reaper collects the exit */
function spawnNatively(
  spec: SpawnSpec,
  stdio: Array<'ignore' | 'inherit' | number>,
  made: Array<[childFd: number, readFd: number, writeFd: number]>,
  closeWriteEnds: () => void,
  closeAll: () => void,
): Promise<Spawned> {
  // what child_process makes of `env`: its own enumerable keys, undefined left out
  const envp: string[] = [];
  for (const name of Object.keys(spec.env)) {
    const value = spec.env[name];
    if (value !== undefined) envp.push(`${name}=${value}`);
  }
  const terminal = spec.terminal;
  let pid: number;
  try {
    pid = loadNative().spawn({
      file: spec.file,
      argv: [spec.file, ...spec.args],
      envp,
      ...(spec.cwd !== undefined ? { cwd: spec.cwd } : {}),
      stdio: stdio.map((slot, childFd) => (slot === 'ignore' ? -1 : slot === 'inherit' ? childFd : slot)),
      group: terminal
        ? terminal.takeForeground
          ? 'foreground'
          : 'new-group'
        : spec.newGroup
          ? 'new-session'
          : 'inherited',
      ...(spec.uid !== undefined ? { uid: spec.uid } : {}),
      ...(spec.gid !== undefined ? { gid: spec.gid } : {}),
    });
  } catch (error) {
    closeAll();
    return Promise.reject(toSpawnError(error, spec.file));
  }
  closeWriteEnds();
  const exited = new Promise<ExitStatus>((resolve) => {
    nativeChildren.set(pid, (status) => {
      // the terminal comes back to us: the child is gone, whoever it left in the foreground
      const back = terminal?.takeForeground === true && takeTerminalBack();
      resolve({ ...status, ...(back ? { terminalTakenBack: true } : {}) });
    });
  });
  holdEventLoop();
  const pipes = new Map<number, Readable>();
  for (const [childFd, readFd] of made)
    pipes.set(childFd, readEnd(childFd, readFd, spec.relayOutput === true));
  return Promise.resolve({ pid, pipes, exited });
}

/** makes our own process group the foreground group of the terminal on stdin again; true when it did */
export function takeTerminalBack(): boolean {
  const native = loadNative();
  const ours = native.processGroup();
  const foreground = native.foregroundGroup(0);
  if (foreground === -1 || foreground === ours) return false;
  try {
    native.setForegroundGroup(0, ours);
    return true;
  } catch {
    // the terminal went away (hung up): nothing to hand back
    return false;
  }
}

/**
 * The read end of a pipe as a stream, read through libuv's event loop; stdout's and stderr's are
 * OutputPipes (output-pipe.ts), read into one shared buffer, or RelayablePipes, which a thread of
 * their own may relay instead (raw output).
 */
function readEnd(childFd: number, fd: number, relayable: boolean): Readable {
  if (childFd === 1 || childFd === 2) return relayable ? new RelayablePipe(fd) : new OutputPipe(fd);
  const socket = new Socket({ fd, readable: true, writable: false });
  // a read error ends the copy (output.ts listens for 'close'); it must never be unhandled
  socket.on('error', () => socket.destroy());
  return socket;
}

function toSpawnError(error: unknown, file: string): SpawnError {
  const errno = error as NodeJS.ErrnoException;
  const code = typeof errno?.code === 'string' ? errno.code : 'EIO';
  const reason = error instanceof Error ? error.message : String(error);
  return new SpawnError(reason.includes(file) ? reason : `${reason} (${file})`, code);
}
