// The command line as installed is esbuild's bundle (scripts/bundle.mjs): main.js and its chunks
// beside it, importing no module of dist/src one by one (Node's loader costs more than the code:
// docs/performance.md), and without the dependency code `run` never executes.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { cliPath } from '../helpers/paths.js';

const cliDir = dirname(cliPath);
const chunks = readdirSync(cliDir).filter((file) => /^bundle-[A-Z0-9]+\.js$/.test(file));
const importsOf = (file: string) =>
  [
    ...readFileSync(join(cliDir, file), 'utf8').matchAll(/(?:from|import\()\s*["'](\.{1,2}\/[^"']+)["']/g),
  ].map((m) => m[1]!);

test('main.js and its chunks import no file but each other', () => {
  assert.ok(chunks.length > 0, 'the bundle step ran (npm run build)');
  for (const file of ['main.js', ...chunks])
    for (const specifier of importsOf(file))
      assert.match(specifier, /^\.\/bundle-[A-Z0-9]+\.js$/, `${file} imports ${specifier}`);
});

test("pino's worker-thread transports and OpenTelemetry are not in the bundle", () => {
  const all = chunks.map((file) => readFileSync(join(cliDir, file), 'utf8')).join('\n');
  assert.ok(!all.includes('new Worker('), 'no worker thread is ever made');
  assert.ok(!all.includes('@opentelemetry/api'), 'no OpenTelemetry');
  assert.ok(all.includes('pino transports are not part of s7supervisor'));
});
