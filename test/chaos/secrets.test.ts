// Secrets: S7SUPERVISOR_CONTROL_TOKEN is the operator's. With it set in the supervisor's
// environment, neither a component (its /proc/PID/environ, its own `env` output) nor an exec
// check (`env` written to a file by a readiness check) sees it, while the rest of the environment
// still reaches both. It is not in the log either.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { makeTempDir } from '../helpers/paths.js';
import { killAllStarted, runCli } from '../helpers/processes.js';
import { writeRegistry } from '../helpers/registry.js';
import { freePort } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';
import { getText } from './chaos.js';

after(() => killAllStarted());

function environ(pid: number): string[] {
  return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
}

test('the control token reaches neither a component nor an exec check; the rest of the environment does', async () => {
  const token = `chaos-token-${randomBytes(12).toString('hex')}`;
  const canary = `canary-${randomBytes(6).toString('hex')}`;
  const dir = makeTempDir('s7sup-secrets-');
  const componentEnv = join(dir, 'component.env');
  const checkEnv = join(dir, 'check.env');
  const port = await freePort();
  const home = writeRegistry(
    [
      {
        id: 'app',
        command: 'sh',
        args: ['-c', `env > '${componentEnv}'; exec sleep 100000`],
        // renamed into place: the check runs again every 0.2 s, and the test must never read the
        // file just truncated by the next run
        extra: `<readiness type="exec" command="sh" interval="0.2" timeout="2">
          <argument>-c</argument><argument>env > '${checkEnv}.tmp' &amp;&amp; mv '${checkEnv}.tmp' '${checkEnv}'</argument>
        </readiness>`,
      },
    ],
    `<tcpport>${port}</tcpport><host>127.0.0.1</host>`,
  );
  const cli = runCli(['run', '--home', home, '--log-level', 'debug'], {
    env: { S7SUPERVISOR_CONTROL_TOKEN: token, CHAOS_CANARY: canary },
  });
  // the token is really set: the supervisor has it, and the control routes take it
  await waitFor(
    async () => (await getText(`http://127.0.0.1:${port}/api/v1/components/app`)).body.includes('"running"'),
    { timeout: 15_000, message: 'app running (its exec readiness check passed)' },
  );
  assert.ok(
    environ(cli.pid).includes(`S7SUPERVISOR_CONTROL_TOKEN=${token}`),
    "the supervisor's own environment",
  );
  const unauthorized = await fetch(`http://127.0.0.1:${port}/api/v1/reload`, { method: 'POST' });
  assert.equal(unauthorized.status, 401, 'control over TCP needs the token: it is configured');

  const started = cli.records().find((r) => r.msg === 'component started' && r.component === 'app')!;
  const appEnviron = environ(Number(started.pid));
  const fromComponent = readFileSync(componentEnv, 'utf8').split('\n');
  const fromCheck = readFileSync(checkEnv, 'utf8').split('\n');
  for (const [what, lines] of [
    ['/proc/PID/environ of the component', appEnviron],
    ["the component's env output", fromComponent],
    ["the exec check's env output", fromCheck],
  ] as const) {
    assert.ok(lines.includes(`CHAOS_CANARY=${canary}`), `${what} has the rest of the environment`);
    assert.deepEqual(
      lines.filter((line) => line.includes(token) || line.startsWith('S7SUPERVISOR_CONTROL_TOKEN=')),
      [],
      `${what} has no control token`,
    );
  }
  assert.deepEqual(
    [...cli.stdout, ...cli.stderr].filter((line) => line.includes(token)),
    [],
    'the token is not in the log',
  );
  console.log(
    `secrets: token withheld from /proc/PID/environ (${appEnviron.length} variables), component env (${fromComponent.length - 1}), exec check env (${fromCheck.length - 1})`,
  );
  process.kill(cli.pid, 'SIGTERM');
  assert.equal(
    await waitFor(() => cli.exitCode(), { timeout: 20_000, message: 'the supervisor to exit' }),
    0,
  );
});
