// The installed command runs its bundles with V8's code cache (src/cli/code-cache.ts): the cache is
// written once, used from then on, never used for another file or build, and a folder where it
// cannot be written changes nothing but the start-up time. Each case runs a small bundle in a
// fresh Node, as main.cjs runs run.cjs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { makeTempDir, repoRoot } from '../helpers/paths.js';
import { killAllStarted, runCli } from '../helpers/processes.js';
import { writeRegistry } from '../helpers/registry.js';
import { waitFor } from '../helpers/wait.js';

const codeCache = pathToFileURL(join(repoRoot, 'dist/src/cli/code-cache.js')).href;

/** a bundle as scripts/bundle.mjs writes them, with enough functions for V8 to cache */
function writeBundle(dir: string, answer: number): string {
  const file = join(dir, 'b.cjs');
  const functions = Array.from({ length: 200 }, (_, i) => `function f${i}(x) { return x + ${i}; }`).join(
    '\n',
  );
  writeFileSync(
    file,
    `(function (exports, require, module, __filename, __dirname) {'use strict';\n${functions}\n` +
      `let sum = 0; for (let i = 0; i < 200; i++) sum += eval('f' + i)(0);\n` +
      `process.stdout.write(JSON.stringify({ answer: ${answer}, sum, file: __filename, dir: __dirname, required: typeof require('node:path').join }) + '\\n');\n})`,
  );
  return file;
}

/** runs the bundle through runBundle in a new Node; what it printed, and the outcome of the cache */
function runIt(
  file: string,
  build = 'build-1',
  after = '',
): { printed: Record<string, unknown>; outcome: string } {
  const script = `import { runBundle } from ${JSON.stringify(codeCache)};
const outcome = runBundle(${JSON.stringify(file)}, { build: ${JSON.stringify(build)}, writeAfterMs: 60000 });
process.stdout.write(outcome + '\\n');
${after}`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(result.status, 0, result.stderr);
  const [printed, outcome] = result.stdout.trim().split('\n');
  return { printed: JSON.parse(printed!) as Record<string, unknown>, outcome: outcome! };
}

const expected = (file: string, answer = 42) => ({
  answer,
  sum: 19900,
  file,
  dir: join(file, '..'),
  required: 'function',
});

test('written at exit by the first run, used by the next, which write nothing', () => {
  const dir = makeTempDir('s7sup-code-cache-');
  const file = writeBundle(dir, 42);
  const first = runIt(file);
  assert.deepEqual(first, { printed: expected(file), outcome: 'missing' });
  const cache = readFileSync(`${file}.cache`);
  assert.match(
    cache.toString('latin1', 0, 200),
    /^s7supervisor code cache 1 build-1 \d+ [\d.]+ \w+ [\w.-]+\n/,
  );
  assert.deepEqual(runIt(file), { printed: expected(file), outcome: 'used' });
  assert.deepEqual(readFileSync(`${file}.cache`), cache, 'a cache that was used is not written again');
  assert.deepEqual(readdirSync(dir).sort(), ['b.cjs', 'b.cjs.cache'], 'no temporary file left');
});

test('startupDone writes the cache at once, with what ran until then', () => {
  const dir = makeTempDir('s7sup-code-cache-');
  const file = writeBundle(dir, 1);
  const { outcome } = runIt(
    file,
    'build-1',
    `const { startupDone } = await import(${JSON.stringify(codeCache)});
startupDone();
const { existsSync } = await import('node:fs');
if (!existsSync(${JSON.stringify(`${file}.cache`)})) throw new Error('not written at startupDone');`,
  );
  assert.equal(outcome, 'missing');
  assert.equal(runIt(file).outcome, 'used');
});

test("a cache is not used for another build, another file's contents or a changed file", () => {
  const dir = makeTempDir('s7sup-code-cache-');
  const file = writeBundle(dir, 42);
  runIt(file, 'build-1');
  assert.equal(runIt(file, 'build-1').outcome, 'used');
  // another build of the bundles: the cache is made anew for it
  assert.deepEqual(runIt(file, 'build-2'), { printed: expected(file), outcome: 'stale' });
  assert.equal(runIt(file, 'build-2').outcome, 'used');
  // the file edited in place, same length, same build id: its own code runs, not the cached one
  writeBundle(dir, 43);
  utimesSync(file, new Date(), new Date(Date.now() + 5000));
  assert.deepEqual(runIt(file, 'build-2'), { printed: expected(file, 43), outcome: 'stale' });
  assert.deepEqual(runIt(file, 'build-2'), { printed: expected(file, 43), outcome: 'used' });
});

test('a damaged cache is refused by V8 and replaced; nothing fails', () => {
  const dir = makeTempDir('s7sup-code-cache-');
  const file = writeBundle(dir, 42);
  runIt(file);
  const cache = readFileSync(`${file}.cache`);
  const headerEnd = cache.indexOf(10) + 1;
  // the header still fits, V8's part is garbage
  writeFileSync(
    `${file}.cache`,
    Buffer.concat([cache.subarray(0, headerEnd), Buffer.alloc(cache.length - headerEnd, 7)]),
  );
  assert.deepEqual(runIt(file), { printed: expected(file), outcome: 'refused by V8' });
  assert.equal(runIt(file).outcome, 'used');
});

test('where the cache cannot be written, the bundle runs the same, every time, and leaves nothing', () => {
  const dir = makeTempDir('s7sup-code-cache-');
  const file = writeBundle(dir, 42);
  // a folder where the cache would go: it can be neither read nor replaced (root writes anywhere else)
  mkdirSync(`${file}.cache`);
  for (let i = 0; i < 2; i++) assert.deepEqual(runIt(file), { printed: expected(file), outcome: 'missing' });
  assert.deepEqual(readdirSync(dir).sort(), ['b.cjs', 'b.cjs.cache']);
  assert.ok(existsSync(join(`${file}.cache`, '.')), 'still the folder');
});

test("the installed run's own cache: written by its first start, used by the next (run's V8 flag, set after the cache is made, does not make V8 refuse it)", async (t) => {
  t.after(killAllStarted);
  // a copy of the installed command, so that its cache is this test's own; the addon and the
  // dependencies are the checkout's
  const root = makeTempDir('s7sup-installed-');
  const cli = join(root, 'dist/src/cli');
  mkdirSync(cli, { recursive: true });
  for (const file of readdirSync(join(repoRoot, 'dist/src/cli')).filter((f) => f.endsWith('.cjs')))
    copyFileSync(join(repoRoot, 'dist/src/cli', file), join(cli, file));
  copyFileSync(join(repoRoot, 'package.json'), join(root, 'package.json'));
  for (const folder of ['build', 'node_modules']) symlinkSync(join(repoRoot, folder), join(root, folder));
  const home = writeRegistry([{ id: 'sleeper', command: 'sleep', args: ['60'], stopTimeout: 2 }]);
  const cache = join(cli, 'run.cjs.cache');

  const start = async () => {
    const running = runCli(['run', '--home', home, '--port', '0'], { bin: join(cli, 'main.cjs') });
    await running.waitForRecord((r) => r.msg === 'all priority groups started');
    const commandLine = readFileSync(`/proc/${running.pid}/cmdline`, 'utf8').split('\0');
    running.child.kill('SIGTERM');
    assert.equal(await running.exited, 0, running.stderr.join('\n'));
    return commandLine;
  };
  const commandLine = await start();
  // run sets its V8 flag from JavaScript after the cache was made: none on the command line
  assert.ok(commandLine[1]?.endsWith('main.cjs'), `a bare node: ${commandLine.join(' ')}`);
  await waitFor(() => existsSync(cache), { timeout: 5000, message: 'the cache written' });
  const written = { bytes: readFileSync(cache), mtimeMs: statSync(cache).mtimeMs };
  await start();
  // a cache that V8 refused (other flags) or that did not fit would have been written again
  assert.deepEqual(
    { bytes: readFileSync(cache), mtimeMs: statSync(cache).mtimeMs },
    written,
    'the second start used the cache and wrote nothing',
  );
});
