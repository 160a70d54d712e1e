import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { createHttpApp, type HttpAppOptions, listenHttp } from '../../src/http/index.js';
import { FakeView, status } from '../helpers/fake-view.js';

const servers: Server[] = [];
after(() => {
  for (const server of servers) {
    server.closeAllConnections();
    server.close();
  }
});

/** the real app on a real loopback port; returns a fetch bound to it */
async function serve(options: Omit<HttpAppOptions, 'version'> & { version?: string }) {
  const app = createHttpApp({ version: '9.9.9', ...options });
  const server = await listenHttp(app, '127.0.0.1', 0);
  servers.push(server);
  after(() => app.metrics.close());
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  const base = `http://127.0.0.1:${address.port}`;
  return async (path: string, init?: RequestInit) => {
    const response = await fetch(`${base}${path}`, init);
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      headers: response.headers,
      body: await response.text(),
    };
  };
}

describe('/readyz', () => {
  const view = new FakeView([status('is'), status('svg'), status('ps')]);
  let get: Awaited<ReturnType<typeof serve>>;
  before(async () => {
    get = await serve({ view });
  });

  test('200 ok when every critical component is ready', async () => {
    const r = await get('/readyz');
    assert.deepEqual([r.status, r.body], [200, 'ok\n']);
    assert.equal(r.type, 'text/plain; charset=utf-8');
    assert.equal(r.headers.get('cache-control'), 'no-store');
    const verbose = await get('/readyz?verbose');
    assert.deepEqual(
      [verbose.status, verbose.body],
      [200, '[+]is ok\n[+]svg ok\n[+]ps ok\nreadyz check passed\n'],
    );
  });

  test('503 while a critical component is not ready, with the reason in verbose', async () => {
    view.set('ps', { state: 'starting', ready: false, notReadyReason: 'readiness: HTTP 503' });
    const r = await get('/readyz');
    assert.deepEqual([r.status, r.body], [503, 'readyz check failed\n']);
    const verbose = await get('/readyz?verbose');
    assert.equal(verbose.status, 503);
    assert.equal(
      verbose.body,
      '[+]is ok\n[+]svg ok\n[-]ps not ready: readiness: HTTP 503\nreadyz check failed\n',
    );
    // the reason falls back to the state
    view.set('ps', { state: 'backoff', ready: false, notReadyReason: undefined });
    assert.match((await get('/readyz?verbose')).body, /^\[-\]ps not ready: backoff$/m);
  });

  test('?exclude (repeatable) leaves components out; unknown names are warned about', async () => {
    assert.equal((await get('/readyz?exclude=ps')).status, 200);
    view.set('is', { state: 'stopped', ready: false, notReadyReason: 'stopped by operator' });
    assert.equal((await get('/readyz?exclude=ps')).status, 503);
    const r = await get('/readyz?verbose&exclude=ps&exclude=is&exclude=nope');
    assert.equal(r.status, 200);
    assert.equal(
      r.body,
      [
        '[+]is excluded: ok',
        '[+]svg ok',
        '[+]ps excluded: ok',
        'warn: some health checks cannot be excluded: no matches for "nope"',
        'readyz check passed',
        '',
      ].join('\n'),
    );
    view.set('is', { state: 'running', ready: true, notReadyReason: undefined });
  });

  test('a non-critical component is marked and not counted', async () => {
    view.set('ps', { state: 'running', ready: true });
    view.set('svg', { critical: false, state: 'fatal', ready: false, notReadyReason: 'cannot execute' });
    const r = await get('/readyz?verbose');
    assert.equal(r.status, 200);
    assert.match(r.body, /^\[-\]svg not ready: cannot execute \(not critical, not counted\)$/m);
    view.set('svg', { ready: true, state: 'running' });
    assert.match((await get('/readyz?verbose')).body, /^\[\+\]svg ok \(not critical\)$/m);
  });

  test('fails as soon as shutdown begins, with every component still ready', async () => {
    view.phase = 'stopping';
    const r = await get('/readyz?verbose');
    assert.equal(r.status, 503);
    assert.match(r.body, /^\[-\]shutdown not ready: shutting down$/m);
    assert.equal((await get('/readyz/is')).status, 503);
    // still alive while draining
    assert.equal((await get('/livez')).status, 200);
    view.phase = 'running';
  });

  test('/readyz/ID: one component; unknown id is 404', async () => {
    assert.deepEqual(await get('/readyz/is').then((r) => [r.status, r.body]), [200, 'ok\n']);
    view.set('ps', { state: 'starting', ready: false, notReadyReason: 'starting' });
    assert.deepEqual(await get('/readyz/ps').then((r) => [r.status, r.body]), [
      503,
      '[-]ps not ready: starting\nreadyz check failed\n',
    ]);
    assert.deepEqual(await get('/readyz/nope').then((r) => [r.status, r.body]), [
      404,
      'no component "nope"\n',
    ]);
  });
});

describe('/livez', () => {
  test('200 until the supervisor gives up; components do not make it fail', async () => {
    const view = new FakeView([status('is', { state: 'fatal', ready: false })]);
    const get = await serve({ view });
    assert.deepEqual(await get('/livez').then((r) => [r.status, r.body]), [200, 'ok\n']);
    assert.deepEqual(
      await get('/livez?verbose').then((r) => r.body),
      '[+]supervisor ok\nlivez check passed\n',
    );
    view.phase = 'gave-up';
    const r = await get('/livez');
    assert.equal(r.status, 503);
    assert.match(r.body, /gave up/);
    assert.match(r.body, /livez check failed\n$/);
  });

  test('/livez/ID: 503 only when crashed (backoff) or given up on (fatal); unknown id is 404', async () => {
    const view = new FakeView([
      status('running'),
      status('starting', { state: 'starting', ready: false }),
      status('stopped', { state: 'stopped', ready: false, stoppedByOperator: true }),
      status('backoff', {
        state: 'backoff',
        ready: false,
        lastExit: { code: 137, reason: 'signaled', at: 1 },
      }),
      status('fatal', { state: 'fatal', ready: false }),
    ]);
    const get = await serve({ view });
    for (const id of ['running', 'starting', 'stopped'])
      assert.equal((await get(`/livez/${id}`)).status, 200, id);
    const backoff = await get('/livez/backoff');
    assert.deepEqual(
      [backoff.status, backoff.body],
      [503, '[-]backoff failed: backoff, last exit code 137 (signaled)\nlivez check failed\n'],
    );
    assert.equal((await get('/livez/fatal')).status, 503);
    assert.equal((await get('/livez/nope')).status, 404);
  });
});

describe('JSON API and the rest', () => {
  test('/api/v1/components lists snapshots with uptime; /api/v1/components/ID one; 404 otherwise', async () => {
    const view = new FakeView([
      status('is', { pid: process.pid, startedAt: Date.now() - 3_000, restarts: 1 }),
      status('ps', { state: 'stopped', ready: false }),
    ]);
    const get = await serve({ view });
    const all = await get('/api/v1/components');
    assert.equal(all.status, 200);
    assert.match(all.type ?? '', /^application\/json/);
    const parsed = JSON.parse(all.body) as {
      version: string;
      phase: string;
      components: Array<Record<string, unknown>>;
    };
    assert.equal(parsed.version, '9.9.9');
    assert.equal(parsed.phase, 'running');
    assert.deepEqual(
      parsed.components.map((c) => c.id),
      ['is', 'ps'],
    );
    assert.ok((parsed.components[0]?.uptimeSeconds as number) >= 2.9);
    assert.equal(parsed.components[1]?.uptimeSeconds, undefined);
    const one = JSON.parse((await get('/api/v1/components/is')).body) as Record<string, unknown>;
    assert.equal(one.restarts, 1);
    assert.equal(one.state, 'running');
    assert.doesNotMatch(all.body, /env/i);
    assert.equal((await get('/api/v1/components/nope')).status, 404);
  });

  test('/metrics is Prometheus text by default and OpenMetrics when asked for', async () => {
    const get = await serve({ view: new FakeView([status('is', { pid: 999_999_999 })]) });
    const text = await get('/metrics');
    assert.equal(text.status, 200);
    assert.equal(text.type, 'text/plain; version=0.0.4; charset=utf-8');
    assert.match(text.body, /^s7supervisor_component_up\{component="is"\} 1$/m);
    const om = await get('/metrics', { headers: { Accept: 'application/openmetrics-text; version=1.0.0' } });
    assert.equal(om.type, 'application/openmetrics-text; version=1.0.0; charset=utf-8');
    assert.ok(om.body.endsWith('# EOF\n'));
  });

  test('unknown paths are a plain 404; HEAD works on the probes', async () => {
    const get = await serve({ view: new FakeView([status('is')]) });
    assert.deepEqual(await get('/nope').then((r) => [r.status, r.body]), [404, '404 page not found\n']);
    assert.equal((await get('/readyz', { method: 'HEAD' })).status, 200);
  });
});

describe('control routes', () => {
  test('absent without a token: 404, nothing happens', async () => {
    const view = new FakeView([status('is')]);
    const get = await serve({ view, control: view });
    for (const path of ['/api/v1/components/is/restart', '/api/v1/reload'])
      assert.equal((await get(path, { method: 'POST' })).status, 404);
    assert.deepEqual(view.calls, []);
  });

  test('with a token: missing or wrong is 401 and acts not; right acts', async () => {
    const view = new FakeView([status('is')]);
    const get = await serve({ view, control: view, controlToken: 's3cret-token' });
    const post = (path: string, token?: string) =>
      get(path, { method: 'POST', headers: token ? { Authorization: `Bearer ${token}` } : {} });
    const missing = await post('/api/v1/components/is/stop');
    assert.equal(missing.status, 401);
    assert.equal(missing.headers.get('www-authenticate'), 'Bearer realm="s7supervisor"');
    assert.equal((await post('/api/v1/components/is/stop', 'wrong')).status, 401);
    assert.equal((await post('/api/v1/components/is/stop', 's3cret-token-longer')).status, 401);
    assert.deepEqual(view.calls, []);
    const ok = await post('/api/v1/components/is/stop', 's3cret-token');
    assert.equal(ok.status, 200);
    assert.deepEqual(JSON.parse(ok.body), { ok: true, message: 'is stop' });
    assert.equal((await post('/api/v1/components/nope/start', 's3cret-token')).status, 404);
    assert.equal((await post('/api/v1/reload', 's3cret-token')).status, 200);
    assert.equal((await post('/api/v1/restart', 's3cret-token')).status, 200);
    assert.deepEqual(view.calls, [['stop', 'is'], ['start', 'nope'], ['reload'], ['restart']]);
    // reading stays open: only control needs the token
    assert.equal((await get('/api/v1/components')).status, 200);
    // other paths keep their 404
    assert.equal((await post('/api/v1/nothing-here')).status, 404);
  });

  test('a trusted caller (the control socket) needs no token', async () => {
    const view = new FakeView([status('is')]);
    const get = await serve({ view, control: view, trustCaller: true });
    assert.equal((await get('/api/v1/components/is/restart', { method: 'POST' })).status, 200);
    assert.deepEqual(view.calls, [['restart', 'is']]);
  });
});
