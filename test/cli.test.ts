import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from './helpers/processes.js';

test('no command prints usage and exits 2; --help exits 0', async () => {
  const bare = runCli([]);
  assert.equal(await bare.exited, 2);
  assert.match(bare.stdout.join('\n'), /usage: s7supervisor <command>/);
  const help = runCli(['--help']);
  assert.equal(await help.exited, 0);
  assert.match(help.stdout.join('\n'), /check/);
});

test('an unknown command is one readable line on stderr, exit 2, no stack trace', async () => {
  const cli = runCli(['frobnicate']);
  assert.equal(await cli.exited, 2);
  const err = cli.stderr.join('\n');
  assert.match(err, /unknown command 'frobnicate'/);
  assert.doesNotMatch(err, /at .*\.js:\d+/);
});
