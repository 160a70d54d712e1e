// Typed access to the native addon (native/*.c, binding.gyp). node-gyp-build finds the binary: a
// source build in build/Release (or build/Debug) first, else the prebuilt one in prebuilds/ that
// matches this machine (linux-x64 or linux-arm64, glibc or musl; scripts/build-prebuilds.sh makes
// them). Loaded on first use, so commands that never reap (check, status...) run without it.
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
// bundled into the command (scripts/bundle.mjs): it finds the binary from the folder it is given,
// not from its own location
import nodeGypBuild from 'node-gyp-build';

/** one orphan that was reaped */
export interface ReapedOrphan {
  pid: number;
  /** its exit code, or null when a signal ended it */
  exitCode: number | null;
  /** the number of the signal that ended it, or null when it exited */
  signal: number | null;
}

export interface ReapResult {
  reaped: ReapedOrphan[];
  /**
   * how the children were found: 'waitid' (the kernel offered only orphans), 'children'
   * (/proc/self/task/N/children), 'stat-scan' (/proc/N/stat ppid scan), 'none' (/proc unusable)
   */
  method: 'waitid' | 'children' | 'stat-scan' | 'none';
  /**
   * false when the call stopped before it knew no orphan zombie was left (a bound on the work
   * done in one call, or an exited child of Node's hid the rest and /proc could not be used):
   * call again soon.
   */
  complete: boolean;
}

export interface NativeSpawnRequest {
  file: string;
  /** argv[0] included */
  argv: readonly string[];
  /** NAME=value */
  envp: readonly string[];
  cwd?: string;
  /** `stdio[i]` becomes the child's fd i; -1: none (/dev/null for 0-2, closed above) */
  stdio: readonly number[];
  /**
   * 'inherited': ours; 'new-session': a session of its own (setsid), as a component;
   * 'new-group': a process group of its own in our session; 'foreground': that, and the
   * foreground group of the terminal on its stdin (tini mode on a terminal)
   */
  group: 'inherited' | 'new-session' | 'new-group' | 'foreground';
  /** switch to these ids (with no supplementary groups) before executing */
  uid?: number;
  gid?: number;
}

/** a relay of native/relay.c (an N-API external: opaque here) */
export type RelayHandle = { readonly __relay: unique symbol };

/** relayTake's flags (native/relay.c NEWS_*) */
export const RELAY_RESYNC = 1;
export const RELAY_IDLE = 2;
export const RELAY_ENDED = 4;

export interface NativeAddon {
  /** prctl(PR_SET_CHILD_SUBREAPER, 1); false when the kernel refused */
  setChildSubreaper(): boolean;
  /** prctl(PR_GET_CHILD_SUBREAPER) */
  isChildSubreaper(): boolean;
  /**
   * Reaps, without blocking, every exited child of this process whose pid is not in `owned`
   * (the pids libuv waits for). Never waits on an owned pid, never calls waitpid(-1).
   */
  reapOrphans(owned: Iterable<number>): ReapResult;
  /** for tests: enumerate by the /proc/N/stat scan even where the children files exist */
  forceStatScan(on: boolean): void;
  /**
   * pipe2(O_CLOEXEC): [readFd, writeFd]. Throws an Error whose `code` is the errno name (EMFILE,
   * ENFILE...), so a spawn that cannot get its pipes is classified like any spawn failure.
   */
  makePipe(): [number, number];
  /**
   * A component's output pipe that it filled grows to 256 KiB (F_SETPIPE_SZ), unless 16 have
   * already (the pipe quota is per user, host-wide: native/pipes.c) or the kernel refuses. true:
   * call releaseGrownPipe() once it is closed.
   */
  growOutputPipe(fd: number): boolean;
  releaseGrownPipe(): void;
  /**
   * Our stdout or stderr, a pipe a burst filled, grows to 256 KiB as a component's does (never
   * shrunk; not a pipe: nothing to grow). true when it did; it stays counted among the 16.
   */
  growDestinationPipe(fd: number): boolean;
  /**
   * One write(2) of bytes[start, end) to `fd`: how many bytes it took, or -errno (-EAGAIN when a
   * non-blocking descriptor is full). Never throws for the descriptor's answer.
   */
  writeSome(fd: number, bytes: Buffer, start: number, end: number): number;
  /**
   * Relays a raw-mode component's pipe `readFd` to our `destFd` in a thread of its own
   * (native/relay.c), whole lines at a time; from then on `readFd` is the relay's. `onNews` is
   * called (at most once per turn of the loop) when relayTake has something. Throws an Error whose
   * `code` is the errno name (EAGAIN: no thread could be made; `readFd` is then still ours).
   */
  relayStart(readFd: number, destFd: number, keepLines: number, onNews: () => void): RelayHandle;
  /**
   * What went by since the last take, copied to the start of `out`: [length, RELAY_* flags,
   * bytes that could not be written]; or -(the length needed) when `out` is too small. keepLines:
   * the lines the log buffers keep (-1: every line, someone follows).
   */
  relayTake(relay: RelayHandle, out: Buffer, keepLines: number): [number, number, number] | number;
  /** stop reading (the pipe is held open by a stray process); the end is told as usual */
  relayStop(relay: RelayHandle): void;
  /** someone follows the logs: every relay gives every line at once (false: no one does) */
  relayFollow(on: boolean): void;
  /**
   * The token of destination `fd` (one writer at a time: relays and our own writer): true when it
   * is ours until releaseOutput(fd); false when a relay writes, and onGranted() says when it is.
   */
  claimOutput(fd: number, onGranted: () => void): boolean;
  /** everything we held for `fd` is with the OS: relays may write again */
  releaseOutput(fd: number): void;
  /**
   * Starts `file` (searched in the PATH of `envp` when it has no slash) without forking Node:
   * vfork, then in the child the steps of libuv's (native/spawn.c). Returns its pid once it
   * executed; throws an Error whose `code` is the errno name (ENOENT, EACCES, EMFILE...) and whose
   * message is child_process's ("spawn FILE ENOENT") otherwise. Its exit is collected by the
   * reaper, not libuv.
   */
  spawn(request: NativeSpawnRequest): number;
  /** tcgetpgrp(fd): the foreground process group of our controlling terminal on fd, or -1 */
  foregroundGroup(fd: number): number;
  /** getpgrp() */
  processGroup(): number;
  /** tcsetpgrp(fd, pgid) with SIGTTOU blocked; throws with the errno name as `code` */
  setForegroundGroup(fd: number, pgid: number): void;
  /** SIGTTIN and SIGTTOU to SIG_IGN (tini does the same): we never stop for the terminal */
  ignoreTerminalStops(): void;
  /**
   * Where the first newlines of bytes[start, end) are: their indices go to ends[0..n), n (the
   * return) at most ends.length (native/lines.c; the log's one pass over each chunk).
   */
  scanLines(bytes: Buffer, start: number, end: number, ends: Int32Array): number;
  /**
   * The index of the n-th newline of bytes[start, end) counted from the end, or -(found + 1) when
   * there are only `found` (fewer than n); n > 0 (native/lines.c, memrchr from line to line).
   */
  newlineFromEnd(bytes: Buffer, start: number, end: number, n: number): number;
  /**
   * The records of n lines (the first from `start` to ends[0], each next one from the byte after
   * the previous newline to ends[i]; a CR before the newline dropped): head, the line escaped as
   * JSON.stringify escapes it, tail; written at the start of `out`. Returns their length,
   * -(the length needed) when `out` is too small (nothing written), or null when a line is not
   * valid UTF-8 (Node's decoding then).
   */
  jsonRecords(
    bytes: Buffer,
    start: number,
    ends: Int32Array,
    n: number,
    head: Buffer,
    tail: Buffer,
    out: Buffer,
  ): number | null;
  /**
   * malloc_trim(0): gives the free pages of malloc's heap back to the system (native/memory.c);
   * true when some were. Always false on musl, which has no malloc_trim.
   */
  trimMemory(): boolean;
  /** kill(pid, signal): 0, or the errno (ESRCH: gone), never thrown */
  sendSignal(pid: number, signal: number): number;
  /** process `pid` to SCHED_BATCH (it does not preempt when it wakes); false when refused */
  setBatchPolicy(pid: number): boolean;
}

type PassedThrough = Pick<
  NativeAddon,
  | 'foregroundGroup'
  | 'processGroup'
  | 'setForegroundGroup'
  | 'ignoreTerminalStops'
  | 'scanLines'
  | 'newlineFromEnd'
  | 'writeSome'
  | 'relayStart'
  | 'relayTake'
  | 'relayStop'
  | 'claimOutput'
  | 'releaseOutput'
  | 'growOutputPipe'
  | 'releaseGrownPipe'
  | 'growDestinationPipe'
  | 'jsonRecords'
  | 'sendSignal'
  | 'setBatchPolicy'
>;

interface RawAddon extends PassedThrough {
  relayFollow(on: 0 | 1): void;
  spawn(
    file: string,
    argv: readonly string[],
    envp: readonly string[],
    cwd: string | null,
    stdio: readonly number[],
    group: number,
    uid: number,
    gid: number,
  ): number;
  setChildSubreaper(): boolean;
  isChildSubreaper(): boolean;
  reapOrphans(owned: Int32Array): { reaped: Int32Array; method: ReapResult['method']; complete: boolean };
  forceStatScan(on: boolean): void;
  makePipe(): [number, number];
  trimMemory(): boolean;
}

/** The addon is missing or does not load: said in one line, how to fix it included. */
export class NativeAddonError extends Error {
  override name = 'NativeAddonError';
}

// dist/src/process/native.js -> the repository (or installed package) root
const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const requireCjs = createRequire(import.meta.url);

let loaded: NativeAddon | undefined;

const firstLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0];

export function loadNative(): NativeAddon {
  if (loaded) return loaded;
  let path: string;
  try {
    path = nodeGypBuild.path(packageRoot);
  } catch (error) {
    throw new NativeAddonError(
      `the native addon is not built and no prebuilt one matches this machine (${firstLine(error)}): ` +
        `build it with 'npm rebuild s7supervisor' where it is installed ` +
        `(in a checkout: 'npm run build:native'); that needs python3, make and a C compiler`,
    );
  }
  let raw: RawAddon;
  try {
    raw = requireCjs(path) as RawAddon;
  } catch (error) {
    throw new NativeAddonError(
      `the native addon ${path} does not load (${firstLine(error)}): ` +
        `rebuild it with 'npm rebuild s7supervisor' where it is installed (in a checkout: 'npm run build:native')`,
    );
  }
  loaded = wrap(raw);
  return loaded;
}

/** native/spawn.c's numbers for NativeSpawnRequest.group */
const GROUPS = { inherited: 0, 'new-session': 1, 'new-group': 2, foreground: 3 } as const;

function wrap(raw: RawAddon): NativeAddon {
  return {
    setChildSubreaper: () => raw.setChildSubreaper(),
    isChildSubreaper: () => raw.isChildSubreaper(),
    forceStatScan: (on) => raw.forceStatScan(on),
    makePipe: () => raw.makePipe(),
    spawn: (r) =>
      raw.spawn(r.file, r.argv, r.envp, r.cwd ?? null, r.stdio, GROUPS[r.group], r.uid ?? -1, r.gid ?? -1),
    foregroundGroup: (fd) => raw.foregroundGroup(fd),
    processGroup: () => raw.processGroup(),
    setForegroundGroup: (fd, pgid) => raw.setForegroundGroup(fd, pgid),
    ignoreTerminalStops: () => raw.ignoreTerminalStops(),
    scanLines: (bytes, start, end, ends) => raw.scanLines(bytes, start, end, ends),
    newlineFromEnd: (bytes, start, end, n) => raw.newlineFromEnd(bytes, start, end, n),
    writeSome: (fd, bytes, start, end) => raw.writeSome(fd, bytes, start, end),
    growOutputPipe: (fd) => raw.growOutputPipe(fd),
    releaseGrownPipe: () => raw.releaseGrownPipe(),
    growDestinationPipe: (fd) => raw.growDestinationPipe(fd),
    relayStart: (readFd, destFd, keepLines, onNews) => raw.relayStart(readFd, destFd, keepLines, onNews),
    relayTake: (relay, out, keepLines) => raw.relayTake(relay, out, keepLines),
    relayStop: (relay) => raw.relayStop(relay),
    relayFollow: (on) => raw.relayFollow(on ? 1 : 0),
    claimOutput: (fd, onGranted) => raw.claimOutput(fd, onGranted),
    releaseOutput: (fd) => raw.releaseOutput(fd),
    jsonRecords: (bytes, start, ends, n, head, tail, out) =>
      raw.jsonRecords(bytes, start, ends, n, head, tail, out),
    trimMemory: () => raw.trimMemory(),
    sendSignal: (pid, signal) => raw.sendSignal(pid, signal),
    setBatchPolicy: (pid) => raw.setBatchPolicy(pid),
    reapOrphans(owned) {
      const result = raw.reapOrphans(Int32Array.from(owned));
      const reaped: ReapedOrphan[] = [];
      const triples = result.reaped;
      for (let i = 0; i + 2 < triples.length; i += 3) {
        const code = triples[i + 1]!;
        const signal = triples[i + 2]!;
        reaped.push({
          pid: triples[i]!,
          exitCode: code >= 0 ? code : null,
          signal: signal > 0 ? signal : null,
        });
      }
      return { reaped, method: result.method, complete: result.complete };
    },
  };
}
