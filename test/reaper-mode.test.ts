// The reaper's decisions, with the kernel calls replaced: which mode at start-up, what is logged,
// how sweeps are resumed and counted. (What the kernel does is tested in reaper.test.ts.)
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadNative, type ReapResult } from '../src/process/native.js';
import { initReaperMode, startReaper } from '../src/process/reaper.js';
import { waitFor } from './helpers/wait.js';

function fakePrctl(works: boolean) {
  const calls: string[] = [];
  return {
    calls,
    native: {
      setChildSubreaper: () => {
        calls.push('setChildSubreaper');
        return works;
      },
    },
  };
}

describe('initReaperMode', () => {
  test('PID 1 reaps everything and needs no prctl', () => {
    const fake = fakePrctl(true);
    const decision = initReaperMode({ isPid1: true, native: fake.native });
    assert.equal(decision.mode, 'pid1');
    assert.equal(decision.warning, undefined);
    assert.match(decision.description, /PID 1/);
    assert.deepEqual(fake.calls, []);
  });

  test('not PID 1: becomes a child subreaper, by default and with --subreaper', () => {
    for (const subreaper of [undefined, false, true]) {
      const fake = fakePrctl(true);
      const decision = initReaperMode({ isPid1: false, subreaper, native: fake.native });
      assert.equal(decision.mode, 'subreaper');
      assert.equal(decision.warning, undefined);
      assert.match(decision.description, /not running as PID 1.*child subreaper/);
      assert.deepEqual(fake.calls, ['setChildSubreaper']);
    }
  });

  test('neither PID 1 nor able to be a subreaper: warns as tini does', () => {
    const decision = initReaperMode({ isPid1: false, native: fakePrctl(false).native });
    assert.equal(decision.mode, 'none');
    assert.match(decision.warning ?? '', /not running as PID 1.*could not register as a child subreaper/);
    assert.match(decision.warning ?? '', /zombie reaping will not work/);
  });
});

describe('startReaper', () => {
  test('passes the pids Node owns, counts what is reaped, resumes a sweep cut short', async () => {
    const results: ReapResult[] = [
      { reaped: [orphan(101), orphan(102), orphan(103)], method: 'waitid', complete: false },
      { reaped: [orphan(104), orphan(105)], method: 'stat-scan', complete: true },
    ];
    const seen: number[][] = [];
    const reported: number[] = [];
    const reaper = startReaper({
      native: {
        reapOrphans(owned) {
          seen.push([...owned]);
          return results.shift() ?? { reaped: [], method: 'waitid', complete: true };
        },
      },
      ownedPids: () => new Set([7, 8]),
      onReaped: (count) => reported.push(count),
      followUpMs: 600_000,
    });
    try {
      // the start-up sweep is cut short; the rest comes on the next turn, unasked
      await waitFor(() => reaper.total === 5, { timeout: 5000, message: 'the resumed sweep' });
      assert.deepEqual(reported, [3, 2]);
      assert.deepEqual(seen[0], [7, 8]);
      assert.equal(reaper.reapNow(), 0);
    } finally {
      reaper.stop();
    }
  });

  test('idle: no sweep without SIGCHLD; a SIGCHLD sweeps at once, then once more after followUpMs', async () => {
    const sweeps: number[] = [];
    const t0 = performance.now();
    const reaper = startReaper({
      native: {
        reapOrphans() {
          sweeps.push(performance.now() - t0);
          return { reaped: [], method: 'waitid', complete: true };
        },
      },
      ownedPids: () => [],
      followUpMs: 150,
    });
    try {
      assert.equal(sweeps.length, 1, 'the start-up sweep');
      await new Promise((resolve) => setTimeout(resolve, 400));
      assert.equal(sweeps.length, 1, 'nothing while no child exits');
      // a real SIGCHLD, as the kernel sends it when a child exits
      process.kill(process.pid, 'SIGCHLD');
      await waitFor(() => sweeps.length >= 2, { timeout: 2000, message: 'the sweep on SIGCHLD' });
      const signalled = sweeps[1]!;
      await waitFor(() => sweeps.length >= 3, { timeout: 2000, message: 'the follow-up sweep' });
      assert.ok(sweeps[2]! - signalled >= 140, `follow-up ${sweeps[2]! - signalled} ms after the signal`);
      await new Promise((resolve) => setTimeout(resolve, 400));
      assert.equal(sweeps.length, 3, 'and nothing after it');
    } finally {
      reaper.stop();
    }
  });

  test('a failing sweep is logged, never thrown', () => {
    const warnings: string[] = [];
    const logger = {
      debug: () => {},
      info: () => {},
      warn: (_obj: Record<string, unknown>, msg: string) => warnings.push(msg),
    };
    const reaper = startReaper({
      native: {
        reapOrphans() {
          throw new Error('ENOMEM');
        },
      },
      logger,
      followUpMs: 600_000,
    });
    try {
      assert.equal(reaper.reapNow(), 0);
      assert.deepEqual(warnings, ['reaping orphans failed']);
    } finally {
      reaper.stop();
    }
  });

  test('the real addon: with no orphans around, a sweep reaps nothing and says so', () => {
    const native = loadNative();
    // This test process has no children: nothing of anyone's can be taken.
    const result = native.reapOrphans([]);
    assert.deepEqual(result.reaped, []);
    assert.equal(result.complete, true);
  });
});

function orphan(pid: number) {
  return { pid, exitCode: 0, signal: null };
}
