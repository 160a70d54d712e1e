// End to end, through a real `s7supervisor run`: the state changes of a crash → backoff → restart,
// of a stop during backoff and of a restart-intensity give-up are each told exactly once, in
// order, with their reason, and the log records and GET /api/v1/events (SSE) tell the same story.
// (test/supervisor/core.test.ts asserts the same over the fake host, without processes.)
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import type { StateEvent } from '../../src/http/events.js';
import { sleeper, supervise } from '../control/harness.js';
import { killAllStarted } from '../helpers/processes.js';
import { openSse } from '../helpers/sse.js';
import { waitFor } from '../helpers/wait.js';

afterEach(() => killAllStarted());

type Change = [from: string, to: string, reason: string];

test('crash, stop during backoff and give-up: every change once, in order, with its reason; log and SSE agree', async () => {
  const sup = await supervise(
    [
      sleeper('svc', 1, { extra: '<restart backoffInitial="0.2" backoffMax="0.2"/>' }),
      sleeper('idle', 2, { extra: '<restart backoffInitial="60" backoffMax="60"/>' }),
    ],
    { tcp: true, config: '<restartIntensity max="3" period="60"/>' },
  );
  const stream = openSse({ url: sup.url('/api/v1/events') });
  await stream.response;
  await waitFor(() => stream.text().startsWith('retry: '), { message: 'the stream is open' });
  const seen = (id: string): Change[] =>
    stream
      .messages<StateEvent>()
      .filter((e) => e.component === id)
      .map((e) => [e.from, e.to, e.reason]);
  const running = async (id: string, runs: number) =>
    waitFor(
      async () => {
        const c = await sup.component(id);
        return c?.state === 'running' && seen(id).filter(([, to]) => to === 'running').length === runs
          ? c.pid
          : undefined;
      },
      { timeout: 20_000, message: `${id} running again (${runs})` },
    );

  // crash → backoff → restart
  process.kill((await sup.pids()).svc!, 'SIGKILL');
  await running('svc', 1);
  // a stop during backoff
  process.kill((await sup.pids()).idle!, 'SIGKILL');
  await waitFor(() => seen('idle').length === 1, { message: 'idle in backoff' });
  assert.equal((await sup.ctl(['stop', 'idle'])).code, 0);
  await waitFor(() => seen('idle').length === 2, { message: 'idle stopped' });
  // idle's restart counted too (it was due when it was called off): svc's second is the third of
  // max 3, its third one too many
  process.kill((await sup.pids()).svc!, 'SIGKILL');
  const pid = await running('svc', 2);
  process.kill(pid!, 'SIGKILL');
  assert.equal(await sup.run.exited, 1, 'gave up: exit 1');
  stream.close();

  const backoff = ['running', 'backoff', 'restarting after signal SIGKILL'];
  const restarted: Change[] = [
    ['backoff', 'starting', 'backoff over: starting again'],
    ['starting', 'running', 'ready'],
  ];
  assert.deepEqual(seen('svc'), [
    backoff,
    ...restarted,
    backoff,
    ...restarted,
    ['running', 'stopped', 'exited with signal SIGKILL: restart intensity exceeded, giving up'],
  ]);
  assert.deepEqual(seen('idle'), [backoff, ['backoff', 'stopped', 'stopped by operator']]);

  // the log: the same changes, the same order, the same reasons (from the first SSE event on)
  const logged = (id: string): Change[] =>
    sup.run
      .records()
      .filter((r) => r.msg === 'state change' && r.component === id)
      .map((r) => [String(r.from), String(r.to), String(r.reason)]);
  for (const id of ['svc', 'idle']) {
    const fromStart = logged(id);
    const sinceStream = fromStart.slice(fromStart.length - seen(id).length);
    assert.deepEqual(sinceStream, seen(id), `${id}: the log and the events stream agree`);
    assert.deepEqual(
      fromStart.slice(0, 2).map(([from, to]) => [from, to]),
      [
        ['stopped', 'starting'],
        ['starting', 'running'],
      ],
      `${id}: started once before the stream opened`,
    );
    assert.equal(fromStart.length, 2 + seen(id).length, `${id}: nothing else was logged`);
  }
});
