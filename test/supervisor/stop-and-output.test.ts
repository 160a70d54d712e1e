// Two details of stopping and of output that a user sees: a SIGSTOPped component is continued
// after its stop signal (as systemd does), so it stops at once instead of waiting out its
// stopTimeout; and each output record carries the pid of the run that printed it, not ours.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { sleeper, supervise } from '../control/harness.js';
import { killAllStarted } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

after(killAllStarted);

describe('stopping and output details', { timeout: 60_000 }, () => {
  test('a SIGSTOPped component stops on its stop signal, not after its stopTimeout', async () => {
    const s = await supervise([sleeper('frozen', 1, { stopTimeout: 20 })]);
    const pid = (await s.pids()).frozen!;
    process.kill(pid, 'SIGSTOP');
    await waitFor(() => /\) T/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')), {
      timeout: 5000,
      message: 'the component stopped (T)',
    });
    const startedAt = Date.now();
    const stop = await s.ctl(['stop', 'frozen']);
    const took = Date.now() - startedAt;
    assert.equal(stop.code, 0, stop.stderr);
    // without SIGCONT the TERM would wait, pending, until SIGKILL 20 s later
    assert.ok(took < 10_000, `stopped after ${took} ms`);
    const exit = (await s.component('frozen'))?.lastExit;
    assert.equal(exit?.signal, 'SIGTERM', 'it died of its stop signal, not of SIGKILL');
    assert.equal(await s.stop(), 0);
  });

  test("each output record carries the pid of the run that printed it, and the supervisor's records carry none", async () => {
    const s = await supervise([
      { id: 'talker', command: 'sh', args: ['-c', 'echo hello from the talker; exec sleep 100017'] },
    ]);
    const pid = (await s.pids()).talker;
    const line = await s.run.waitForRecord(
      (r) => r.component === 'talker' && r.msg === 'hello from the talker',
    );
    assert.equal(line.pid, pid);
    assert.equal(line.stream, 'stdout');
    const own = s.run.records().find((r) => r.msg === 'supervisor starting');
    assert.equal(own?.pid, undefined);
    assert.equal(await s.stop(), 0);
  });
});
