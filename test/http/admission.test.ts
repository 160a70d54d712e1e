// Admission control on the TCP port (src/http/admission.ts): everything but the probes is served
// at a bounded rate, the excess waits in arrival order, and only a full queue or a long wait gets a
// 503 with Retry-After. The probes never wait. The control socket has no such bound. Real app,
// real port, real timers (small limits, so that the waits are short).
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { performance } from 'node:perf_hooks';
import { after, test } from 'node:test';
import { type AdmissionLimits, createHttpApp, defaultAdmission, listenHttp } from '../../src/http/index.js';
import { FakeView, status } from '../helpers/fake-view.js';

const servers: Server[] = [];
after(() => {
  for (const server of servers) {
    server.closeAllConnections();
    server.close();
  }
});

async function serve(admission: AdmissionLimits) {
  const view = new FakeView([status('is')]);
  const app = createHttpApp({ version: '9.9.9', view, admission });
  after(() => {
    app.metrics.close();
    app.snapshots.close();
  });
  const server = await listenHttp(app, '127.0.0.1', 0);
  servers.push(server);
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return async (path: string, init?: RequestInit) => {
    const started = performance.now();
    const response = await fetch(`http://127.0.0.1:${address.port}${path}`, init);
    await response.text();
    return {
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
      ms: performance.now() - started,
    };
  };
}

test('beyond the rate, requests wait their turn (none refused) while the probes answer at once', async () => {
  const get = await serve({ ratePerSecond: 20, burst: 2, maxQueued: 100, maxWaitMs: 5000 });
  // express is loaded on the first request it gets, and prom-client's first rendering is slow too
  // (one-time pauses of a few hundred ms): not during the measurement
  assert.equal((await get('/nope')).status, 404);
  assert.equal((await get('/metrics')).status, 200);
  await new Promise((resolve) => setTimeout(resolve, 100)); // the burst is full again
  const started = performance.now();
  const paths = ['/api/v1/components', '/', '/metrics', '/nope'];
  const finished: number[] = [];
  const storm = Promise.all(
    Array.from({ length: 12 }, async (_, i) => {
      const answer = await get(paths[i % paths.length]!);
      finished.push(performance.now());
      return answer;
    }),
  );
  // while 10 of them wait (10 / 20 per second: the last about 0.5 s), a probe does not wait its
  // turn: had it queued, it would come after all 12 (the client runs here too, so time alone says
  // little on a busy machine)
  const probe = await get('/livez');
  const probeDone = performance.now();
  const answers = await storm;
  const elapsed = performance.now() - started;
  assert.equal(probe.status, 200);
  const before = finished.filter((at) => at < probeDone).length;
  assert.ok(before <= 9, `the probe was answered after ${before} of the 12 (${Math.round(probe.ms)} ms)`);
  assert.deepEqual(
    answers.map((a) => a.status),
    [200, 200, 200, 404, 200, 200, 200, 404, 200, 200, 200, 404],
  );
  assert.ok(elapsed >= 400, `12 requests at 20/s with a burst of 2 took only ${elapsed} ms`);
  assert.ok(elapsed < 3000, `took ${elapsed} ms`);
});

test('a full queue or a long wait is a 503 with Retry-After', async () => {
  const full = await serve({ ratePerSecond: 1, burst: 1, maxQueued: 2, maxWaitMs: 5000 });
  const answers = await Promise.all(Array.from({ length: 6 }, () => full('/api/v1/components')));
  const statuses = answers.map((a) => a.status).sort();
  // one at once, two waiting (served 1 s and 2 s later), three refused
  assert.deepEqual(statuses, [200, 200, 200, 503, 503, 503]);
  for (const refused of answers.filter((a) => a.status === 503)) {
    assert.equal(refused.retryAfter, '1');
    assert.ok(refused.ms < 500, `a refusal took ${refused.ms} ms`);
  }

  const slow = await serve({ ratePerSecond: 1, burst: 1, maxQueued: 10, maxWaitMs: 200 });
  const [first, second] = await Promise.all([slow('/'), slow('/')]);
  assert.equal(first?.status, 200);
  assert.equal(second?.status, 503, 'waited more than 200 ms for a token due in 1 s');
  assert.equal(second?.retryAfter, '1');
});

test('the TCP port has the default bound; the control socket (a trusted caller) none', () => {
  const view = new FakeView([status('is')]);
  const tcp = createHttpApp({ version: '9.9.9', view, control: view, controlToken: 'a-token-of-16-chars' });
  const socket = createHttpApp({ version: '9.9.9', view, control: view, trustCaller: true });
  after(() => {
    for (const app of [tcp, socket]) {
      app.metrics.close();
      app.snapshots.close();
    }
  });
  assert.deepEqual(tcp.admission?.limits, defaultAdmission);
  assert.equal(socket.admission, undefined);
});
