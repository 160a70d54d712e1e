// Issue 5, end to end: the real `run` supervising the demo components, seen only from outside
// through /readyz, /livez, /api/v1/components and /metrics.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { afterEach, test } from 'node:test';
import { samplesOf, sampleValue } from '../helpers/exposition.js';
import { killAllStarted } from '../helpers/processes.js';
import { type ApiComponent, startStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';

afterEach(() => killAllStarted());

const metric = (body: string, name: string, component: string, labels: Record<string, string> = {}) =>
  sampleValue(body, name, { component, ...labels });

test('readiness gates the start order, and /readyz is 503 until every component is ready', async () => {
  // is answers /ping with 503 for its first 2 s: ps (priority 2) must wait for it
  const stack = await startStack([
    { id: 'is', priority: 1, flags: ['--ready-delay', '2'] },
    { id: 'svg', priority: 1 },
    { id: 'ps', priority: 2 },
  ]);
  const seen: Array<{ readyz: number; is: ApiComponent; ps: ApiComponent }> = [];
  await waitFor(
    async () => {
      const readyz = (await stack.get('/readyz')).status;
      // one response: one consistent snapshot of both components
      const { components } = JSON.parse((await stack.get('/api/v1/components')).body) as {
        components: ApiComponent[];
      };
      const is = components.find((c) => c.id === 'is');
      const ps = components.find((c) => c.id === 'ps');
      assert.ok(is && ps);
      seen.push({ readyz, is, ps });
      return readyz === 200;
    },
    { timeout: 30_000, interval: 25, message: '/readyz to turn 200' },
  );
  assert.equal(seen[0]?.readyz, 503, 'not ready at first');
  for (const { is, ps, readyz } of seen.slice(0, -1)) {
    assert.equal(readyz, 503);
    // while is is not ready, ps has not been started
    if (!is.ready) assert.equal(ps.pid, undefined, `ps started while is was ${is.state}`);
  }
  const is = await stack.component('is');
  const ps = await stack.component('ps');
  assert.ok(is.startedAt && ps.startedAt);
  assert.ok(ps.startedAt - is.startedAt >= 2000, `ps started ${ps.startedAt - is.startedAt} ms after is`);
  const verbose = await stack.get('/readyz?verbose');
  assert.deepEqual(verbose, { status: 200, body: '[+]is ok\n[+]svg ok\n[+]ps ok\nreadyz check passed\n' });
  assert.equal(await stack.stop(), 0);
});

test('kill -9: /readyz fails while the component is down, exclude and verbose say so, metrics match', async () => {
  const stack = await startStack([
    { id: 'is', priority: 1 },
    // a 2 s backoff: a wide window to see it down
    {
      id: 'svg',
      priority: 1,
      extra: '<restart policy="always" backoffInitial="2" backoffMax="2" resetAfter="60"/>',
    },
  ]);
  await waitFor(async () => (await stack.get('/readyz')).status === 200, {
    timeout: 30_000,
    message: 'ready',
  });
  const before = (await stack.get('/metrics')).body;
  assert.equal(metric(before, 's7supervisor_component_up', 'svg'), 1);
  assert.equal(metric(before, 's7supervisor_component_ready', 'svg'), 1);
  assert.equal(metric(before, 's7supervisor_component_restarts_total', 'svg'), 0);
  assert.equal(metric(before, 's7supervisor_component_exits_total', 'svg', { reason: 'signaled' }), 0);
  assert.equal(metric(before, 's7supervisor_component_last_exit_code', 'svg'), undefined);
  const startTime = metric(before, 's7supervisor_component_start_time_seconds', 'svg') ?? 0;
  const rss = metric(before, 's7supervisor_component_resident_memory_bytes', 'svg') ?? 0;
  assert.ok(rss > 10_000_000, `a Node.js process has more than 10 MB resident, got ${rss}`);
  const oldPid = (await stack.component('svg')).pid;
  assert.ok(oldPid);

  process.kill(oldPid, 'SIGKILL');
  const down = await waitFor(
    async () => {
      const body = (await stack.get('/metrics')).body;
      return metric(body, 's7supervisor_component_up', 'svg') === 0 && body;
    },
    { timeout: 10_000, interval: 10, message: 'up{svg} to drop to 0' },
  );
  assert.equal(metric(down, 's7supervisor_component_ready', 'svg'), 0);
  assert.equal(metric(down, 's7supervisor_component_state', 'svg', { state: 'backoff' }), 1);
  assert.equal(metric(down, 's7supervisor_component_state', 'svg', { state: 'running' }), 0);
  assert.equal(metric(down, 's7supervisor_component_resident_memory_bytes', 'svg'), undefined);
  // while svg is down: 503; verbose says why; leaving svg out makes it 200
  const readyz = await stack.get('/readyz?verbose');
  assert.equal(readyz.status, 503);
  assert.match(readyz.body, /^\[\+\]is ok$/m);
  assert.match(readyz.body, /^\[-\]svg not ready: .+$/m);
  assert.match(readyz.body, /readyz check failed\n$/);
  assert.equal((await stack.get('/readyz?exclude=svg')).status, 200);
  assert.equal((await stack.get('/readyz/svg')).status, 503);
  assert.equal((await stack.get('/readyz/is')).status, 200);
  assert.equal((await stack.get('/livez/svg')).status, 503);
  assert.equal((await stack.get('/livez')).status, 200);

  const after = await waitFor(
    async () => {
      const body = (await stack.get('/metrics')).body;
      return metric(body, 's7supervisor_component_ready', 'svg') === 1 && body;
    },
    { timeout: 20_000, message: 'svg ready again' },
  );
  assert.equal(metric(after, 's7supervisor_component_up', 'svg'), 1);
  assert.equal(metric(after, 's7supervisor_component_restarts_total', 'svg'), 1);
  assert.equal(metric(after, 's7supervisor_component_last_exit_code', 'svg'), 137);
  assert.equal(metric(after, 's7supervisor_component_exits_total', 'svg', { reason: 'signaled' }), 1);
  assert.equal(metric(after, 's7supervisor_component_exits_total', 'svg', { reason: 'exited' }), 0);
  assert.ok((metric(after, 's7supervisor_component_start_time_seconds', 'svg') ?? 0) > startTime);
  // the other component was not touched
  assert.equal(metric(after, 's7supervisor_component_restarts_total', 'is'), 0);
  assert.notEqual((await stack.component('svg')).pid, oldPid);
  assert.equal((await stack.get('/readyz')).status, 200);
  assert.equal(await stack.stop(), 0);
});

test('a hung component is found by liveness and restarted within interval × failureThreshold + stopTimeout', async (t) => {
  const interval = 1;
  const failureThreshold = 2;
  const timeout = 0.5;
  const stopTimeout = 2;
  const stack = await startStack([
    {
      id: 'is',
      priority: 1,
      flags: ['--hang-on-usr1'],
      stopTimeout,
      checks: `<readiness type="tcp" host="127.0.0.1" port="{port}" interval="0.25" timeout="1"/>
      <liveness type="http" url="http://127.0.0.1:{port}/ping" interval="${interval}" timeout="${timeout}" failureThreshold="${failureThreshold}"/>`,
    },
  ]);
  await waitFor(async () => (await stack.get('/readyz')).status === 200, {
    timeout: 30_000,
    message: 'ready',
  });
  const before = await stack.component('is');
  assert.ok(before.pid);
  const hungAt = Date.now();
  process.kill(before.pid, 'SIGUSR1');
  const restarted = await waitFor(
    async () => {
      const now = await stack.component('is');
      return now.pid !== undefined && now.pid !== before.pid && now;
    },
    { timeout: 30_000, message: 'is to be restarted' },
  );
  const elapsed = (Date.now() - hungAt) / 1000;
  // the last failing probe may use its whole timeout; a little slack for scheduling and polling
  const bound = interval * failureThreshold + timeout + stopTimeout;
  t.diagnostic(`hung → restarted in ${elapsed.toFixed(2)} s (bound ${bound} s)`);
  assert.ok(elapsed <= bound + 3, `restarted after ${elapsed.toFixed(2)} s (bound ${bound} s)`);
  assert.equal(restarted.exits.unhealthy, 1);
  assert.equal(restarted.lastExit?.reason, 'unhealthy');
  const body = (await stack.get('/metrics')).body;
  assert.equal(metric(body, 's7supervisor_component_exits_total', 'is', { reason: 'unhealthy' }), 1);
  assert.ok(
    (metric(body, 's7supervisor_check_failures_total', 'is', { check: 'liveness' }) ?? 0) >= failureThreshold,
  );
  assert.ok(
    (metric(body, 's7supervisor_check_duration_seconds_count', 'is', { check: 'liveness' }) ?? 0) >= 3,
  );
  assert.equal(await stack.stop(), 0);
});

test('promtool finds nothing to say about the live s7supervisor_* metrics; OpenMetrics on request', async () => {
  const stack = await startStack([
    { id: 'is', priority: 1 },
    { id: 'svg', priority: 1 },
    { id: 'ps', priority: 2 },
  ]);
  await waitFor(async () => (await stack.get('/readyz')).status === 200, {
    timeout: 30_000,
    message: 'ready',
  });
  const { body } = await stack.get('/metrics');
  for (const id of ['is', 'svg', 'ps']) assert.equal(metric(body, 's7supervisor_component_up', id), 1);
  assert.equal(samplesOf(body, 's7supervisor_info').length, 1);
  const complaints = await new Promise<string>((resolve, reject) => {
    const child = execFile('promtool', ['check', 'metrics'], (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === 'ENOENT')
        reject(new Error('promtool is not installed'));
      else resolve(`${stdout}${stderr}`);
    });
    child.stdin?.end(body);
  });
  assert.deepEqual(
    complaints.split('\n').filter((line) => line.includes('s7supervisor')),
    [],
    complaints,
  );
  const om = await stack.get('/metrics', { Accept: 'application/openmetrics-text;version=1.0.0' });
  assert.ok(om.body.endsWith('# EOF\n'));
  assert.equal(sampleValue(om.body, 's7supervisor_component_up', { component: 'ps' }), 1);
  assert.equal(await stack.stop(), 0);
});
