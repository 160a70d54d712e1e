// Tini mode is quiet by default (issue 14 item 5), as tini is: `run -- CMD` prints what CMD prints
// and nothing else, and exits with its code. `--log-level info` brings the records back. A clean
// exit (code 0) is logged at info, not warn, in tini mode and in registry mode alike.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { killAllStarted, runCli } from '../helpers/processes.js';
import { writeRegistry } from '../helpers/registry.js';
import { freePort } from '../helpers/stack.js';

after(killAllStarted);

const INFO = 30;
const WARN = 40;

/** a free port for the HTTP endpoints (tini mode's default 9910 may be taken on a shared machine) */
async function portEnv(): Promise<NodeJS.ProcessEnv> {
  return { S7SUPERVISOR_PORT: String(await freePort()) };
}

test("run -- sh -c 'echo hi; exit 3': prints hi and nothing else, exits 3", async () => {
  const cli = runCli(['run', '--', 'sh', '-c', 'echo hi; exit 3'], { env: await portEnv() });
  assert.equal(await cli.exited, 3);
  assert.deepEqual(cli.stdout, ['hi']);
  assert.deepEqual(cli.stderr, []);
});

test('tini mode still logs real problems: a command that does not exist', async () => {
  const cli = runCli(['run', '--', '/nonexistent/command'], { env: await portEnv() });
  assert.equal(await cli.exited, 127);
  const records = cli.records();
  assert.ok(records.length > 0, 'the start failure is logged');
  assert.ok(
    records.every((r) => Number(r.level) >= WARN),
    JSON.stringify(records),
  );
});

test('tini mode with --log-level info: the records are back, and the exit that is our code is info', async () => {
  const cli = runCli(['run', '--log-level', 'info', '--', 'sh', '-c', 'echo hi; exit 3'], {
    env: await portEnv(),
  });
  assert.equal(await cli.exited, 3);
  assert.ok(cli.stdout.includes('hi'));
  const records = cli.records();
  assert.ok(records.some((r) => r.msg === 'component started'));
  assert.ok(records.some((r) => r.msg === 'supervisor exiting'));
  const exited = records.find((r) => r.msg === 'component exited with code 3');
  assert.equal(exited?.level, INFO, JSON.stringify(exited));
});

test('registry mode: a clean exit (code 0) is info, a crash is warn', async () => {
  const home = writeRegistry([
    { id: 'done', command: 'sh', args: ['-c', 'exit 0'], extra: '<restart policy="never"/>' },
    { id: 'crash', command: 'sh', args: ['-c', 'exit 5'], extra: '<restart policy="never"/>' },
    // keeps the supervisor up until both have exited
    { id: 'stay', command: 'sleep', args: ['60'] },
  ]);
  const cli = runCli(['run', '--home', home, '--log-level', 'info'], {});
  const clean = await cli.waitForRecord(
    (r) => r.component === 'done' && r.msg === 'component exited with code 0',
  );
  const crash = await cli.waitForRecord(
    (r) => r.component === 'crash' && r.msg === 'component exited with code 5',
  );
  assert.equal(clean.level, INFO);
  assert.equal(crash.level, WARN);
  cli.child.kill('SIGTERM');
  assert.equal(await cli.exited, 0);
});
