// <limits memory> over a fake host (design.md §3 rev. 2): the fake /proc reading gives each run's
// resident memory, the clock is virtual. Above the limit at 3 samples in a row: restarted like a
// hung component, exit reason `memory`; a sample below starts the count over; no limit, no timer.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createResourceReader } from '../../src/metrics/resources.js';
import { Lifecycle, MEMORY_SAMPLES_OVER } from '../../src/supervisor/lifecycle.js';
import { FakeHost, fakeSupervisor, registry, server } from '../helpers/fake-host.js';

const MiB = 1024 ** 2;
const limited = (checkInterval = 2) => ({ limits: { memory: 100 * MiB, checkInterval } });

describe('memory limit over a fake host', () => {
  test('3 samples in a row above the limit: restarted, reason memory, counted, said in the log', async () => {
    const { supervisor, host, records, status, events } = fakeSupervisor(registry([server('ps', limited())]));
    void supervisor.startAll();
    await host.clock.advance(0);
    assert.equal(status('ps').memoryLimitBytes, 100 * MiB);
    host.current('ps')!.rssBytes = 150 * MiB;
    await host.clock.advance(4_000);
    assert.equal(status('ps').state, 'running', 'two samples over are not enough');
    assert.deepEqual(host.signalLog, []);
    await host.clock.advance(2_000);
    assert.deepEqual(host.signalLog[0], ['ps', 'SIGTERM'], 'its stop signal, as a hung one gets');
    const after = status('ps');
    assert.equal(after.lastExit?.reason, 'memory');
    assert.equal(after.exits.memory, 1);
    assert.equal(after.state, 'backoff');
    assert.match(after.notReadyReason ?? '', /^restarting after resident memory above the limit/);
    const said = records.find((r) => r.msg.startsWith('resident memory'));
    assert.equal(
      said?.msg,
      'resident memory 150 MiB above the limit 100 MiB at 3 samples in a row: restarting',
    );
    assert.equal(said?.component, 'ps');
    assert.equal(said?.residentMemoryBytes, 150 * MiB);
    assert.equal(said?.memoryLimitBytes, 100 * MiB);
    assert.deepEqual(
      events.filter((e) => e.to === 'stopping').map((e) => e.reason),
      ['resident memory 150 MiB above the limit 100 MiB at 3 samples in a row'],
    );
    await host.clock.advance(1_100); // backoffInitial 1 s, ±10%
    assert.equal(status('ps').state, 'running');
    assert.equal(status('ps').restarts, 1);
    assert.equal(host.runs('ps').length, 2);
    // the new run starts its count from nothing
    host.current('ps')!.rssBytes = 150 * MiB;
    await host.clock.advance(4_000);
    assert.equal(status('ps').state, 'running');
  });

  test('under restart policy never, a stop for memory is fatal and says it was memory', async () => {
    const { supervisor, host, status } = fakeSupervisor(
      registry([
        server('ps', {
          ...limited(),
          critical: false,
          restart: { policy: 'never', backoffInitial: 1, backoffMax: 30, resetAfter: 10 },
        }),
      ]),
    );
    void supervisor.startAll();
    await host.clock.advance(0);
    host.current('ps')!.rssBytes = 150 * MiB;
    await host.clock.advance(6_000);
    const after = status('ps');
    assert.equal(after.state, 'fatal');
    assert.equal(after.lastExit?.reason, 'memory');
    assert.match(
      after.notReadyReason ?? '',
      /^exited with resident memory above the limit \(signal SIGTERM\) \(restart policy never\)$/,
    );
  });

  test('2 samples over then 1 under: no restart, and the count starts over', async () => {
    const { supervisor, host, status } = fakeSupervisor(registry([server('ps', limited())]));
    void supervisor.startAll();
    await host.clock.advance(0);
    const ps = host.current('ps')!;
    ps.rssBytes = 150 * MiB;
    await host.clock.advance(4_000);
    ps.rssBytes = 100 * MiB; // at the limit is not above it
    await host.clock.advance(2_000);
    ps.rssBytes = 150 * MiB;
    await host.clock.advance(4_000);
    assert.equal(status('ps').state, 'running', 'over, over, under, over, over: never 3 in a row');
    assert.equal(status('ps').restarts, 0);
    assert.deepEqual(host.signalLog, []);
    await host.clock.advance(2_000);
    assert.equal(status('ps').lastExit?.reason, 'memory');
  });

  test('memory restarts count toward the restart intensity, as hung ones do', async () => {
    const { supervisor, host, status } = fakeSupervisor(
      registry(
        [
          server('ps', {
            ...limited(1),
            restart: { policy: 'always', backoffInitial: 0, backoffMax: 0, resetAfter: 10 },
          }),
        ],
        { restartIntensity: { max: 1, period: 60 } },
      ),
    );
    void supervisor.startAll();
    await host.clock.advance(0);
    host.current('ps')!.rssBytes = 150 * MiB;
    await host.clock.advance(3_000);
    assert.equal(status('ps').restarts, 1);
    host.current('ps')!.rssBytes = 150 * MiB;
    await host.clock.advance(3_000);
    assert.deepEqual(await supervisor.outcome, { kind: 'gave-up' });
    assert.equal(status('ps').exits.memory, 2);
    assert.match(status('ps').notReadyReason ?? '', /restart intensity exceeded/);
  });

  test('only components with a limit have a timer: an idle supervisor without limits never wakes for it', async () => {
    const { supervisor, host, status } = fakeSupervisor(registry([server('is'), server('svg')]));
    void supervisor.startAll();
    await host.clock.advance(0);
    assert.equal(status('is').state, 'running');
    assert.equal(status('is').memoryLimitBytes, undefined);
    assert.equal(host.clock.pending, 0, 'no timer at all');
    await host.clock.advance(60_000);
    assert.equal(host.memoryReadings, 0);
  });

  test('components with the same interval share one /proc pass per sample; the timer ends with the run', async () => {
    const host = new FakeHost();
    // the real shared reader on the virtual clock (an empty /proc: the passes are what is counted)
    const resources = createResourceReader({ now: () => host.clock.now(), procRoot: '/nonexistent' });
    const { supervisor } = fakeSupervisor(
      registry([
        server('is', { ...limited(), startDelay: 1.3 }),
        server('ps', { ...limited(), startPriority: 2 }),
        server('svg'),
      ]),
      { memory: resources },
      host,
    );
    void supervisor.startAll();
    await host.clock.advance(1_500);
    const before = resources.scans;
    await host.clock.advance(10_000);
    // started 1.3 s apart (more than the reader's 1 s reuse), sampled on the same multiples of the
    // interval: one pass per tick, not two
    assert.equal(resources.scans - before, 5);
    await supervisor.shutdown('test');
    assert.equal(host.clock.pending, 0, 'no timer left behind');
  });
});

describe('Lifecycle.memorySampled', () => {
  test(`above the limit ${MEMORY_SAMPLES_OVER} times in a row stops it as a hung one; at or below resets`, () => {
    const l = new Lifecycle({
      restart: { policy: 'on-failure', backoffInitial: 1, backoffMax: 30, resetAfter: 10 },
      stopTimeout: 5,
      random: () => 0.5,
    });
    l.start();
    l.spawned(42, 0);
    l.becameReady();
    assert.deepEqual(l.memorySampled(2, 1), []);
    assert.deepEqual(l.memorySampled(2, 1), []);
    assert.deepEqual(l.memorySampled(1, 1), [], 'at the limit');
    assert.deepEqual(l.memorySampled(2, 1), []);
    assert.deepEqual(l.memorySampled(2, 1), []);
    assert.deepEqual(l.memorySampled(2, 1), [{ type: 'stop-checks' }, { type: 'stop-group', seconds: 5 }]);
    assert.equal(l.state, 'stopping');
    assert.deepEqual(l.memorySampled(2, 1), [], 'already on its way down');
    // it dies of its stop signal, yet on-failure restarts it: the supervisor ended it, a failure
    const effects = l.groupEnded({ code: null, signal: 'SIGTERM', exitCode: 143 }, 1000, () => 'allowed');
    assert.equal(l.lastExit?.reason, 'memory');
    assert.equal(l.exits.memory, 1);
    assert.equal(l.state, 'backoff');
    assert.ok(effects.some((e) => e.type === 'restart'));
  });
});
