// The supervisor and its components over a fake process host: virtual time, no processes. Start
// order, readiness gating, restart intensity, shutdown order and its bound, reload during start-up,
// an operator's stop kept, and every state change told once, in order, with its reason.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Component } from '../../src/supervisor/component.js';
import type { ComponentState } from '../../src/supervisor/status.js';
import {
  FakeHost,
  fakeSupervisor,
  memoryLogger,
  registry,
  type StateEventSeen,
  server,
  settle,
} from '../helpers/fake-host.js';

const launched = (host: FakeHost) => host.processes.map((p) => p.id);
const changes = (events: StateEventSeen[], id: string) =>
  events.filter((e) => e.id === id).map((e) => [e.from, e.to, e.reason]);

describe('Supervisor over a fake host', () => {
  test('priority groups start in ascending order, each once the one before is ready (startDelay)', async () => {
    const { supervisor, host, status } = fakeSupervisor(
      registry([
        server('web', { startPriority: 3 }),
        server('db', { startPriority: 1, startDelay: 5 }),
        server('cache', { startPriority: 1, startDelay: 2 }),
        server('app', { startPriority: 2, startDelay: 1 }),
      ]),
    );
    const started = supervisor.startAll();
    await host.clock.advance(0);
    assert.deepEqual(launched(host), ['db', 'cache'], 'a group starts together, registry order');
    await host.clock.advance(4_999);
    assert.equal(status('cache').state, 'running');
    assert.deepEqual(launched(host), ['db', 'cache'], 'the next group waits for all of this one');
    await host.clock.advance(1);
    assert.deepEqual(launched(host), ['db', 'cache', 'app']);
    await host.clock.advance(1_000);
    assert.deepEqual(launched(host), ['db', 'cache', 'app', 'web']);
    await started;
    assert.equal(supervisor.phase, 'running');
  });

  test('readiness gating: the next group waits for the check to pass, not for a time', async () => {
    const readiness = {
      type: 'http' as const,
      url: 'http://db/ready',
      interval: 1,
      timeout: 1,
      failureThreshold: 3,
    };
    const { supervisor, host, probes, status } = fakeSupervisor(
      registry([server('db', { readiness, startDelay: 0 }), server('app', { startPriority: 2 })]),
    );
    void supervisor.startAll();
    await host.clock.advance(30_000);
    assert.equal(status('db').state, 'starting');
    assert.equal(status('db').notReadyReason, 'starting');
    assert.deepEqual(launched(host), ['db']);
    probes.passing.add('http://db/ready');
    await host.clock.advance(1_000);
    assert.equal(status('db').state, 'running');
    assert.deepEqual(launched(host), ['db', 'app']);
  });

  test('crash → backoff → restart: each change once, in order, with its reason, and the log agrees', async () => {
    const { supervisor, host, events, records, status } = fakeSupervisor(registry([server('svc')]));
    void supervisor.startAll();
    await host.clock.advance(0);
    host.current('svc')!.exit(3);
    await host.clock.advance(0);
    assert.equal(status('svc').state, 'backoff');
    assert.ok(status('svc').nextStartAt! > host.clock.now(), 'the next try is ahead');
    await host.clock.advance(1_100); // backoffInitial 1 s, ±10%
    assert.equal(status('svc').state, 'running');
    assert.deepEqual(changes(events, 'svc'), [
      ['stopped', 'starting', 'started'],
      ['starting', 'running', 'ready'],
      ['running', 'backoff', 'restarting after code 3'],
      ['backoff', 'starting', 'backoff over: starting again'],
      ['starting', 'running', 'ready'],
    ]);
    assert.equal(status('svc').restarts, 1);
    const logged = records
      .filter((r) => r.msg === 'state change' && r.component === 'svc')
      .map((r) => [r.from, r.to]);
    assert.deepEqual(
      logged,
      changes(events, 'svc').map(([from, to]) => [from, to]),
    );
  });

  test('restart intensity: one restart too many stops everything in order; exit outcome gave-up', async () => {
    const { supervisor, host, events, records, status } = fakeSupervisor(
      registry(
        [
          server('db', { startPriority: 1 }),
          server('svc', {
            startPriority: 2,
            restart: { policy: 'always', backoffInitial: 0, backoffMax: 0, resetAfter: 10 },
          }),
        ],
        { restartIntensity: { max: 2, period: 60 } },
      ),
    );
    void supervisor.startAll();
    await host.clock.advance(0);
    for (let crash = 0; crash < 3; crash += 1) {
      host.current('svc')!.exit(1);
      await host.clock.advance(0);
    }
    const outcome = await supervisor.outcome;
    assert.deepEqual(outcome, { kind: 'gave-up' });
    assert.equal(supervisor.phase, 'gave-up');
    assert.equal(host.runs('svc').length, 3, 'two restarts allowed, the third refused');
    const svc = changes(events, 'svc');
    assert.deepEqual(svc.slice(-2), [
      ['starting', 'running', 'ready'],
      ['running', 'stopped', 'exited with code 1: restart intensity exceeded, giving up'],
    ]);
    assert.equal(svc.filter(([, to]) => to === 'stopped').length, 1, 'stopped once');
    assert.equal(status('svc').stoppedByOperator, false);
    // db is stopped by the shutdown that follows, after svc said it gave up
    assert.deepEqual(changes(events, 'db').slice(-2), [
      ['running', 'stopping', 'stopped by the supervisor'],
      ['stopping', 'stopped', 'stopped'],
    ]);
    const giveUp = records.findIndex((r) => /restart intensity exceeded/.test(r.msg));
    const shutdown = records.findIndex((r) => r.msg === 'shutting down');
    assert.ok(giveUp >= 0 && shutdown > giveUp, 'the verdict is logged, then the shutdown');
  });

  test('a stop during backoff: backoff → stopped once, by the operator', async () => {
    const { supervisor, host, events, status } = fakeSupervisor(
      registry([
        server('svc', { restart: { policy: 'always', backoffInitial: 30, backoffMax: 30, resetAfter: 10 } }),
      ]),
    );
    void supervisor.startAll();
    await host.clock.advance(0);
    host.current('svc')!.kill('SIGKILL');
    await host.clock.advance(0);
    assert.equal(status('svc').state, 'backoff');
    await supervisor.stop('svc');
    await host.clock.advance(60_000);
    assert.deepEqual(changes(events, 'svc').slice(2), [
      ['running', 'backoff', 'restarting after signal SIGKILL'],
      ['backoff', 'stopped', 'stopped by operator'],
    ]);
    assert.equal(host.runs('svc').length, 1, 'the restart was called off');
  });

  test('shutdown: descending priority, each group gone before the next; SIGKILL after stopTimeout', async () => {
    const { supervisor, host } = fakeSupervisor(
      registry([
        server('db', { startPriority: 1 }),
        server('app', { startPriority: 2, stopTimeout: 3 }),
        server('web', { startPriority: 3 }),
      ]),
    );
    host.stopReaction.set('app', 'ignore');
    await Promise.all([supervisor.startAll(), host.clock.advance(0)]);
    void supervisor.shutdown('test');
    await host.clock.advance(0);
    assert.deepEqual(
      host.signalLog.filter(([, s]) => s !== 'SIGCONT'),
      [
        ['web', 'SIGTERM'],
        ['app', 'SIGTERM'],
      ],
    );
    await host.clock.advance(2_999);
    assert.ok(host.current('app'), 'app is given its stopTimeout');
    await host.clock.advance(1);
    assert.deepEqual(
      host.signalLog.filter(([, s]) => s !== 'SIGCONT'),
      [
        ['web', 'SIGTERM'],
        ['app', 'SIGTERM'],
        ['app', 'SIGKILL'],
        ['db', 'SIGTERM'],
      ],
    );
    assert.deepEqual(await supervisor.outcome, { kind: 'stopped' });
  });

  test('shutdown is bounded by shutdownTimeout: then SIGKILL to every group, and done', async () => {
    const { supervisor, host, records } = fakeSupervisor(
      registry([server('a', { stopTimeout: 600 }), server('b', { stopTimeout: 600 })], {
        shutdownTimeout: 5,
      }),
    );
    host.stopReaction.set('a', 'ignore');
    host.stopReaction.set('b', 'ignore');
    await Promise.all([supervisor.startAll(), host.clock.advance(0)]);
    let done = false;
    void supervisor.shutdown('test').then(() => {
      done = true;
    });
    await host.clock.advance(4_999);
    assert.equal(done, false);
    await host.clock.advance(1);
    assert.equal(done, true);
    assert.deepEqual(
      host.signalLog.filter(([, s]) => s === 'SIGKILL').map(([id]) => id),
      ['a', 'b'],
    );
    assert.ok(records.some((r) => /shutdown took longer than 5s/.test(r.msg)));
  });

  test('reload during start-up: a removed server never starts, an added one waits for its turn', async () => {
    let next = registry([]);
    const { supervisor, host, status } = fakeSupervisor(
      registry([
        server('db', { startPriority: 1, startDelay: 5 }),
        server('old', { startPriority: 2 }),
        server('web', { startPriority: 3 }),
      ]),
      { loadRegistry: () => next },
    );
    void supervisor.startAll();
    await host.clock.advance(1_000);
    next = registry([
      server('db', { startPriority: 1, startDelay: 5 }),
      server('new', { startPriority: 2 }),
      server('web', { startPriority: 3 }),
    ]);
    const answer = await supervisor.reload();
    assert.equal(answer.ok, true);
    assert.deepEqual(launched(host), ['db']);
    await host.clock.advance(4_000);
    await host.clock.advance(0);
    assert.deepEqual(launched(host), ['db', 'new', 'web']);
    assert.equal(supervisor.component('old'), undefined);
    assert.equal(status('new').state, 'running');
  });

  test('an operator stop is kept through a restart of everything and a reload, until start', async () => {
    const reg = registry([server('db'), server('app', { startPriority: 2 })]);
    const { supervisor, host, status } = fakeSupervisor(reg, { loadRegistry: () => reg });
    await Promise.all([supervisor.startAll(), host.clock.advance(0)]);
    await supervisor.stop('app');
    await host.clock.advance(0);
    assert.equal(status('app').state, 'stopped');
    await supervisor.restart();
    await host.clock.advance(100);
    assert.equal(status('db').state, 'running');
    assert.equal(host.runs('db').length, 2, 'db restarted');
    assert.equal(status('app').state, 'stopped');
    await supervisor.reload();
    await host.clock.advance(100);
    assert.equal(status('app').state, 'stopped');
    assert.equal(host.runs('app').length, 1);
    await supervisor.start('app');
    await host.clock.advance(0);
    assert.equal(status('app').state, 'running');
    assert.equal(host.runs('app').length, 2);
  });

  test('a command that cannot be executed is fatal at once; a shortage is retried and counted', async () => {
    const { supervisor, host, events, status } = fakeSupervisor(registry([server('gone'), server('busy')]));
    host.failing.set('gone', 'ENOENT');
    host.failing.set('busy', 'EAGAIN');
    void supervisor.startAll();
    await host.clock.advance(0);
    assert.deepEqual(changes(events, 'gone'), [
      ['stopped', 'starting', 'started'],
      ['starting', 'fatal', 'cannot start: spawn gone ENOENT'],
    ]);
    assert.equal(status('busy').state, 'backoff');
    host.failing.delete('busy');
    await host.clock.advance(1_200);
    assert.equal(status('busy').state, 'running');
    assert.equal(status('busy').restarts, 1);
  });
});

describe('Component over a fake host', () => {
  function component(stopTimeout = 10) {
    const host = new FakeHost();
    const { logger } = memoryLogger();
    const seen: Array<[ComponentState, ComponentState]> = [];
    let verdicts = 0;
    const c = new Component(server('svc', { stopTimeout }), {
      host,
      logger,
      attachOutput: async () => {},
      restartVerdict: () => {
        verdicts += 1;
        return 'allowed';
      },
      giveUp: () => assert.fail('no give-up here'),
      onStateChange: (comp, previous) => seen.push([previous, comp.state]),
      onCheck: () => {},
    });
    return { c, host, seen, verdicts: () => verdicts };
  }

  test('leftovers of the group get SIGKILL when the main process exits, and the restart waits for them', async () => {
    const { c, host, seen } = component();
    c.start();
    await host.clock.advance(0);
    const first = host.current('svc')!;
    first.leftovers = 1;
    first.exit(1);
    await settle();
    assert.deepEqual(host.signalLog, [['svc', 'SIGKILL']]);
    assert.equal(first.groupAlive, false);
    await host.clock.advance(1_200);
    assert.equal(host.runs('svc').length, 2);
    assert.deepEqual(seen, [
      ['stopped', 'starting'],
      ['starting', 'running'],
      ['running', 'backoff'],
      ['backoff', 'starting'],
      ['starting', 'running'],
    ]);
  });

  test('stop: stop signal and SIGCONT, SIGKILL at stopTimeout; no restart asked for', async () => {
    const { c, host, seen, verdicts } = component(2);
    host.stopReaction.set('svc', 'ignore');
    c.start();
    await host.clock.advance(0);
    c.stop(true);
    await host.clock.advance(2_000);
    assert.deepEqual(host.signalLog, [
      ['svc', 'SIGTERM'],
      ['svc', 'SIGCONT'],
      ['svc', 'SIGKILL'],
    ]);
    assert.equal(c.state, 'stopped');
    assert.deepEqual(seen.slice(-2), [
      ['running', 'stopping'],
      ['stopping', 'stopped'],
    ]);
    assert.equal(verdicts(), 0);
    assert.equal(host.clock.pending, 0, 'no timer left behind');
  });
});
