// Dependencies, oneshots and schedules (design.md §3 rev. 2) in the supervisor over a fake host:
// virtual time, no processes. Each condition gates its dependent, a fatal dependency holds its
// dependents back and they say so, a oneshot completes, a critical one that fails for good gives
// up, and a schedule runs on the host's clock (counted, overlap skipped, cron in a time zone).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DependencyCondition, ServerSpec } from '../../src/registry/model.js';
import { type FakeHost, fakeSupervisor, registry, server } from '../helpers/fake-host.js';

const launched = (host: FakeHost) => host.processes.map((p) => p.id);
const oneshot = (id: string, overrides: Partial<ServerSpec> = {}) =>
  server(id, {
    kind: 'oneshot',
    restart: { policy: 'on-failure', backoffInitial: 1, backoffMax: 30, resetAfter: 10 },
    ...overrides,
  });
const on = (dependency: string, condition: DependencyCondition) => ({
  dependsOn: [{ server: dependency, condition }],
});

describe('dependencies over a fake host', () => {
  test('started: the dependent starts once the dependency has a process, not before', async () => {
    const { supervisor, host, status } = fakeSupervisor(
      registry([server('app', on('db', 'started')), server('db', { startDelay: 60 })]),
    );
    void supervisor.startAll();
    await host.clock.advance(0);
    assert.deepEqual(launched(host), ['db', 'app'], 'registry order is not start order');
    assert.equal(status('db').state, 'starting', 'db is not ready, app did not wait for that');
  });

  test('ready: the dependent waits while the dependency is starting, saying so', async () => {
    const { supervisor, host, status, events } = fakeSupervisor(
      registry([server('app', on('db', 'ready')), server('db', { startDelay: 5 })]),
    );
    void supervisor.startAll();
    await host.clock.advance(4_000);
    assert.deepEqual(launched(host), ['db']);
    assert.equal(status('app').state, 'starting');
    assert.equal(status('app').pid, undefined, 'waiting has no process');
    assert.equal(status('app').notReadyReason, 'waiting for db (ready)');
    assert.deepEqual(
      events.find((e) => e.id === 'app'),
      {
        id: 'app',
        from: 'stopped',
        to: 'starting',
        reason: 'waiting for db (ready)',
      },
    );
    await host.clock.advance(1_000);
    assert.deepEqual(launched(host), ['db', 'app']);
    await host.clock.advance(0);
    assert.equal(status('app').state, 'running');
  });

  test('completed: any exit code of the oneshot lets the dependent go', async () => {
    const { supervisor, host, status } = fakeSupervisor(
      registry([
        server('app', on('seed', 'completed')),
        oneshot('seed', {
          critical: false,
          restart: { policy: 'never', backoffInitial: 1, backoffMax: 1, resetAfter: 1 },
        }),
      ]),
    );
    void supervisor.startAll();
    await host.clock.advance(0);
    assert.deepEqual(launched(host), ['seed']);
    assert.equal(status('app').notReadyReason, 'waiting for seed (completed)');
    host.current('seed')!.exit(3);
    await host.clock.advance(0);
    assert.equal(status('seed').state, 'fatal');
    assert.deepEqual(launched(host), ['seed', 'app']);
  });

  test('succeeded: a failing run holds the dependent; the retry that exits 0 lets it go', async () => {
    const { supervisor, host, status } = fakeSupervisor(
      registry([server('app', on('migrate', 'succeeded')), oneshot('migrate')]),
    );
    void supervisor.startAll();
    await host.clock.advance(0);
    host.current('migrate')!.exit(1);
    await host.clock.advance(0);
    assert.equal(status('migrate').state, 'backoff', 'on-failure is the default of a oneshot');
    assert.deepEqual(launched(host), ['migrate']);
    assert.equal(status('app').notReadyReason, 'waiting for migrate (succeeded)');
    await host.clock.advance(1_200);
    assert.equal(host.runs('migrate').length, 2);
    host.current('migrate')!.exit(0);
    await host.clock.advance(0);
    assert.equal(status('migrate').state, 'completed');
    assert.equal(status('migrate').ready, true, 'completed counts as ready');
    assert.deepEqual(launched(host), ['migrate', 'migrate', 'app']);
  });

  test('a fatal dependency holds its dependents back, they say so, and the rest starts', async () => {
    const { supervisor, host, status } = fakeSupervisor(
      registry([
        server('cache', {
          startDelay: 5,
          restart: { policy: 'never', backoffInitial: 1, backoffMax: 1, resetAfter: 1 },
        }),
        server('is', on('cache', 'ready')),
        server('front', { startPriority: 2, ...on('is', 'ready') }),
        server('other', { startPriority: 2 }),
      ]),
    );
    const started = supervisor.startAll();
    await host.clock.advance(0);
    host.current('cache')!.exit(2);
    await host.clock.advance(0);
    assert.equal(status('cache').state, 'fatal');
    await started;
    assert.deepEqual(launched(host).sort(), ['cache', 'other'], 'the held ones never started');
    assert.equal(status('is').state, 'starting');
    assert.equal(status('is').notReadyReason, 'waiting for cache (ready): cache is fatal');
    assert.equal(status('front').notReadyReason, 'waiting for is (ready): is is held back');
    assert.equal(supervisor.phase, 'running', 'held servers do not keep the start-up open');
    // the operator brings the dependency back: what it held starts in turn
    await supervisor.start('cache');
    await host.clock.advance(4_000);
    assert.ok(!launched(host).includes('is'), 'still waiting for cache to be ready');
    await host.clock.advance(1_000);
    assert.ok(launched(host).includes('is'));
    await host.clock.advance(0);
    assert.ok(launched(host).includes('front'));
    assert.equal(status('front').state, 'running');
  });

  test('shutdown stops a held server at once and the dependents before what they depend on', async () => {
    const { supervisor, host, status } = fakeSupervisor(
      registry([
        server('db'),
        server('app', on('db', 'ready')),
        server('late', on('app', 'ready')),
        server('slow', { startDelay: 60 }),
        server('held', on('slow', 'ready')),
      ]),
    );
    void supervisor.startAll();
    await host.clock.advance(0);
    await host.clock.advance(0);
    assert.deepEqual(launched(host), ['db', 'slow', 'app', 'late']);
    assert.equal(status('held').state, 'starting');
    const order: string[] = [];
    supervisor.on('state', (s) => {
      if (s.state === 'stopped') order.push(s.id);
    });
    void supervisor.shutdown('test');
    await host.clock.advance(100);
    assert.deepEqual(
      order.filter((id) => id !== 'slow' && id !== 'held'),
      ['late', 'app', 'db'],
    );
    assert.ok(order.indexOf('held') < order.indexOf('slow'), 'the held one goes first, with its dependents');
    assert.equal(status('held').state, 'stopped', 'held back, it leaves starting too');
    assert.equal(status('held').pid, undefined);
  });
});

describe('dependencies and reload over a fake host', () => {
  test('reload during start-up: a held server that changed stays held; an added one waits for its dependency', async () => {
    const first = [server('db', { startDelay: 5 }), server('app', on('db', 'ready'))];
    let next = registry(first);
    const { supervisor, host, status } = fakeSupervisor(next, { loadRegistry: () => next });
    void supervisor.startAll();
    await host.clock.advance(1_000);
    next = registry([
      first[0] as ServerSpec,
      server('app', { ...on('db', 'ready'), args: ['--changed'] }),
      server('extra', on('app', 'ready')),
    ]);
    const answer = await supervisor.reload();
    assert.ok(answer.ok);
    await host.clock.advance(0);
    assert.deepEqual(launched(host), ['db'], 'neither app (changed) nor extra (added) jumped the queue');
    assert.equal(status('extra').notReadyReason, 'waiting for app (ready)');
    await host.clock.advance(4_000);
    assert.deepEqual(launched(host), ['db', 'app', 'extra']);
    assert.deepEqual(host.current('app')?.spec.args, ['--changed'], 'app started with the new definition');
  });

  test('a restart of everything runs a oneshot again, and its dependent waits for the new run', async () => {
    const { supervisor, host, status } = fakeSupervisor(
      registry([oneshot('migrate'), server('app', on('migrate', 'succeeded'))]),
    );
    void supervisor.startAll();
    await host.clock.advance(0);
    host.current('migrate')!.exit(0);
    await host.clock.advance(0);
    assert.deepEqual(launched(host), ['migrate', 'app']);
    await supervisor.restart();
    await host.clock.advance(0);
    assert.equal(host.runs('migrate').length, 2, 'migrate runs again');
    assert.equal(host.runs('app').length, 1, 'app waits for the new run, not the old exit 0');
    assert.equal(status('app').notReadyReason, 'waiting for migrate (succeeded)');
    host.current('migrate')!.exit(0);
    await host.clock.advance(0);
    assert.equal(host.runs('app').length, 2);
  });
});

describe('oneshots over a fake host', () => {
  test('exit 0: completed, ready, not restarted (whatever the policy); status says kind oneshot', async () => {
    const { supervisor, host, status, events } = fakeSupervisor(
      registry([
        oneshot('init', { restart: { policy: 'always', backoffInitial: 1, backoffMax: 1, resetAfter: 1 } }),
      ]),
    );
    void supervisor.startAll();
    await host.clock.advance(0);
    assert.equal(status('init').state, 'starting');
    assert.equal(status('init').notReadyReason, 'running to completion');
    host.current('init')!.exit(0);
    await host.clock.advance(60_000);
    assert.equal(status('init').state, 'completed');
    assert.equal(status('init').ready, true);
    assert.equal(status('init').kind, 'oneshot');
    assert.equal(host.runs('init').length, 1);
    assert.deepEqual(events.at(-1), {
      id: 'init',
      from: 'starting',
      to: 'completed',
      reason: 'completed (exit code 0)',
    });
  });

  test('a critical oneshot that ends fatal makes the supervisor give up, after an ordered stop', async () => {
    const { supervisor, host, records } = fakeSupervisor(
      registry([
        server('db'),
        oneshot('migrate', {
          startPriority: 2,
          restart: { policy: 'never', backoffInitial: 1, backoffMax: 1, resetAfter: 1 },
        }),
      ]),
    );
    void supervisor.startAll();
    await host.clock.advance(0);
    await host.clock.advance(0);
    host.current('migrate')!.exit(4);
    const outcome = await supervisor.outcome;
    assert.deepEqual(outcome, { kind: 'gave-up' });
    assert.equal(host.current('db'), undefined, 'db was stopped');
    assert.ok(records.some((r) => r.msg.startsWith('giving up: the critical oneshot failed for good')));
  });

  test('a non-critical oneshot that ends fatal does not give up', async () => {
    const { supervisor, host, status } = fakeSupervisor(
      registry([
        oneshot('tidy', {
          critical: false,
          restart: { policy: 'never', backoffInitial: 1, backoffMax: 1, resetAfter: 1 },
        }),
      ]),
    );
    void supervisor.startAll();
    await host.clock.advance(0);
    host.current('tidy')!.exit(4);
    await host.clock.advance(0);
    assert.equal(status('tidy').state, 'fatal');
    assert.equal(supervisor.phase, 'running');
  });
});

describe('schedules over a fake host', () => {
  test('@every 1s: runs at each time, counted; a run due while the last one runs is skipped and counted', async () => {
    const { supervisor, host, status } = fakeSupervisor(
      registry([oneshot('purge', { schedule: { cron: '@every 1s' } })]),
    );
    void supervisor.startAll();
    await host.clock.advance(0);
    const start = host.clock.now();
    assert.equal(status('purge').nextRunAt, start + 1_000, 'the first time comes from the first start');
    host.current('purge')!.exit(0);
    await host.clock.advance(1_000);
    assert.equal(host.runs('purge').length, 2);
    assert.equal(status('purge').state, 'running', 'a scheduled run after a success is running');
    assert.equal(status('purge').ready, true, 'and stays ready while it runs');
    // this run lasts 2.5 s: the times at +2 s and +3 s find it still going
    await host.clock.advance(2_500);
    host.current('purge')!.exit(0);
    await host.clock.advance(0);
    assert.deepEqual(status('purge').scheduledRuns, { succeeded: 2, failed: 0, skipped: 2 });
    assert.equal(status('purge').nextRunAt, start + 4_000, 'a fixed grid, not pushed back by the long run');
    await host.clock.advance(500);
    assert.equal(host.runs('purge').length, 3);
    host.current('purge')!.exit(1);
    await host.clock.advance(0);
    assert.deepEqual(status('purge').scheduledRuns, { succeeded: 2, failed: 1, skipped: 2 });
    assert.equal(status('purge').state, 'backoff', 'a failed run is retried by policy');
    await supervisor.shutdown('test');
    assert.equal(status('purge').nextRunAt, undefined, 'shutdown ends the schedule');
    assert.equal(host.clock.pending, 0, 'no timer left behind');
  });

  test('an operator stop ends the schedule; start begins it again', async () => {
    const { supervisor, host, status } = fakeSupervisor(
      registry([oneshot('purge', { schedule: { cron: '@every 10s' } })]),
    );
    void supervisor.startAll();
    await host.clock.advance(0);
    host.current('purge')!.exit(0);
    await host.clock.advance(0);
    await supervisor.stop('purge');
    assert.equal(status('purge').nextRunAt, undefined);
    await host.clock.advance(60_000);
    assert.equal(host.runs('purge').length, 1);
    await supervisor.start('purge');
    await host.clock.advance(0);
    assert.equal(host.runs('purge').length, 2);
    assert.equal(status('purge').nextRunAt, host.clock.now() + 10_000);
  });

  test('five-field cron in a time zone, on the fake clock', async () => {
    const { supervisor, host, status } = fakeSupervisor(
      registry([oneshot('report', { schedule: { cron: '30 2 * * *', timezone: 'Europe/Berlin' } })]),
    );
    // 2026-07-01 00:00 UTC = 02:00 in Berlin (summer time, UTC+2)
    await host.clock.advance(Date.parse('2026-07-01T00:00:00Z') - host.clock.now());
    void supervisor.startAll();
    await host.clock.advance(0);
    host.current('report')!.exit(0);
    await host.clock.advance(0);
    assert.equal(new Date(status('report').nextRunAt!).toISOString(), '2026-07-01T00:30:00.000Z');
    await host.clock.advance(29 * 60_000);
    assert.equal(host.runs('report').length, 1);
    await host.clock.advance(60_000);
    assert.equal(host.runs('report').length, 2, '02:30 Berlin');
    host.current('report')!.exit(0);
    await host.clock.advance(0);
    assert.equal(new Date(status('report').nextRunAt!).toISOString(), '2026-07-02T00:30:00.000Z');
    assert.equal(status('report').state, 'completed');
    await supervisor.shutdown('test');
    assert.equal(status('report').nextRunAt, undefined, 'shutdown ends the schedule of a completed oneshot');
    assert.equal(host.clock.pending, 0);
  });
});
