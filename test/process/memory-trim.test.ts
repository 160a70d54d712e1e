// After each full garbage collection the supervisor gives malloc's free pages back (malloc_trim,
// native/memory.c): the addon's call itself, and that a full collection triggers it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { loadNative } from '../../src/process/native.js';
import { repoRoot } from '../helpers/paths.js';

test('trimMemory: malloc_trim(0) on glibc, answering whether pages went back', () => {
  const released = loadNative().trimMemory();
  assert.equal(typeof released, 'boolean');
  // this Node runs on glibc (Debian): freed memory of a few MB leaves pages to give back
  const garbage = Array.from({ length: 64 }, () => Buffer.alloc(64 * 1024, 1));
  garbage.length = 0;
  assert.equal(typeof loadNative().trimMemory(), 'boolean');
});

test('a full garbage collection trims once it is over; none after the observer is stopped', () => {
  const module = pathToFileURL(join(repoRoot, 'dist/src/process/memory-trim.js')).href;
  const script = `import { trimAfterFullCollections } from ${JSON.stringify(module)};
let trims = 0;
const stop = trimAfterFullCollections({ trimMemory: () => { trims++; return true; } });
const settle = () => new Promise((resolve) => setTimeout(resolve, 100));
await settle();
const before = trims;
globalThis.gc();
await settle();
const afterFull = trims;
stop();
globalThis.gc();
await settle();
process.stdout.write(JSON.stringify({ before, afterFull, afterStop: trims }));`;
  const result = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(result.status, 0, result.stderr);
  const { before, afterFull, afterStop } = JSON.parse(result.stdout) as {
    before: number;
    afterFull: number;
    afterStop: number;
  };
  assert.ok(afterFull > before, `a full collection trimmed (${before} -> ${afterFull})`);
  assert.equal(afterStop, afterFull, 'stopped: no trim');
});
