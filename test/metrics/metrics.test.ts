import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { after, test } from 'node:test';
import { createMetrics } from '../../src/metrics/metrics.js';
import { metricTypes, samplesOf, sampleValue } from '../helpers/exposition.js';
import { FakeView, status } from '../helpers/fake-view.js';
import { killGroup, processGroupMembers } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const groups: number[] = [];
after(() => {
  for (const pgid of groups) killGroup(pgid);
});

function startGroup(script: string): number {
  const child = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  assert.ok(child.pid);
  groups.push(child.pid);
  return child.pid;
}

/** `promtool check metrics`: its complaints, one per line ('' when it has nothing to say) */
async function promtoolCheck(text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('promtool', ['check', 'metrics'], (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === 'ENOENT')
        reject(new Error('promtool is not installed (Debian package prometheus)'));
      else resolve(`${stdout}${stderr}`.trim());
    });
    child.stdin?.end(text);
  });
}

const ourMetrics = {
  s7supervisor_component_up: 'gauge',
  s7supervisor_component_ready: 'gauge',
  s7supervisor_component_state: 'gauge',
  s7supervisor_component_restarts_total: 'counter',
  s7supervisor_component_exits_total: 'counter',
  s7supervisor_component_last_exit_code: 'gauge',
  s7supervisor_component_start_time_seconds: 'gauge',
  s7supervisor_component_resident_memory_bytes: 'gauge',
  s7supervisor_component_cpu_seconds_total: 'counter',
  s7supervisor_component_memory_limit_bytes: 'gauge',
  s7supervisor_check_duration_seconds: 'histogram',
  s7supervisor_check_failures_total: 'counter',
  s7supervisor_zombies_reaped_total: 'counter',
  s7supervisor_reloads_total: 'counter',
  s7supervisor_info: 'gauge',
  s7supervisor_component_scheduled_runs_total: 'counter',
};

test('every metric of design.md §6, with its type, values from the snapshot, and promtool finds nothing', async () => {
  const busy = startGroup(
    `${process.execPath} -e "while (process.cpuUsage().user < 600000);"; sleep 60 & sleep 60 & wait`,
  );
  await waitFor(() => processGroupMembers(busy).length === 3, { timeout: 30_000, message: 'the busy group' });
  const view = new FakeView([
    status('is', {
      pid: busy,
      startedAt: 1_700_000_000_500,
      restarts: 2,
      exits: { exited: 1, signaled: 1, unhealthy: 0, stopped: 0, memory: 0 },
      lastExit: { code: 137, signal: 'SIGKILL', reason: 'signaled', at: 1 },
    }),
    status('ps', { state: 'starting', ready: false, notReadyReason: 'starting', memoryLimitBytes: 2 ** 31 }),
    status('svg', {
      state: 'fatal',
      ready: false,
      critical: false,
      lastExit: { code: 127, reason: 'exited', at: 2 },
    }),
    status('purge', {
      kind: 'oneshot',
      state: 'completed',
      ready: true,
      scheduledRuns: { succeeded: 5, failed: 1, skipped: 2 },
    }),
  ]);
  const metrics = createMetrics(view, { version: '1.2.3', pid1: false });
  after(() => metrics.close());
  view.emit('check', 'is', 'readiness', true, 0.004);
  view.emit('check', 'is', 'liveness', false, 1.2);
  view.emit('check', 'is', 'liveness', false, 1.1);
  view.emit('reaped', 3);
  view.emit('reaped', 1);
  view.emit('reload', { result: 'failure', reason: 'line 3: unknown element' });

  const { contentType, body } = await metrics.render();
  assert.equal(contentType, 'text/plain; version=0.0.4; charset=utf-8');
  const types = metricTypes(body);
  for (const [name, type] of Object.entries(ourMetrics)) assert.equal(types.get(name), type, name);
  // prom-client's default metrics are there too
  assert.ok(types.has('process_cpu_seconds_total'));
  assert.ok(types.has('nodejs_eventloop_lag_seconds'));

  const v = (name: string, labels: Record<string, string> = {}) => sampleValue(body, name, labels);
  assert.equal(v('s7supervisor_component_up', { component: 'is' }), 1);
  assert.equal(v('s7supervisor_component_up', { component: 'ps' }), 0);
  assert.equal(v('s7supervisor_component_ready', { component: 'is' }), 1);
  assert.equal(v('s7supervisor_component_ready', { component: 'ps' }), 0);
  // one series per state value, 1 for the current one
  assert.equal(samplesOf(body, 's7supervisor_component_state', { component: 'svg' }).length, 7);
  assert.equal(v('s7supervisor_component_state', { component: 'purge', state: 'completed' }), 1);
  assert.equal(
    v('s7supervisor_component_scheduled_runs_total', { component: 'purge', result: 'succeeded' }),
    5,
  );
  assert.equal(v('s7supervisor_component_scheduled_runs_total', { component: 'purge', result: 'failed' }), 1);
  assert.equal(
    v('s7supervisor_component_scheduled_runs_total', { component: 'purge', result: 'skipped' }),
    2,
  );
  // only a scheduled oneshot has the series
  assert.equal(samplesOf(body, 's7supervisor_component_scheduled_runs_total', { component: 'is' }).length, 0);
  assert.equal(v('s7supervisor_component_state', { component: 'svg', state: 'fatal' }), 1);
  assert.equal(v('s7supervisor_component_state', { component: 'svg', state: 'running' }), 0);
  assert.equal(v('s7supervisor_component_restarts_total', { component: 'is' }), 2);
  assert.equal(v('s7supervisor_component_exits_total', { component: 'is', reason: 'signaled' }), 1);
  assert.equal(v('s7supervisor_component_exits_total', { component: 'ps', reason: 'unhealthy' }), 0);
  assert.equal(v('s7supervisor_component_exits_total', { component: 'ps', reason: 'memory' }), 0);
  // only for a component that has a limit
  assert.equal(v('s7supervisor_component_memory_limit_bytes', { component: 'ps' }), 2 ** 31);
  assert.equal(v('s7supervisor_component_memory_limit_bytes', { component: 'is' }), undefined);
  assert.equal(v('s7supervisor_component_last_exit_code', { component: 'is' }), 137);
  assert.equal(v('s7supervisor_component_last_exit_code', { component: 'svg' }), 127);
  assert.equal(v('s7supervisor_component_last_exit_code', { component: 'ps' }), undefined);
  assert.equal(v('s7supervisor_component_start_time_seconds', { component: 'is' }), 1_700_000_000.5);
  // resources of the whole group (sh + 2 sleeps, and the burner that sh reaped)
  const rss = v('s7supervisor_component_resident_memory_bytes', { component: 'is' }) ?? 0;
  assert.ok(rss > 3 * 100_000, `rss ${rss}`);
  const cpu = v('s7supervisor_component_cpu_seconds_total', { component: 'is' }) ?? 0;
  assert.ok(cpu >= 0.5 && cpu < 5, `cpu ${cpu}`);
  assert.equal(v('s7supervisor_component_resident_memory_bytes', { component: 'ps' }), undefined);
  assert.equal(v('s7supervisor_check_duration_seconds_count', { component: 'is', check: 'liveness' }), 2);
  assert.equal(
    v('s7supervisor_check_duration_seconds_bucket', { component: 'is', check: 'readiness', le: '0.005' }),
    1,
  );
  assert.equal(v('s7supervisor_check_failures_total', { component: 'is', check: 'liveness' }), 2);
  assert.equal(v('s7supervisor_check_failures_total', { component: 'is', check: 'readiness' }), 0);
  assert.equal(v('s7supervisor_zombies_reaped_total'), 4);
  assert.equal(v('s7supervisor_reloads_total', { result: 'failure' }), 1);
  assert.equal(v('s7supervisor_reloads_total', { result: 'success' }), 0);
  assert.equal(v('s7supervisor_info', { version: '1.2.3', pid1: 'false' }), 1);
  // pids and timestamps never become labels
  for (const line of body.split('\n').filter((l) => l.startsWith('s7supervisor_')))
    assert.doesNotMatch(line, /(pid|startedAt|at)="/, line);

  const complaints = await promtoolCheck(body);
  const ours = complaints.split('\n').filter((line) => line.includes('s7supervisor'));
  assert.deepEqual(ours, [], complaints);
  // only prom-client's own gauge naming remark is tolerated
  for (const line of complaints.split('\n').filter(Boolean))
    assert.match(line, /^nodejs_active_\w+_total /, line);
});

test('OpenMetrics on request, and the classic format is intact afterwards', async () => {
  const view = new FakeView([status('is', { restarts: 4 })]);
  const metrics = createMetrics(view, { version: '1.2.3', pid1: true });
  after(() => metrics.close());
  const accept = 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
  const om = await metrics.render(accept);
  assert.equal(om.contentType, 'application/openmetrics-text; version=1.0.0; charset=utf-8');
  assert.ok(om.body.endsWith('# EOF\n'));
  // OpenMetrics names the counter family without _total, its samples with it
  assert.match(om.body, /^# TYPE s7supervisor_component_restarts counter$/m);
  assert.equal(sampleValue(om.body, 's7supervisor_component_restarts_total', { component: 'is' }), 4);
  assert.equal(sampleValue(om.body, 's7supervisor_info', { pid1: 'true' }), 1);

  // prom-client renames counters while rendering OpenMetrics; the next classic scrape must not show it
  const [text, om2, text2] = await Promise.all([
    metrics.render('*/*'),
    metrics.render(accept),
    metrics.render(),
  ]);
  for (const classic of [text, text2]) {
    assert.match(classic.body, /^# TYPE s7supervisor_component_restarts_total counter$/m);
    assert.equal(sampleValue(classic.body, 's7supervisor_component_restarts_total', { component: 'is' }), 4);
    assert.doesNotMatch(classic.body, /# EOF/);
  }
  assert.ok(om2.body.endsWith('# EOF\n'));
  assert.deepEqual(
    await promtoolCheck(text2.body).then((c) => c.split('\n').filter((l) => l.includes('s7supervisor'))),
    [],
  );
});

test('series follow the components: a removed component disappears, counters stay cumulative', async () => {
  const view = new FakeView([status('is'), status('old')]);
  const metrics = createMetrics(view, { version: '1.2.3', pid1: false, defaultMetrics: false });
  after(() => metrics.close());
  view.emit('check', 'old', 'readiness', false, 0.01);
  let body = (await metrics.render()).body;
  assert.equal(sampleValue(body, 's7supervisor_check_failures_total', { component: 'old' }), 1);
  // default metrics can be left out (benchmarks, embedding)
  assert.equal(metricTypes(body).has('process_cpu_seconds_total'), false);

  view.statuses = [status('is', { restarts: 1 })];
  body = (await metrics.render()).body;
  assert.equal(samplesOf(body, 's7supervisor_component_up', { component: 'old' }).length, 0);
  assert.equal(samplesOf(body, 's7supervisor_check_failures_total', { component: 'old' }).length, 0);
  assert.equal(sampleValue(body, 's7supervisor_component_restarts_total', { component: 'is' }), 1);
  view.set('is', { restarts: 3 });
  body = (await metrics.render()).body;
  assert.equal(sampleValue(body, 's7supervisor_component_restarts_total', { component: 'is' }), 3);

  // scrapes of the same format that overlap share one rendering
  const [first, second] = await Promise.all([metrics.render(), metrics.render()]);
  assert.equal(first, second);
  const [third, om] = await Promise.all([metrics.render(), metrics.render('application/openmetrics-text')]);
  assert.notEqual(third.contentType, om.contentType);

  // close() stops counting events
  metrics.close();
  view.emit('reaped', 5);
  body = (await metrics.render()).body;
  assert.equal(sampleValue(body, 's7supervisor_zombies_reaped_total'), 0);
});
