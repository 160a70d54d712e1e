// The command line as installed: dist/src/cli/main.js and the chunks it loads, bundled by esbuild
// from src/ (run by `npm run build`, after tsc). Node's module loader costs more than the code it
// loads: a `run` made of ~60 modules of ours and ~50 of its dependencies (pino, prom-client,
// fast-xml-parser) idled at ~9 MB more resident memory and started ~100 ms later than the same
// code in a few files (docs/performance.md). Each command stays a chunk of its own, loaded
// when it is chosen, so `run` never loads what `convert` or `status` need.
//
// tsc's output of every module stays beside it (dist/src/**): the tests import those. Loaded at
// run time from node_modules, as before: what is loaded only when needed (express, pino-pretty,
// rotating-file-stream) and node-gyp-build, which finds the addon from its own path.
import { readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist/src/cli');

// tsc's map of main.js describes the file the bundle replaces
rmSync(join(outdir, 'main.js.map'), { force: true });

/**
 * Code of the dependencies that `run` never executes, replaced so it is neither loaded nor kept:
 * pino's worker-thread transports (thread-stream and Node's worker_threads: records go to our own
 * sink, never to a transport) and OpenTelemetry, which prom-client reads only for exemplars (off).
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
    build.onLoad({ filter: /.*/, namespace: 'unused' }, ({ path }) => ({
      contents: {
        'thread-stream':
          "module.exports = class ThreadStream { constructor() { throw new Error('pino transports are not part of s7supervisor'); } };",
        otel: 'module.exports = { trace: { getSpan: () => undefined }, context: { active: () => undefined } };',
        // pino asks only whether it runs on the main thread: s7supervisor has no other
        worker_threads: 'module.exports = { isMainThread: true };',
      }[path],
      loader: 'js',
    }));
  },
};

const result = await build({
  plugins: [unused],
  // written below, each file atomically: a command started meanwhile (a test running beside
  // `npm start`, which builds) never reads a chunk half written or already removed
  write: false,
  entryPoints: [join(root, 'src/cli/main.ts')],
  outdir,
  // the chunks live beside main.js: every path the code finds from its own location
  // (package.json three folders up, the addon's package root) stays right
  entryNames: '[name]',
  chunkNames: 'bundle-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['express', 'pino-pretty', 'rotating-file-stream', 'node-gyp-build'],
  // the CommonJS dependencies call require() for Node's own modules
  banner: {
    js: "import { createRequire as __s7CreateRequire } from 'node:module';\nconst require = __s7CreateRequire(import.meta.url);",
  },
  // names kept: an internal error prints a stack for a maintainer
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
  legalComments: 'none',
  logLevel: 'warning',
});

const written = new Set();
for (const file of result.outputFiles) {
  writeFileSync(`${file.path}.tmp`, file.contents);
  renameSync(`${file.path}.tmp`, file.path);
  written.add(basename(file.path));
}
// chunks of an earlier build that this one no longer has must not pile up in the package
for (const file of readdirSync(outdir))
  if (file.startsWith('bundle-') && file.endsWith('.js') && !written.has(file)) rmSync(join(outdir, file));
