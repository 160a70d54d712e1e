// Runs one of the command line's CommonJS bundles (scripts/bundle.mjs) with V8's code cache.
// Compiling the bundle is most of what `run` costs before its first spawn that is not Node's own
// start: V8 must pre-parse all of it, ~500 kB, on every start (docs/performance.md). With the
// cache V8 reads back what it compiled the last time, the functions the start-up ran included,
// instead. Node 20 has no compile cache of its own (module.enableCompileCache is Node 22.1), so
// this is vm.Script's cachedData, which every Node since 10 has.
//
// The cache is a file beside the bundle, written by the first start that had none (or had one
// that does not fit), once it has run for a while, so that it holds the start-up's functions.
// Where that folder is not writable (an image's unprivileged user, a read-only file system), the
// bundle is compiled as if there were no cache, every time: nothing is said, nothing fails. A
// cache is used only for the build it was made for (scripts/bundle.mjs gives each bundle an id
// from its content) and the same file (its size and modification time); V8 itself refuses one made
// by another V8 or under other flags. Never a shared temporary folder: code read from a file that
// anyone can write is code anyone can run in the supervisor.
import { closeSync, fstatSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Script } from 'node:vm';

/** where runBundle leaves the writing of a cache for startupDone (two copies of this module meet there) */
const WRITE_NOW = Symbol.for('s7supervisor.codeCache.writeNow');
const hooks = globalThis as typeof globalThis & { [WRITE_NOW]?: () => void };

/**
 * The command's start-up is over (`run`: the first priority group was spawned): a cache that is to
 * be written is written now, with exactly the functions the start-up ran. Later ones (the HTTP
 * app, loaded next) would only make every start read and deserialize more before its first spawn.
 * Does nothing when no cache waits to be written, or outside main.cjs (tsc's modules, the tests).
 */
export function startupDone(): void {
  hooks[WRITE_NOW]?.();
}

/** what became of the cache: used, or why the bundle was compiled from its source */
export type CacheOutcome = 'used' | 'missing' | 'stale' | 'refused by V8';

export interface BundleOptions {
  /** the bundle's build id (scripts/bundle.mjs): a cache made for another build is not used */
  build: string;
  /**
   * a cache that was not used is written when the command says its start-up is over
   * (startupDone), else this long after the start or at exit, whichever comes first
   */
  writeAfterMs: number;
}

type ModuleFunction = (
  exports: object,
  require: NodeJS.Require,
  module: { exports: object },
  filename: string,
  dirname: string,
) => void;

/**
 * Runs the bundle `file` (a CommonJS module inside Node's module wrapper, as scripts/bundle.mjs
 * writes it) as Node's loader would, with its code cache when it has one.
 */
export function runBundle(file: string, options: BundleOptions): CacheOutcome {
  const fd = openSync(file, 'r');
  let source: string;
  let header: string;
  try {
    const { size, mtimeMs } = fstatSync(fd);
    source = readFileSync(fd, 'utf8');
    // V8 refuses a cache of another V8 or other flags itself; the machine is said here too, so a
    // package shared by an x64 and an arm64 Node (under qemu) never hands one the other's
    header = `s7supervisor code cache 1 ${options.build} ${size} ${mtimeMs} ${process.arch} ${process.versions.v8}\n`;
  } finally {
    closeSync(fd);
  }
  const cacheFile = `${file}.cache`;
  let outcome: CacheOutcome = 'missing';
  let cachedData: Buffer | undefined;
  try {
    const cache = readFileSync(cacheFile);
    if (cache.length > header.length && cache.toString('latin1', 0, header.length) === header)
      cachedData = cache.subarray(header.length);
    else outcome = 'stale';
  } catch {
    // no cache yet
  }
  // the file is Node's module wrapper around the bundle (scripts/bundle.mjs wrote it so): compiled
  // as it is, it evaluates to the function that runs the bundle as any CommonJS module
  const script = new Script(source, cachedData ? { filename: file, cachedData } : { filename: file });
  if (cachedData) outcome = script.cachedDataRejected === true ? 'refused by V8' : 'used';
  if (outcome !== 'used') writeLater(script, cacheFile, header, options.writeAfterMs);
  const moduleFunction = script.runInThisContext() as ModuleFunction;
  const module = { exports: {} };
  moduleFunction.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  return outcome;
}

/**
 * Writes the cache once: at startupDone(), after `afterMs` or at exit, whichever comes first; the
 * functions compiled by then go into it. Atomically (a start that reads it meanwhile sees the old file or the new
 * one), and only where the folder is writable: the cache is not even made otherwise.
 */
function writeLater(script: Script, cacheFile: string, header: string, afterMs: number): void {
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    clearTimeout(timer);
    process.off('exit', write);
    delete hooks[WRITE_NOW];
    const temporary = `${cacheFile}.${process.pid}.tmp`;
    let fd: number | undefined;
    try {
      // opened before the cache is made: where it cannot be written, it is not made at all
      fd = openSync(temporary, 'w', 0o644);
      writeFileSync(fd, header, 'latin1');
      writeFileSync(fd, script.createCachedData());
      closeSync(fd);
      fd = undefined;
      renameSync(temporary, cacheFile);
    } catch {
      // not writable, full, read-only: the next start compiles the bundle as this one did
      try {
        if (fd !== undefined) closeSync(fd);
        rmSync(temporary, { force: true });
      } catch {
        // nothing was left behind
      }
    }
  };
  const timer = setTimeout(write, afterMs);
  timer.unref();
  process.once('exit', write);
  hooks[WRITE_NOW] = write;
}
