// The command line as installed, bundled by esbuild from src/ (run by `npm run build`, after tsc):
//
//   dist/src/cli/main.cjs      the bin (src/cli/launch.ts): runs the bundle that holds the command
//   dist/src/cli/run.cjs       `run`: everything a supervisor runs, and nothing else
//   dist/src/cli/convert.cjs   `convert` (and yaml, which only it needs)
//   dist/src/cli/cli.cjs       every other command, help and version
//   dist/src/cli/main.js       the bin of earlier versions, an ES module that runs main.cjs
//
// Node's module loader costs more than the code it loads: a `run` made of ~60 modules of ours and
// ~50 of its dependencies idled at ~9 MB more resident memory and started ~100 ms later than the
// same code in a few files, and as ES modules (esbuild's chunks) it still cost 3.7 MB, four threads
// and ~4 ms more than as one CommonJS file (docs/performance.md). Each bundle is whole: one file,
// compiled once with V8's code cache (src/cli/code-cache.ts), sharing no module with another
// bundle. Each is main.ts, with the modules of the commands that another bundle holds left out.
//
// tsc's output of every module stays beside them (dist/src/**): the tests import those. Loaded at
// run time from node_modules, as before: what is loaded only when needed (express, pino-pretty,
// rotating-file-stream).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist/src/cli');
const mainTs = join(root, 'src/cli/main.ts');

// tsc's map of main.js describes the file the bundle replaces
rmSync(join(outdir, 'main.js.map'), { force: true });

/** command -> the module main.ts loads it from, as main.ts says */
const commandModules = Object.fromEntries(
  [
    ...readFileSync(mainTs, 'utf8').matchAll(
      /([\w-]+): \{\s*summary:[^\n]*\n\s*load: async \(\) => \(await import\('\.\/([\w-]+)\.js'\)\)/g,
    ),
  ].map((m) => [m[1], m[2]]),
);
if (!commandModules.run || !commandModules.convert || Object.keys(commandModules).length < 10)
  throw new Error(
    `scripts/bundle.mjs: the commands of src/cli/main.ts were not found (${Object.keys(commandModules)})`,
  );

/** the bundles of commands, and the commands each holds; the last takes the rest, help and version */
const others = 'cli.cjs';
const groups = {
  'run.cjs': ['run'],
  'convert.cjs': ['convert'],
  [others]: Object.keys(commandModules).filter((c) => c !== 'run' && c !== 'convert'),
};

/**
 * Code of the dependencies that `run` never executes, replaced so it is neither loaded nor kept:
 * pino's worker-thread transports (thread-stream and Node's worker_threads: records go to our own
 * sink, never to a transport), sonic-boom's node:assert (made lazy), OpenTelemetry, which prom-client reads only for exemplars (off), and
 * prom-client's Pushgateway, which would load node:https, TLS and zlib (1.4 MB) at its first
 * require for a push nobody makes.
 */
const unused = {
  name: 'unused-dependency-code',
  setup(build) {
    build.onResolve({ filter: /^thread-stream$/ }, () => ({ path: 'thread-stream', namespace: 'unused' }));
    build.onResolve({ filter: /^@opentelemetry\/api$/ }, () => ({ path: 'otel', namespace: 'unused' }));
    build.onResolve({ filter: /^(node:)?worker_threads$/ }, (args) =>
      /[\\/]node_modules[\\/]pino[\\/]/.test(args.importer)
        ? { path: 'worker_threads', namespace: 'unused' }
        : undefined,
    );
    build.onResolve({ filter: /^assert$/ }, (args) =>
      /[\\/]node_modules[\\/]sonic-boom[\\/]/.test(args.importer)
        ? { path: 'assert', namespace: 'unused' }
        : undefined,
    );
    build.onResolve({ filter: /^\.\/lib\/pushgateway$/ }, (args) =>
      /[\\/]node_modules[\\/]prom-client[\\/]index\.js$/.test(args.importer)
        ? { path: 'pushgateway', namespace: 'unused' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'unused' }, ({ path }) => ({
      contents: {
        'thread-stream':
          "module.exports = class ThreadStream { constructor() { throw new Error('pino transports are not part of s7supervisor'); } };",
        otel: 'module.exports = { trace: { getSpan: () => undefined }, context: { active: () => undefined } };',
        // pino asks only whether it runs on the main thread: s7supervisor has no other
        worker_threads: 'module.exports = { isMainThread: true };',
        // sonic-boom asserts only in a function pino calls for its own destinations, never ours:
        // node:assert (0.3 MB, ~1 ms before the first spawn) is loaded only if it ever does
        assert: "module.exports = (...args) => require('node:assert')(...args);",
        pushgateway:
          "module.exports = class Pushgateway { constructor() { throw new Error('the Pushgateway of prom-client is not part of s7supervisor'); } };",
      }[path],
      loader: 'js',
    }));
  },
};

/** main.ts's imports of the commands that `kept` does not hold: a module that is never loaded */
function onlyCommands(kept) {
  const keptModules = new Set(kept.map((command) => commandModules[command]));
  const allModules = new Set(Object.values(commandModules));
  return {
    name: 'commands-of-this-bundle',
    setup(build) {
      build.onResolve({ filter: /^\.\/[\w-]+\.js$/ }, (args) => {
        const module = args.path.slice(2, -3);
        if (args.importer !== mainTs || !allModules.has(module) || keptModules.has(module)) return undefined;
        return { path: module, namespace: 'other-bundle' };
      });
      // main.cjs never runs this bundle for these commands: reaching one is a bug of the build
      build.onLoad({ filter: /.*/, namespace: 'other-bundle' }, ({ path }) => ({
        contents: `throw new Error(${JSON.stringify(`src/cli/${path}.ts is in another bundle (scripts/bundle.mjs)`)});`,
        loader: 'js',
      }));
    },
  };
}

const common = {
  bundle: true,
  write: false,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['express', 'pino-pretty', 'rotating-file-stream'],
  // what the code finds from its own location (package.json three folders up, the addon's package
  // root) stays right: every bundle lives in dist/src/cli, as the module it was built from
  define: { 'import.meta.url': '__s7supervisorUrl' },
  // strict, as the ES modules it was built from: the directive must come first, before the banner
  banner: {
    js: "'use strict';\nvar __s7supervisorUrl = require('node:url').pathToFileURL(__filename).href;",
  },
  // names kept: an internal error prints a stack for a maintainer
  minifyWhitespace: true,
  minifySyntax: true,
  minifyIdentifiers: true,
  keepNames: true,
  legalComments: 'none',
  logLevel: 'warning',
};

/** file name -> contents, written below */
const outputs = new Map();
const builds = {};
for (const [file, kept] of Object.entries(groups)) {
  const result = await build({ ...common, plugins: [unused, onlyCommands(kept)], entryPoints: [mainTs] });
  // Run by main.cjs, never as a script: no #! line, and wrapped here in Node's module wrapper, so
  // that the file is the exact source V8 compiles (no copy of ~400 kB made at each start to wrap it)
  const text = `(function (exports, require, module, __filename, __dirname) {${result.outputFiles[0].text.replace(/^#![^\n]*\n/, '')}\n})`;
  if (/[^\w$.]import\(/.test(text))
    throw new Error(`scripts/bundle.mjs: ${file} has an import(), which a vm.Script cannot run`);
  outputs.set(file, text);
  builds[file] = createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** where main.cjs's shell line keeps NODE_EXTRA_CA_CERTS for launch.ts to put back */
const MOVED_CA_VARIABLE = 'S7SUPERVISOR_NODE_EXTRA_CA_CERTS';

const launcher = await build({
  ...common,
  entryPoints: [join(root, 'src/cli/launch.ts')],
  define: {
    ...common.define,
    S7SUPERVISOR_MOVED_CA_VARIABLE: JSON.stringify(MOVED_CA_VARIABLE),
    S7SUPERVISOR_BUNDLES: JSON.stringify({
      commands: Object.fromEntries(
        Object.entries(groups).flatMap(([file, commands]) => commands.map((command) => [command, file])),
      ),
      others,
      builds,
    }),
  },
});
// main.cjs starts as a shell script and goes on as JavaScript: sh runs the line below its #! and
// execs Node on the same file; for Node that line is a string and a comment. It moves
// NODE_EXTRA_CA_CERTS aside because Node 20 reads and parses the whole bundle it names before the
// first line of any script (~55 ms and 2 MB on a machine that sets it to the system's 144
// certificates), and the supervisor verifies no certificate (https checks do not, as Kubernetes'
// probes): launch.ts puts it back into the environment before anything runs, so the components
// inherit it as it was. One exec of /bin/sh (~1 ms); `node main.cjs` skips the line altogether.
// (The moved name is unset when there is nothing to move: one set by hand must not be put back.)
// No V8 flag here: run sets the one it wants after its first spawn (src/cli/young-generation.ts).
const SHELL_LINE = `":" //; if [ -n "$NODE_EXTRA_CA_CERTS" ]; then export ${MOVED_CA_VARIABLE}="$NODE_EXTRA_CA_CERTS"; unset NODE_EXTRA_CA_CERTS; else unset ${MOVED_CA_VARIABLE}; fi; exec node "$0" "$@"`;
const NODE_HASHBANG = '#!/usr/bin/env node\n';
const launcherText = launcher.outputFiles[0].text;
if (!launcherText.startsWith(NODE_HASHBANG))
  throw new Error('scripts/bundle.mjs: the launcher does not start with its #! line');
outputs.set('main.cjs', `#!/bin/sh\n${SHELL_LINE}\n${launcherText.slice(NODE_HASHBANG.length)}`);
outputs.set(
  'main.js',
  `${NODE_HASHBANG}// The bin of earlier versions: main.cjs is the command now (scripts/bundle.mjs says why).\nimport './main.cjs';\n`,
);

// each file atomically: a command started meanwhile (a test running beside `npm start`, which
// builds) never reads a bundle half written
for (const [file, text] of outputs) {
  const path = join(outdir, file);
  writeFileSync(`${path}.tmp`, text, { mode: file.startsWith('main.') ? 0o755 : 0o644 });
  renameSync(`${path}.tmp`, path);
}
// what an earlier build left: its chunks (before the bundles were CommonJS), and the code caches
// of bundles that were just rewritten (made for other code: they would only be read and refused)
for (const file of readdirSync(outdir))
  if ((file.startsWith('bundle-') && file.endsWith('.js')) || file.endsWith('.cjs.cache'))
    rmSync(join(outdir, file));
