import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { after, test } from 'node:test';
import { watchReadyFd } from '../../src/health/fd.js';
import { killGroup } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const started: number[] = [];
after(() => {
  for (const pgid of started) killGroup(pgid);
});

function spawnWithFd3(script: string) {
  const child = spawn('sh', ['-c', script], {
    detached: true,
    stdio: ['ignore', 'ignore', 'inherit', 'pipe'],
  });
  if (child.pid) started.push(child.pid);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, fd3: child.stdio[3] as Readable, exited };
}

test('ready once, when the component writes a newline to its descriptor', async () => {
  const { fd3 } = spawnWithFd3(
    'printf "warming up" >&3; sleep 0.3; printf "\\n" >&3; printf "\\n" >&3; sleep 60',
  );
  let readyCalls = 0;
  watchReadyFd(fd3, () => readyCalls++);
  await waitFor(() => readyCalls === 1, { timeout: 10_000, message: 'readiness' });
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(readyCalls, 1);
});

test('no newline, no readiness, even when the descriptor is closed', async () => {
  const { fd3, exited } = spawnWithFd3('printf "no newline" >&3; exec 3>&-; exit 0');
  let ready = false;
  watchReadyFd(fd3, () => {
    ready = true;
  });
  assert.equal(await exited, 0);
  await new Promise<void>((resolve) => (fd3.readableEnded ? resolve() : fd3.once('end', resolve)));
  assert.equal(ready, false);
});

test('a component that keeps writing after readiness neither blocks nor dies of SIGPIPE', async () => {
  // 4 MiB is far beyond a pipe's buffer: it only finishes if someone keeps reading
  const { fd3, exited } = spawnWithFd3('echo >&3; head -c 4194304 /dev/zero >&3; exit 0');
  let ready = false;
  watchReadyFd(fd3, () => {
    ready = true;
  });
  assert.equal(await exited, 0);
  assert.equal(ready, true);
});
