// The control routes on the TCP port of a real supervisor (design.md §4): absent without
// S7SUPERVISOR_CONTROL_TOKEN; with it, a missing or wrong Bearer token is refused and acts not,
// the right one acts. The control socket needs no token either way.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { killAllStarted } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';
import { sleeper, socketRequest, supervise } from './harness.js';

afterEach(() => killAllStarted());

const token = 'tok-3f9a1c7e5b2d';

test('no token configured: the control routes are 404 on the TCP port and act not; the socket still controls', async () => {
  const sup = await supervise([sleeper('a', 1), sleeper('b', 2)], { tcp: true });
  const before = await sup.pids();
  for (const path of [
    '/api/v1/components/a/restart',
    '/api/v1/components/a/stop',
    '/api/v1/restart',
    '/api/v1/reload',
  ]) {
    for (const headers of [{}, { authorization: `Bearer ${token}` }] as Array<Record<string, string>>) {
      const response = await fetch(sup.url(path), { method: 'POST', headers });
      assert.equal(response.status, 404, `POST ${path}`);
    }
  }
  assert.deepEqual(await sup.pids(), before);
  const answer = await socketRequest(sup.socket, '/api/v1/components/a/restart', 'POST');
  assert.equal(answer.status, 200);
  await waitFor(async () => (await sup.component('a'))?.pid !== before.a, { message: 'a restarted' });
  assert.equal(await sup.stop(), 0);
});

test('token configured: missing and wrong are 401 and act not; the right one acts; the socket needs none', async () => {
  const sup = await supervise([sleeper('a', 1), sleeper('b', 2)], { tcp: true, token });
  const before = await sup.pids();
  const post = (path: string, headers: Record<string, string> = {}) =>
    fetch(sup.url(path), { method: 'POST', headers });

  for (const headers of [
    {},
    { authorization: 'Bearer wrong-token' },
    { authorization: `Bearer ${token}x` },
    { authorization: `Basic ${Buffer.from(`x:${token}`).toString('base64')}` },
    { authorization: token },
  ] as Array<Record<string, string>>) {
    for (const path of ['/api/v1/components/a/stop', '/api/v1/restart', '/api/v1/reload']) {
      const response = await post(path, headers);
      assert.equal(response.status, 401, `${path} with ${JSON.stringify(headers)}`);
      assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="s7supervisor"');
    }
  }
  assert.deepEqual(await sup.pids(), before, 'nothing was touched');
  assert.equal((await sup.component('a'))?.state, 'running');

  const stop = await post('/api/v1/components/a/stop', { authorization: `Bearer ${token}` });
  assert.equal(stop.status, 200);
  assert.deepEqual(await stop.json(), { ok: true, message: 'a stopped' });
  await waitFor(async () => (await sup.component('a'))?.state === 'stopped', { message: 'a stopped' });
  assert.equal((await sup.pids()).b, before.b);

  const unknown = await post('/api/v1/components/nope/start', { authorization: `Bearer ${token}` });
  assert.equal(unknown.status, 404);

  const start = await post('/api/v1/components/a/start', { authorization: `bearer  ${token}` });
  assert.equal(start.status, 200);
  await waitFor(async () => (await sup.component('a'))?.state === 'running', { message: 'a running again' });

  const reload = await post('/api/v1/reload', { authorization: `Bearer ${token}` });
  assert.equal(reload.status, 200);
  assert.deepEqual(((await reload.json()) as { changes: unknown }).changes, {
    added: [],
    removed: [],
    restarted: [],
    updated: [],
    unchanged: ['a', 'b'],
  });

  // the CLI, over the socket, needs no token
  const cliStop = await sup.ctl(['stop', 'b']);
  assert.equal(cliStop.code, 0, cliStop.stderr);
  // and the token is nowhere to be read back
  for (const path of ['/', '/api/v1/components', '/metrics']) {
    const body = await (await fetch(sup.url(path))).text();
    assert.ok(!body.includes(token), `${path} shows the token`);
  }
  assert.equal(await sup.stop(), 0);
});
