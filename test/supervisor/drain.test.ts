// Drain before stop (design.md §3 rev. 2): with <shutdownDelay>, the first SIGTERM turns /readyz
// 503 at once while every component keeps running; they stop only after the delay. A second
// signal during the delay cuts it short (an ordered stop, exit 0); the one after that forces
// (SIGKILL, exit 128+N).
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { type Supervised, sleeper, supervise } from '../control/harness.js';
import { isAlive, killAllStarted } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

afterEach(() => killAllStarted());

async function readyzStatus(sup: Supervised): Promise<number> {
  const response = await fetch(sup.url('/readyz'));
  await response.arrayBuffer();
  return response.status;
}

/** ms from `t0` until the log says the first component is being stopped */
async function firstStopAfter(sup: Supervised, timeout: number): Promise<number> {
  await sup.run.waitForRecord((r) => r.msg === 'stopping component', timeout);
  const record = sup.run.records().find((r) => r.msg === 'stopping component');
  return Number(record?.time);
}

test('shutdownDelay 2: /readyz 503 within 100 ms of SIGTERM, components run on, stop after ~2 s, exit 0', async () => {
  const sup = await supervise([sleeper('a', 1), sleeper('b', 2, { priority: 2 })], {
    tcp: true,
    config: '<shutdownDelay>2</shutdownDelay>',
  });
  assert.equal(await readyzStatus(sup), 200);
  const pids = await sup.pids();
  const sent = Date.now();
  process.kill(sup.run.pid, 'SIGTERM');
  await waitFor(async () => (await readyzStatus(sup)) === 503, { interval: 5, message: '/readyz 503' });
  const turned = Date.now() - sent;
  assert.ok(turned < 100, `/readyz turned 503 ${turned} ms after SIGTERM`);
  const verbose = await (await fetch(sup.url('/readyz?verbose'))).text();
  assert.match(verbose, /\[-\]shutdown not ready: shutting down/);

  // during the delay: every component runs, same processes, nothing told to stop
  const during = await sup.components();
  assert.deepEqual(
    during.map((c) => [c.id, c.state, c.pid]),
    [
      ['a', 'running', pids.a],
      ['b', 'running', pids.b],
    ],
  );
  assert.ok(isAlive(pids.a!) && isAlive(pids.b!));
  assert.ok(!sup.run.records().some((r) => r.msg === 'stopping component'));

  const stopAt = await firstStopAfter(sup, 10_000);
  const delay = stopAt - sent;
  assert.ok(delay >= 1950 && delay < 3500, `components were told to stop ${delay} ms after SIGTERM`);
  assert.equal(await waitFor(() => sup.run.exitCode(), { timeout: 15_000, message: 'exit' }), 0);
  assert.ok(!isAlive(pids.a!) && !isAlive(pids.b!));
  assert.ok(sup.run.records().some((r) => String(r.msg).startsWith('draining: /readyz answers 503')));
});

test('a second SIGTERM during the delay stops at once, in order, and still exits 0', async () => {
  const sup = await supervise([sleeper('a', 1), sleeper('b', 2)], {
    tcp: true,
    config: '<shutdownDelay>30</shutdownDelay>',
  });
  process.kill(sup.run.pid, 'SIGTERM');
  await waitFor(async () => (await readyzStatus(sup)) === 503, { interval: 5, message: '/readyz 503' });
  assert.equal((await sup.component('a'))?.state, 'running');
  const second = Date.now();
  process.kill(sup.run.pid, 'SIGTERM');
  const stopAt = await firstStopAfter(sup, 5_000);
  assert.ok(stopAt - second < 1000, `stop began ${stopAt - second} ms after the second SIGTERM`);
  assert.equal(await waitFor(() => sup.run.exitCode(), { timeout: 10_000, message: 'exit' }), 0);
  assert.ok(!sup.run.records().some((r) => String(r.msg).includes('SIGKILL to every component')));
});

test('the third signal (the second once the components are stopping) forces: SIGKILL, exit 128+N', async () => {
  // a component that ignores SIGTERM (so does its sleep, which inherits the ignored disposition)
  const stubborn = {
    id: 'stubborn',
    command: '/bin/sh',
    args: ['-c', 'trap "" TERM; while :; do sleep 1; done'],
    stopTimeout: 60,
  };
  const sup = await supervise([stubborn], { tcp: true, config: '<shutdownDelay>30</shutdownDelay>' });
  const pid = (await sup.component('stubborn'))?.pid;
  process.kill(sup.run.pid, 'SIGINT');
  await waitFor(async () => (await readyzStatus(sup)) === 503, { interval: 5, message: '/readyz 503' });
  process.kill(sup.run.pid, 'SIGINT');
  await firstStopAfter(sup, 5_000);
  assert.equal(sup.run.exitCode(), undefined, 'still waiting for the stubborn component');
  process.kill(sup.run.pid, 'SIGINT');
  assert.equal(await waitFor(() => sup.run.exitCode(), { timeout: 10_000, message: 'exit' }), 130);
  await waitFor(() => !isAlive(pid!), { message: 'the stubborn component SIGKILLed' });
});
