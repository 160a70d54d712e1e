// The lifecycle state machine, without processes: every transition and the backoff arithmetic.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RestartSpec } from '../../src/registry/model.js';
import {
  type Effect,
  Lifecycle,
  type ProcessExit,
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
    const effects = l.exited(killed('SIGKILL', 9), 10_000);
    assert.deepEqual(effects.at(-1), { type: 'restart', delayMs: 0 });
    assert.ok(types(effects).includes('kill-group'), 'leftovers of the group are killed');
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
      const effect = l.exited(exitCode(1), now).at(-1);
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
      const effect = l.exited(exitCode(1), 100).at(-1);
      assert.equal(effect?.type === 'restart' ? effect.delayMs : -1, expected);
    }
  });

  test('a stable run after short ones starts the backoff over', () => {
    const l = running({ backoffInitial: 1, resetAfter: 10 });
    l.exited(exitCode(1), 100); // short: 1 s
    l.backoffElapsed();
    l.spawned(101, 1200);
    l.exited(exitCode(1), 1300); // short: 2 s
    l.backoffElapsed();
    l.spawned(102, 4000);
    assert.deepEqual(l.exited(exitCode(1), 20_000).at(-1), { type: 'restart', delayMs: 0 }); // stable
    l.backoffElapsed();
    l.spawned(103, 20_000);
    assert.deepEqual(l.exited(exitCode(1), 20_100).at(-1), { type: 'restart', delayMs: 1000 });
  });

  test('policy never: a failure is fatal, exit 0 is stopped; no restart either way', () => {
    const failing = running({ policy: 'never' });
    assert.ok(!types(failing.exited(exitCode(3), 50)).includes('restart'));
    assert.equal(failing.state, 'fatal');
    const clean = running({ policy: 'never' });
    assert.ok(!types(clean.exited(exitCode(0), 50)).includes('restart'));
    assert.equal(clean.state, 'stopped');
  });

  test('policy on-failure: exit 0 stays stopped, a non-zero exit or a signal restarts', () => {
    const clean = running({ policy: 'on-failure' });
    assert.ok(!types(clean.exited(exitCode(0), 50)).includes('restart'));
    assert.equal(clean.state, 'stopped');
    const failing = running({ policy: 'on-failure' });
    assert.ok(types(failing.exited(exitCode(2), 50)).includes('restart'));
    const signaled = running({ policy: 'on-failure' });
    assert.ok(types(signaled.exited(killed('SIGTERM', 15), 50)).includes('restart'));
  });

  test('policy always restarts after exit 0 too', () => {
    const l = running({ policy: 'always' });
    assert.ok(types(l.exited(exitCode(0), 50)).includes('restart'));
  });

  test('stop: stop signal with the stop timer; the exit is "stopped" and nothing restarts', () => {
    const l = running();
    assert.deepEqual(l.stop(true), [{ type: 'stop-checks' }, { type: 'stop-group', seconds: 10 }]);
    assert.equal(l.state, 'stopping');
    assert.equal(l.ready, false);
    assert.deepEqual(types(l.stopTimedOut()), ['kill-group']);
    const effects = l.exited(killed('SIGKILL', 9), 20_000);
    assert.deepEqual(types(effects), ['stop-checks', 'kill-group', 'cancel-stop-timer']);
    assert.equal(l.state, 'stopped');
    assert.equal(l.exits.stopped, 1);
    assert.equal(l.lastExit?.reason, 'stopped');
    assert.equal(l.stoppedByOperator, true);
    assert.equal(l.notReadyReason, 'stopped by operator');
  });

  test('stop during backoff cancels the pending restart', () => {
    const l = running();
    l.exited(exitCode(1), 100);
    assert.equal(l.state, 'backoff');
    assert.deepEqual(types(l.stop()), ['cancel-backoff']);
    assert.equal(l.state, 'stopped');
    assert.deepEqual(l.backoffElapsed(), []);
  });

  test('operator restart: stop, then spawn again when it has exited, counted as a restart', () => {
    const l = running();
    assert.deepEqual(types(l.restart()), ['stop-checks', 'stop-group']);
    const effects = l.exited(killed('SIGTERM', 15), 5000);
    assert.equal(types(effects).at(-1), 'spawn');
    assert.equal(l.state, 'starting');
    assert.equal(l.restarts, 1);
    assert.equal(l.lastExit?.reason, 'stopped');
  });

  test('start from stopped is not a restart; start while stopping comes back up', () => {
    const l = running();
    l.stop(true);
    assert.deepEqual(l.start(true), []);
    assert.equal(types(l.exited(exitCode(0), 100)).at(-1), 'spawn');
    assert.equal(l.stoppedByOperator, false);
    const m = running();
    m.stop(true);
    m.exited(exitCode(0), 100);
    m.start(true);
    assert.equal(m.restarts, 0);
  });

  test('unhealthy: stopped with the stop signal, then restarted by policy with reason unhealthy', () => {
    const l = running();
    assert.deepEqual(types(l.unhealthy()), ['stop-checks', 'stop-group']);
    const effects = l.exited(killed('SIGTERM', 15), 20_000);
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
    l.spawnFailed('spawn nope ENOENT', 'ENOENT', true);
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
    const effects = l.spawnFailed('spawn /bin/sh EAGAIN', 'EAGAIN', false);
    assert.equal(l.state, 'backoff');
    assert.deepEqual(effects, [{ type: 'restart', delayMs: SHORTAGE_RETRY_FLOOR_MS }]);
    assert.match(l.notReadyReason ?? '', /EAGAIN; trying again/);
    assert.deepEqual(types(l.backoffElapsed()), ['spawn']);
    assert.equal(l.restarts, 1);
  });

  test('a shortage at spawn under policy never is fatal', () => {
    const l = new Lifecycle({ restart: restart({ policy: 'never' }), stopTimeout: 10 });
    l.start();
    l.spawnFailed('spawn x EMFILE', 'EMFILE', false);
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
    assert.deepEqual(types(l.spawnFailed('spawn x EAGAIN', 'EAGAIN', false)), ['cancel-stop-timer']);
    assert.equal(l.state, 'stopped');
  });

  test('events that do not apply to the state are ignored', () => {
    const l = new Lifecycle({ restart: restart(), stopTimeout: 10 });
    assert.deepEqual(l.exited(exitCode(1), 0), []);
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
  l.exited({ code: 0, signal: null, exitCode: 0 }, 10);
  l.stopForRestart();
  assert.equal(l.stoppedByOperator, false);
  l.start();
  assert.equal(l.restarts, 1);
  assert.equal(l.state, 'starting');
});
