// The lifecycle state machine, without processes: every transition and the backoff arithmetic.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RestartSpec } from '../../src/registry/model.js';
import {
  type Effect,
  Lifecycle,
  type ProcessExit,
  type RestartVerdict,
  SHORTAGE_RETRY_FLOOR_MS,
} from '../../src/supervisor/lifecycle.js';

const restart = (overrides: Partial<RestartSpec> = {}): RestartSpec => ({
  policy: 'always',
  backoffInitial: 1,
  backoffMax: 30,
  resetAfter: 10,
  ...overrides,
});
const exitCode = (code: number): ProcessExit => ({ code, signal: null, exitCode: code });
const killed = (signal: NodeJS.Signals, n: number): ProcessExit => ({
  code: null,
  signal,
  exitCode: 128 + n,
});
const types = (effects: Effect[]) => effects.map((e) => e.type);
const allowed = (): RestartVerdict => 'allowed';
/** the main process exited and its group is gone: what exited() and groupEnded() say together */
function ended(l: Lifecycle, exit: ProcessExit, now: number, verdict = allowed): Effect[] {
  const first = l.exited(l.pid ?? 1, exit);
  assert.deepEqual(types(first), ['end-group']);
  return l.groupEnded(exit, now, verdict);
}

/** a lifecycle already running (spawned at t=0, ready) */
function running(spec: Partial<RestartSpec> = {}, random = () => 0.5): Lifecycle {
  const l = new Lifecycle({ restart: restart(spec), stopTimeout: 10, random });
  l.start();
  l.spawned(100, 0);
  l.becameReady();
  return l;
}

describe('lifecycle', () => {
  test('start → starting (spawn) → spawned → ready → running with liveness', () => {
    const l = new Lifecycle({ restart: restart(), stopTimeout: 10 });
    assert.equal(l.state, 'stopped');
    assert.deepEqual(types(l.start()), ['spawn']);
    assert.equal(l.state, 'starting');
    assert.deepEqual(types(l.spawned(42, 1000)), ['watch-readiness']);
    assert.equal(l.pid, 42);
    assert.equal(l.ready, false);
    assert.equal(l.notReadyReason, 'starting');
    assert.deepEqual(types(l.becameReady()), ['watch-liveness']);
    assert.equal(l.state, 'running');
    assert.equal(l.ready, true);
    assert.equal(l.restarts, 0);
  });

  test('a crash after a stable run restarts at once and resets the backoff', () => {
    const l = running({ resetAfter: 10 });
    assert.deepEqual(l.exited(100, killed('SIGKILL', 9)), [
      { type: 'end-group', pid: 100, exit: killed('SIGKILL', 9) },
    ]);
    assert.equal(l.state, 'running', 'nothing is decided before the leftovers of the group are gone');
    l.groupEnded(killed('SIGKILL', 9), 10_000, allowed);
    assert.equal(l.state, 'backoff');
    assert.equal(l.exits.signaled, 1);
    assert.deepEqual(l.lastExit, { code: 137, signal: 'SIGKILL', reason: 'signaled', at: 10_000 });
    assert.deepEqual(types(l.backoffElapsed()), ['spawn']);
    assert.equal(l.state, 'starting');
    assert.equal(l.restarts, 1);
  });

  test('short runs in a row double the wait from backoffInitial up to backoffMax', () => {
    const l = running({ backoffInitial: 1, backoffMax: 5, resetAfter: 10 });
    const delays: number[] = [];
    let now = 0;
    for (let i = 0; i < 6; i++) {
      now += 500; // each run lasts 0.5 s: short
      const effect = ended(l, exitCode(1), now).at(-1);
      assert.equal(effect?.type, 'restart');
      delays.push(effect?.type === 'restart' ? effect.delayMs : -1);
      l.backoffElapsed();
      l.spawned(100 + i, now);
    }
    assert.deepEqual(delays, [1000, 2000, 4000, 5000, 5000, 5000]);
    assert.equal(l.restarts, 6);
    assert.equal(l.exits.exited, 6);
  });

  test('jitter varies each wait by at most ±10%', () => {
    for (const [random, expected] of [
      [0, 900],
      [0.999999, 1100],
      [0.5, 1000],
    ] as const) {
      const l = running({ backoffInitial: 1 }, () => random);
      const effect = ended(l, exitCode(1), 100).at(-1);
      assert.equal(effect?.type === 'restart' ? effect.delayMs : -1, expected);
    }
  });

  test('a stable run after short ones starts the backoff over', () => {
    const l = running({ backoffInitial: 1, resetAfter: 10 });
    ended(l, exitCode(1), 100); // short: 1 s
    l.backoffElapsed();
    l.spawned(101, 1200);
    ended(l, exitCode(1), 1300); // short: 2 s
    l.backoffElapsed();
    l.spawned(102, 4000);
    assert.deepEqual(ended(l, exitCode(1), 20_000).at(-1), { type: 'restart', delayMs: 0 }); // stable
    l.backoffElapsed();
    l.spawned(103, 20_000);
    assert.deepEqual(ended(l, exitCode(1), 20_100).at(-1), { type: 'restart', delayMs: 1000 });
  });

  test('policy never: a failure is fatal, exit 0 is stopped; no restart either way', () => {
    const failing = running({ policy: 'never' });
    assert.ok(!types(ended(failing, exitCode(3), 50)).includes('restart'));
    assert.equal(failing.state, 'fatal');
    const clean = running({ policy: 'never' });
    assert.ok(!types(ended(clean, exitCode(0), 50)).includes('restart'));
    assert.equal(clean.state, 'stopped');
  });

  test('policy on-failure: exit 0 stays stopped, a non-zero exit or a signal restarts', () => {
    const clean = running({ policy: 'on-failure' });
    assert.ok(!types(ended(clean, exitCode(0), 50)).includes('restart'));
    assert.equal(clean.state, 'stopped');
    const failing = running({ policy: 'on-failure' });
    assert.ok(types(ended(failing, exitCode(2), 50)).includes('restart'));
    const signaled = running({ policy: 'on-failure' });
    assert.ok(types(ended(signaled, killed('SIGTERM', 15), 50)).includes('restart'));
  });

  test('policy always restarts after exit 0 too', () => {
    const l = running({ policy: 'always' });
    assert.ok(types(ended(l, exitCode(0), 50)).includes('restart'));
  });

  test('stop: stop signal with the stop timer; the exit is "stopped" and nothing restarts', () => {
    const l = running();
    assert.deepEqual(l.stop(true), [{ type: 'stop-checks' }, { type: 'stop-group', seconds: 10 }]);
    assert.equal(l.state, 'stopping');
    assert.equal(l.ready, false);
    assert.deepEqual(types(l.stopTimedOut()), ['kill-group']);
    const effects = ended(l, killed('SIGKILL', 9), 20_000);
    assert.deepEqual(types(effects), ['stop-checks', 'cancel-stop-timer']);
    assert.equal(l.state, 'stopped');
    assert.equal(l.exits.stopped, 1);
    assert.equal(l.lastExit?.reason, 'stopped');
    assert.equal(l.stoppedByOperator, true);
    assert.equal(l.notReadyReason, 'stopped by operator');
  });

  test('stop during backoff cancels the pending restart', () => {
    const l = running();
    ended(l, exitCode(1), 100);
    assert.equal(l.state, 'backoff');
    assert.deepEqual(types(l.stop()), ['cancel-backoff']);
    assert.equal(l.state, 'stopped');
    assert.deepEqual(l.backoffElapsed(), []);
  });

  test('operator restart: stop, then spawn again when it has exited, counted as a restart', () => {
    const l = running();
    assert.deepEqual(types(l.restart()), ['stop-checks', 'stop-group']);
    const effects = ended(l, killed('SIGTERM', 15), 5000);
    assert.equal(types(effects).at(-1), 'spawn');
    assert.equal(l.state, 'starting');
    assert.equal(l.restarts, 1);
    assert.equal(l.lastExit?.reason, 'stopped');
  });

  test('start from stopped is not a restart; start while stopping comes back up', () => {
    const l = running();
    l.stop(true);
    assert.deepEqual(l.start(true), []);
    assert.equal(types(ended(l, exitCode(0), 100)).at(-1), 'spawn');
    assert.equal(l.stoppedByOperator, false);
    const m = running();
    m.stop(true);
    ended(m, exitCode(0), 100);
    m.start(true);
    assert.equal(m.restarts, 0);
  });

  test('unhealthy: stopped with the stop signal, then restarted by policy with reason unhealthy', () => {
    const l = running();
    assert.deepEqual(types(l.unhealthy()), ['stop-checks', 'stop-group']);
    const effects = ended(l, killed('SIGTERM', 15), 20_000);
    assert.equal(types(effects).at(-1), 'restart');
    assert.equal(l.exits.unhealthy, 1);
    assert.equal(l.lastExit?.reason, 'unhealthy');
  });

  test('readiness lost and regained while running', () => {
    const l = running();
    l.becameNotReady('readiness: HTTP 503');
    assert.equal(l.state, 'running');
    assert.equal(l.ready, false);
    assert.equal(l.notReadyReason, 'readiness: HTTP 503');
    l.becameReady();
    assert.equal(l.ready, true);
  });

  test('a command that cannot be executed is fatal', () => {
    const l = new Lifecycle({ restart: restart(), stopTimeout: 10 });
    l.start();
    l.spawnFailed('spawn nope ENOENT', 'ENOENT', true, allowed);
    assert.equal(l.state, 'fatal');
    assert.match(l.notReadyReason ?? '', /ENOENT/);
    assert.deepEqual(types(l.start(true)), ['spawn']);
  });

  test('a shortage at spawn (EAGAIN, EMFILE) is a crash: backoff, never a tight loop, then spawn again', () => {
    const l = new Lifecycle({
      restart: restart({ backoffInitial: 0, resetAfter: 0 }),
      stopTimeout: 10,
      random: () => 0.5,
    });
    l.start();
    const effects = l.spawnFailed('spawn /bin/sh EAGAIN', 'EAGAIN', false, allowed);
    assert.equal(l.state, 'backoff');
    assert.deepEqual(effects, [{ type: 'restart', delayMs: SHORTAGE_RETRY_FLOOR_MS }]);
    assert.match(l.notReadyReason ?? '', /EAGAIN; trying again/);
    assert.deepEqual(types(l.backoffElapsed()), ['spawn']);
    assert.equal(l.restarts, 1);
  });

  test('a shortage at spawn under policy never is fatal', () => {
    const l = new Lifecycle({ restart: restart({ policy: 'never' }), stopTimeout: 10 });
    l.start();
    l.spawnFailed('spawn x EMFILE', 'EMFILE', false, allowed);
    assert.equal(l.state, 'fatal');
  });

  test('a stop asked for while the process was being started reaches it once it has a pid', () => {
    const l = new Lifecycle({ restart: restart(), stopTimeout: 7 });
    l.start();
    l.stop(true);
    assert.equal(l.state, 'stopping');
    assert.deepEqual(l.spawned(42, 0), [{ type: 'stop-group', seconds: 7 }]);
    assert.equal(l.pid, 42);
  });

  test('a stop asked for while the process was being started ends at once when the start failed', () => {
    const l = new Lifecycle({ restart: restart(), stopTimeout: 7 });
    l.start();
    l.stop(true);
    assert.deepEqual(types(l.spawnFailed('spawn x EAGAIN', 'EAGAIN', false, allowed)), ['cancel-stop-timer']);
    assert.equal(l.state, 'stopped');
  });

  test('events that do not apply to the state are ignored', () => {
    const l = new Lifecycle({ restart: restart(), stopTimeout: 10 });
    assert.deepEqual(l.groupEnded(exitCode(1), 0, allowed), []);
    assert.deepEqual(l.becameReady(), []);
    assert.deepEqual(l.stopTimedOut(), []);
    assert.deepEqual(l.unhealthy(), []);
    assert.equal(l.state, 'stopped');
  });
});

test('lifecycle: stopForRestart then start counts one restart and clears an operator stop', () => {
  const l = new Lifecycle({
    restart: { policy: 'always', backoffInitial: 1, backoffMax: 30, resetAfter: 10 },
    stopTimeout: 10,
  });
  l.start();
  l.spawned(1, 0);
  l.becameReady();
  l.stop(true);
  ended(l, { code: 0, signal: null, exitCode: 0 }, 10);
  l.stopForRestart();
  assert.equal(l.stoppedByOperator, false);
  l.start();
  assert.equal(l.restarts, 1);
  assert.equal(l.state, 'starting');
});

describe("lifecycle: the supervisor's restart verdict is an input, never a call back into it", () => {
  test('allowed: backoff as the policy says; asked only when the policy would restart', () => {
    let asked = 0;
    const verdict = (): RestartVerdict => {
      asked += 1;
      return 'allowed';
    };
    const l = running({ policy: 'on-failure' });
    assert.deepEqual(types(ended(l, exitCode(0), 50, verdict)), ['stop-checks']);
    assert.equal(asked, 0, 'a clean exit under on-failure is not a restart: nothing to ask');
    l.start();
    l.spawned(101, 100);
    assert.deepEqual(types(ended(l, exitCode(1), 150, verdict)), ['stop-checks', 'restart']);
    assert.equal(asked, 1);
    assert.equal(l.state, 'backoff');
  });

  test('exceeded: stopped at once (no backoff), the reason says so, and the effect is give-up', () => {
    const l = running();
    const effects = ended(l, exitCode(3), 50, () => 'exceeded');
    assert.deepEqual(types(effects), ['stop-checks', 'give-up']);
    assert.equal(l.state, 'stopped');
    assert.equal(l.notReadyReason, 'exited with code 3: restart intensity exceeded, giving up');
    assert.equal(l.stoppedByOperator, false);
    assert.equal(l.restarts, 0);
    assert.equal(l.exits.exited, 1);
  });

  test('disabled (shutting down): stopped, not by an operator', () => {
    const l = running();
    assert.deepEqual(types(ended(l, killed('SIGTERM', 15), 50, () => 'disabled')), ['stop-checks']);
    assert.equal(l.state, 'stopped');
    assert.equal(l.notReadyReason, 'exited with signal SIGTERM: not restarted, the supervisor is stopping');
  });

  test('a start failure that would be retried asks too', () => {
    const l = new Lifecycle({ restart: restart(), stopTimeout: 10 });
    l.start();
    assert.deepEqual(types(l.spawnFailed('spawn x EAGAIN', 'EAGAIN', false, () => 'exceeded')), ['give-up']);
    assert.equal(l.state, 'stopped');
    assert.equal(l.notReadyReason, 'cannot start: spawn x EAGAIN: restart intensity exceeded, giving up');
  });

  test("a stop during backoff by the supervisor is not labelled an operator's", () => {
    const l = running();
    ended(l, exitCode(1), 50);
    assert.equal(l.state, 'backoff');
    assert.deepEqual(types(l.stop()), ['cancel-backoff']);
    assert.equal(l.notReadyReason, 'stopped');
    const m = running();
    ended(m, exitCode(1), 50);
    m.stop(true);
    assert.equal(m.notReadyReason, 'stopped by operator');
  });
});

describe('lifecycle rev. 2: held back, oneshots, scheduled runs', () => {
  const oneshot = (
    options: { critical?: boolean; scheduled?: boolean; policy?: RestartSpec['policy'] } = {},
  ) =>
    new Lifecycle({
      restart: restart({ policy: options.policy ?? 'on-failure' }),
      stopTimeout: 10,
      kind: 'oneshot',
      critical: options.critical ?? false,
      scheduled: options.scheduled ?? false,
      random: () => 0.5,
    });

  test('hold: starting without a process, with the reason; start spawns; stop stops at once', () => {
    const l = new Lifecycle({ restart: restart(), stopTimeout: 10 });
    assert.deepEqual(l.hold('waiting for db (ready)'), []);
    assert.deepEqual(
      [l.state, l.waiting, l.pid, l.notReadyReason],
      ['starting', true, undefined, 'waiting for db (ready)'],
    );
    assert.deepEqual(types(l.start()), ['spawn']);
    assert.equal(l.waiting, false);
    assert.equal(l.restarts, 0, 'a first start after waiting is not a restart');
    const held = new Lifecycle({ restart: restart(), stopTimeout: 10 });
    held.hold('waiting for db (ready)');
    assert.deepEqual(held.stop(), []);
    assert.equal(held.state, 'stopped');
    const stopped = new Lifecycle({ restart: restart(), stopTimeout: 10 });
    stopped.stop(true);
    stopped.hold('waiting for db (ready)');
    assert.equal(stopped.state, 'stopped', 'an operator stop is not overridden by a wait');
  });

  test('oneshot: no readiness watch; exit 0 is completed and ready, even under policy always', () => {
    const l = oneshot({ policy: 'always' });
    l.start();
    assert.deepEqual(l.spawned(100, 0), []);
    assert.equal(l.notReadyReason, 'running to completion');
    assert.equal(l.countsAsReady, false);
    assert.deepEqual(types(ended(l, exitCode(0), 500)), ['stop-checks']);
    assert.deepEqual([l.state, l.countsAsReady], ['completed', true]);
  });

  test('oneshot: a failure restarts by policy; a critical one that ends fatal gives up', () => {
    const retried = oneshot();
    retried.start();
    retried.spawned(100, 0);
    assert.deepEqual(types(ended(retried, exitCode(1), 500)), ['stop-checks', 'restart']);
    const critical = oneshot({ critical: true, policy: 'never' });
    critical.start();
    critical.spawned(100, 0);
    const effects = ended(critical, exitCode(1), 500);
    assert.equal(critical.state, 'fatal');
    assert.deepEqual(effects.at(-1), {
      type: 'give-up',
      reason: 'the critical oneshot failed for good (exited with code 1 (restart policy never))',
    });
    const cannot = oneshot({ critical: true });
    cannot.start();
    assert.deepEqual(types(cannot.spawnFailed('not found', 'ENOENT', true, allowed)), ['give-up']);
    const optional = oneshot({ policy: 'never' });
    optional.start();
    optional.spawned(100, 0);
    assert.ok(!types(ended(optional, exitCode(1), 500)).includes('give-up'));
  });

  test('scheduleDue: runs from completed (staying ready), skips a run under way, counts results', () => {
    const l = oneshot({ scheduled: true });
    l.start();
    l.spawned(100, 0);
    ended(l, exitCode(0), 500);
    assert.deepEqual(types(l.scheduleDue()), ['spawn']);
    l.spawned(101, 1000);
    assert.deepEqual([l.state, l.countsAsReady], ['running', true]);
    assert.deepEqual(l.scheduleDue(), []);
    ended(l, exitCode(2), 1500);
    assert.equal(l.state, 'backoff');
    assert.deepEqual(l.scheduleDue(), [], 'a retry waiting is a run under way');
    assert.deepEqual(l.scheduledRuns, { succeeded: 1, failed: 1, skipped: 2 });
    l.stop(true);
    assert.deepEqual(l.scheduleDue(), [], 'stopped by an operator: nothing, not counted');
    assert.equal(l.scheduledRuns.skipped, 2);
  });
});
