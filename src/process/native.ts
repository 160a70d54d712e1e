// Typed access to the native addon (native/reaper.c, built by `npm ci` through binding.gyp).
// Loaded on first use, so commands that never reap (check, status...) run without it.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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
}

interface RawAddon {
  setChildSubreaper(): boolean;
  isChildSubreaper(): boolean;
  reapOrphans(owned: Int32Array): { reaped: Int32Array; method: ReapResult['method']; complete: boolean };
  forceStatScan(on: boolean): void;
  makePipe(): [number, number];
}

/** The addon is missing or does not load: said in one line, how to fix it included. */
export class NativeAddonError extends Error {
  override name = 'NativeAddonError';
}

const addonName = 's7supervisor_native.node';
// dist/src/process/native.js -> the repository (or installed package) root
const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const candidates = [
  join(packageRoot, 'build/Release', addonName),
  join(packageRoot, 'build/Debug', addonName),
];

let loaded: NativeAddon | undefined;

export function loadNative(): NativeAddon {
  if (loaded) return loaded;
  const path = candidates.find((candidate) => existsSync(candidate));
  if (!path) {
    throw new NativeAddonError(
      `the native addon is not built (no ${candidates[0]}): run 'npm ci' (or 'npm rebuild') ` +
        'in the package folder; it needs python3, make and a C compiler',
    );
  }
  let raw: RawAddon;
  try {
    raw = createRequire(import.meta.url)(path) as RawAddon;
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new NativeAddonError(
      `the native addon ${path} does not load (${reason}): rebuild it with 'npm rebuild' in the package folder`,
    );
  }
  loaded = wrap(raw);
  return loaded;
}

function wrap(raw: RawAddon): NativeAddon {
  return {
    setChildSubreaper: () => raw.setChildSubreaper(),
    isChildSubreaper: () => raw.isChildSubreaper(),
    forceStatScan: (on) => raw.forceStatScan(on),
    makePipe: () => raw.makePipe(),
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
