// `run` binds its sockets before it starts the components and loads the HTTP app after
// (src/http/deferred.ts): requests in between wait for it, and the metrics count what happened
// before they existed.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { deferredListener, keepEarlyEvents } from '../../src/http/deferred.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { sampleValue } from '../helpers/exposition.js';
import { FakeView, status } from '../helpers/fake-view.js';

test('a request that comes before the app is loaded waits for it, then is answered', async () => {
  const deferred = deferredListener();
  const server = http.createServer(deferred.listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const answer = fetch(`http://127.0.0.1:${port}/livez`).then(async (r) => [r.status, await r.text()]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    deferred.serve((_req, res) => res.end('ok\n'));
    assert.deepEqual(await answer, [200, 'ok\n']);
    // and the next one goes straight to it
    assert.equal(await (await fetch(`http://127.0.0.1:${port}/livez`)).text(), 'ok\n');
  } finally {
    server.close();
  }
});

test('probes, reaps and reloads before the metrics exist are counted once they do; later ones once', async () => {
  const view = new FakeView([status('is', { pid: 4242 })]);
  const early = keepEarlyEvents(view);
  view.emit('check', 'is', 'readiness', false, 0.002);
  view.emit('check', 'is', 'readiness', true, 0.001);
  view.emit('reaped', 3);
  view.emit('reload', { result: 'failure', reason: 'line 3' });
  const metrics = createMetrics(early.view, { version: '1.0.0', pid1: false, defaultMetrics: false });
  early.stop();
  view.emit('check', 'is', 'liveness', true, 0.001);
  view.emit('reaped', 1);
  try {
    const { body } = await metrics.render();
    const v = (name: string, labels: Record<string, string> = {}) => sampleValue(body, name, labels);
    assert.equal(v('s7supervisor_check_failures_total', { component: 'is', check: 'readiness' }), 1);
    assert.equal(v('s7supervisor_check_duration_seconds_count', { component: 'is', check: 'readiness' }), 2);
    assert.equal(v('s7supervisor_check_duration_seconds_count', { component: 'is', check: 'liveness' }), 1);
    assert.equal(v('s7supervisor_zombies_reaped_total'), 4);
    assert.equal(v('s7supervisor_reloads_total', { result: 'failure' }), 1);
    // the view is the supervisor's for everything else
    assert.equal(early.view.components()[0]?.pid, 4242);
    assert.equal(early.view.phase, 'running');
    // nothing is kept any more: a listener added now hears only what comes next
    let heard = 0;
    early.view.on('reaped', () => heard++);
    assert.equal(heard, 0);
  } finally {
    metrics.close();
  }
});
