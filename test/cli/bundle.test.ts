// The command line as installed is esbuild's bundles (scripts/bundle.mjs): main.cjs, the bin, runs
// run.cjs, convert.cjs or cli.cjs, each one file that loads no module of dist/src one by one
// (Node's loader costs more than the code: docs/performance.md), each command in the bundle the
// bin sends it to, and without the dependency code `run` never executes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { cliPath } from '../helpers/paths.js';

const cliDir = dirname(cliPath);
const bundles = ['run.cjs', 'convert.cjs', 'cli.cjs'];
const read = (file: string) => readFileSync(join(cliDir, file), 'utf8');
/** what a file loads by a relative path */
const relativeLoads = (text: string) =>
  [...text.matchAll(/(?:require\(|from\s*|import\(\s*|import\s+)["'](\.{1,2}\/[^"']+)["']/g)].map(
    (m) => m[1]!,
  );

test('the bin is main.cjs; main.cjs and the bundles load no file of dist/src, main.js only main.cjs', () => {
  const pkg = JSON.parse(readFileSync(join(cliDir, '../../../package.json'), 'utf8')) as {
    bin: Record<string, string>;
  };
  assert.equal(pkg.bin.s7supervisor, 'dist/src/cli/main.cjs');
  assert.equal(cliPath, join(cliDir, 'main.cjs'));
  for (const file of ['main.cjs', ...bundles]) assert.deepEqual(relativeLoads(read(file)), [], file);
  assert.deepEqual(relativeLoads(read('main.js')), ['./main.cjs']);
  for (const file of bundles) {
    // what main.cjs compiles with vm.Script: Node's module wrapper around the bundle, strict
    assert.match(
      read(file),
      /^\(function \(exports, require, module, __filename, __dirname\) \{'use strict';/,
    );
    // a vm.Script has no loader for import()
    assert.doesNotMatch(read(file), /[^\w$.]import\(/, `${file} has no import()`);
  }
});

test("pino's transports, OpenTelemetry and prom-client's Pushgateway are not in run's bundle; sonic-boom's assert is lazy", () => {
  const run = read('run.cjs');
  assert.ok(!run.includes('new Worker('), 'no worker thread is ever made');
  assert.ok(!run.includes('@opentelemetry/api'), 'no OpenTelemetry');
  assert.ok(run.includes('pino transports are not part of s7supervisor'));
  assert.ok(run.includes('the Pushgateway of prom-client is not part of s7supervisor'));
  assert.ok(
    !run.includes('require("https")') && !run.includes('require("zlib")'),
    'nothing loads https or zlib',
  );
  assert.equal(run.match(/require\("(node:)?assert"\)/g)?.length, 1, 'node:assert only behind the lazy shim');
  // yaml is convert's alone
  assert.ok(read('convert.cjs').includes('YAMLParseError'));
  assert.ok(!run.includes('YAMLParseError') && !read('cli.cjs').includes('YAMLParseError'));
});

test('every command runs from the bundle the bin picks for it: its help, through main.cjs and main.js', () => {
  const commands = [
    'run',
    'check',
    'status',
    'start',
    'stop',
    'restart',
    'logs',
    'reload',
    'signal',
    'convert',
    'probe',
  ];
  for (const bin of ['main.cjs', 'main.js'])
    for (const argv of [...commands.map((c) => [c, '--help']), ...commands.map((c) => ['help', c])]) {
      const result = spawnSync(process.execPath, [join(cliDir, bin), ...argv], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(result.status, 0, `${bin} ${argv.join(' ')}: ${result.stderr}`);
      assert.match(
        result.stdout,
        new RegExp(`^usage: s7supervisor ${argv.at(-1) === '--help' ? argv[0] : argv[1]}\\b`),
      );
    }
  const version = spawnSync(process.execPath, [cliPath, 'version'], { encoding: 'utf8' });
  assert.equal(version.status, 0);
  assert.match(version.stdout, /^\d+\.\d+\.\d+/);
  const typo = spawnSync(process.execPath, [cliPath, 'rnu'], { encoding: 'utf8' });
  assert.equal(typo.status, 2);
  assert.match(typo.stderr, /did you mean run\?/);
});
