// Chaos: the supervisor's own stdout goes to a reader that stops reading (a stuck log shipper),
// or that goes away. Supervision must go on meanwhile, and SIGTERM must still end it within a
// bound (design.md §3 rev. 2, "Bounded exits"): before, it waited forever in its final log flush.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { socketRequest } from '../control/harness.js';
import { cliPath } from '../helpers/paths.js';
import { killGroup } from '../helpers/processes.js';
import { writeRegistry } from '../helpers/registry.js';
import { waitFor } from '../helpers/wait.js';

const groups = new Set<number>();
after(() => {
  for (const pgid of groups) killGroup(pgid);
});

interface ComponentJson {
  id: string;
  state: string;
  pid?: number;
  restarts: number;
}

/**
 * a registry with a component that prints 3 MB and one that crash-loops; in raw mode the 3 MB go
 * through a relay thread (src/log/relay.ts), which then waits on the full pipe holding its lines
 */
function stallRegistry(output: 'json' | 'raw'): string {
  return writeRegistry(
    [
      {
        id: 'chatty',
        command: 'sh',
        args: ['-c', "head -c 3000000 /dev/zero | tr '\\0' x | fold -w 100; exec sleep 1000"],
        stopTimeout: 2,
        extra: `<output>${output}</output>`,
      },
      {
        id: 'crasher',
        command: 'sh',
        args: ['-c', 'sleep 0.2; exit 1'],
        stopTimeout: 2,
        extra: '<restart policy="always" backoffInitial="0.1" backoffMax="0.1" resetAfter="60"/>',
      },
    ],
    '<restartIntensity max="100000" period="60"/><shutdownTimeout>10</shutdownTimeout>',
  );
}

/** starts `run` with its stdout on the write end of a fresh FIFO whose read end we hold */
async function startWithFifoStdout(home: string) {
  const fifo = join(home, 'stdout.fifo');
  const made = spawn('mkfifo', [fifo]);
  await new Promise((resolve) => made.once('exit', resolve));
  // our end first (non-blocking, so opening does not wait for a writer), then theirs
  const readerFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writerFd = openSync(fifo, constants.O_WRONLY);
  const child = spawn(process.execPath, [cliPath, 'run', '--home', home, '--port', '0'], {
    detached: true,
    stdio: ['ignore', writerFd, 'ignore'],
    env: { ...process.env, S7SUPERVISOR_SOCKET: '', S7SUPERVISOR_REGISTRY: '', S7SUPERVISOR_HOME: '' },
  });
  closeSync(writerFd);
  groups.add(child.pid!);
  let exitCode: number | undefined;
  child.once('exit', (code) => {
    exitCode = code ?? 128;
  });
  const socket = join(home, 'temp/s7supervisor.sock');
  const components = async () => {
    const { body } = await socketRequest(socket, '/api/v1/components');
    return (JSON.parse(body) as { components: ComponentJson[] }).components;
  };
  return { child, exitCode: () => exitCode, readerFd, components };
}

async function supervisionGoesOn(components: () => Promise<ComponentJson[]>): Promise<void> {
  const restartsOf = async () => (await components()).find((c) => c.id === 'crasher')?.restarts ?? 0;
  const before = await waitFor(restartsOf, { timeout: 10_000, message: 'the crasher restarting' });
  await waitFor(async () => (await restartsOf()) >= before + 3, {
    timeout: 10_000,
    message: 'three more restarts of the crasher while stdout is stalled',
  });
}

for (const output of ['json', 'raw'] as const)
  describe(`stdout stalled or closed, chatty component in ${output} mode`, { timeout: 90_000 }, () => {
    test('a reader that stops reading: supervision goes on, and SIGTERM ends it within the bound', async () => {
      const home = stallRegistry(output);
      const run = await startWithFifoStdout(home);
      try {
        await supervisionGoesOn(run.components);
        const chatty = (await run.components()).find((c) => c.id === 'chatty');
        assert.equal(chatty?.state, 'running', 'the chatty component is held back by its pipe, not killed');
        const sentAt = Date.now();
        process.kill(run.child.pid!, 'SIGTERM');
        // stop timeouts (2 s) + final flush (2 s) + listeners (2 s), with room for a loaded machine
        const code = await waitFor(() => run.exitCode(), {
          timeout: 12_000,
          message: 'exit after SIGTERM with stdout stalled',
        });
        console.log(`stdout stalled (${output}): exit ${code} ${Date.now() - sentAt} ms after SIGTERM`);
        assert.equal(code, 0);
      } finally {
        closeSync(run.readerFd);
      }
    });

    test('a reader that goes away: supervision goes on, and SIGTERM ends it at once', async () => {
      const home = stallRegistry(output);
      const run = await startWithFifoStdout(home);
      closeSync(run.readerFd);
      await supervisionGoesOn(run.components);
      const sentAt = Date.now();
      process.kill(run.child.pid!, 'SIGTERM');
      const code = await waitFor(() => run.exitCode(), {
        timeout: 10_000,
        message: 'exit after SIGTERM with stdout closed',
      });
      console.log(`stdout closed (${output}): exit ${code} ${Date.now() - sentAt} ms after SIGTERM`);
      assert.equal(code, 0);
    });
  });
