#!/usr/bin/env node
// The installed command, dist/src/cli/main.cjs (package.json's bin; scripts/bundle.mjs builds it
// from this file): runs the bundle that holds the command asked for, with V8's code cache
// (code-cache.ts). `run` has a bundle of its own, so a supervisor loads, compiles and keeps only
// the code it runs; `convert` too (yaml); the other commands share one.
//
// CommonJS, not an ES module: Node's ES module loader reads files on its thread pool and keeps its
// own code, which cost a supervisor 3.7 MB of resident memory, four threads and ~4 ms of start-up
// that a CommonJS entry does not (docs/performance.md). dist/src/cli/main.js, the bin of earlier
// versions, is kept as an ES module that runs this file.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBundle } from './code-cache.js';

/** written in by scripts/bundle.mjs: which bundle holds which command, and each one's build id */
declare const S7SUPERVISOR_BUNDLES: {
  commands: Record<string, string>;
  others: string;
  builds: Record<string, string>;
};

/** after this the start-up's functions are compiled, and a cache that was missing is written */
const WRITE_CACHE_AFTER_MS = 2000;

/** written in by scripts/bundle.mjs: where main.cjs's shell line moved NODE_EXTRA_CA_CERTS */
declare const S7SUPERVISOR_MOVED_CA_VARIABLE: string;

// Put back what the shell line moved aside (scripts/bundle.mjs says why), before anything reads the
// environment: components, checks and hooks inherit NODE_EXTRA_CA_CERTS as the user set it.
const movedCa = process.env[S7SUPERVISOR_MOVED_CA_VARIABLE];
if (movedCa !== undefined) {
  process.env.NODE_EXTRA_CA_CERTS = movedCa;
  delete process.env[S7SUPERVISOR_MOVED_CA_VARIABLE];
}

const { commands, others, builds } = S7SUPERVISOR_BUNDLES;
const [first, second] = process.argv.slice(2);
// `help COMMAND` prints the help of the command's own module
const command = first === 'help' ? second : first;
const bundle = command !== undefined && Object.hasOwn(commands, command) ? commands[command]! : others;
runBundle(join(dirname(fileURLToPath(import.meta.url)), bundle), {
  build: builds[bundle] ?? '',
  writeAfterMs: WRITE_CACHE_AFTER_MS,
});
