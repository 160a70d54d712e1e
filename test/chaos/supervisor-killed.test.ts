// Chaos: the supervisor itself is SIGKILLed while it runs as a daemon on a host (--subreaper, not
// PID 1). Its components and their workers must die with it (design.md §3 rev. 2), or starting it
// again gives two live copies of each, the old ones holding the ports.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { killAllStarted, killGroup, runCli } from '../helpers/processes.js';
import { writeRegistry } from '../helpers/registry.js';
import { waitFor } from '../helpers/wait.js';

after(killAllStarted);

/** live (not zombie) processes whose command line starts with `needle` */
function processesWith(needle: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const state = readFileSync(`/proc/${name}/stat`, 'utf8').split(') ')[1]?.[0];
      if (cmdline.startsWith(needle) && state !== 'Z') pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** field `n` (1-based, as proc(5) counts them) of /proc/PID/stat */
const statField = (pid: number, n: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[n - 3];
};
const parentOf = (pid: number) => Number(statField(pid, 4));

describe('the supervisor killed by SIGKILL (not PID 1)', { timeout: 60_000 }, () => {
  test('no component or worker survives it by more than 2 s', async () => {
    const tag = 310_000 + (process.pid % 1000) * 10;
    const home = writeRegistry([
      { id: 'web', command: 'sh', args: ['-c', `sleep ${tag + 1} & sleep ${tag + 2} & wait`] },
      { id: 'db', command: 'sh', args: ['-c', `sleep ${tag + 3} & wait`], priority: 2 },
    ]);
    const run = runCli(['run', '--home', home, '--port', '0', '--subreaper']);
    const groups: number[] = [];
    try {
      await waitFor(() => processesWith(`sleep ${tag + 3}`).length === 1, {
        timeout: 15_000,
        message: 'both components and their workers running',
      });
      for (const record of run.records())
        if (record.msg === 'component started') groups.push(record.pid as number);
      const ours = () => [1, 2, 3].flatMap((n) => processesWith(`sleep ${tag + n}`));
      assert.equal(ours().length, 3, 'three workers');
      process.kill(run.pid, 'SIGKILL');
      const killedAt = Date.now();
      await waitFor(() => ours().length === 0, {
        timeout: 2000,
        message: 'every component process gone within 2 s of the SIGKILL',
      });
      console.log(`components gone ${Date.now() - killedAt} ms after the supervisor's SIGKILL`);
    } finally {
      for (const pgid of groups) killGroup(pgid);
    }
  });

  test('a clean stop leaves nothing behind either, and the watchdog goes with it', async () => {
    const tag = 320_000 + (process.pid % 1000) * 10;
    const home = writeRegistry([{ id: 'web', command: 'sh', args: ['-c', `sleep ${tag + 1} & wait`] }]);
    const run = runCli(['run', '--home', home, '--port', '0', '--subreaper']);
    await waitFor(() => processesWith(`sleep ${tag + 1}`).length === 1, {
      timeout: 15_000,
      message: 'running',
    });
    const watchdogs = processesWith("/bin/sh -c \ntrap ''").filter((pid) => parentOf(pid) === run.pid);
    assert.equal(watchdogs.length, 1, 'one watchdog, a child of the supervisor');
    // woken by each start and exit of a component, it must not preempt the supervisor (policy,
    // the 41st field of /proc/PID/stat: 3 is SCHED_BATCH)
    assert.equal(statField(watchdogs[0]!, 41), '3', 'the watchdog runs SCHED_BATCH');
    process.kill(run.pid, 'SIGTERM');
    assert.equal(await run.exited, 0);
    assert.deepEqual(processesWith(`sleep ${tag + 1}`), []);
    await waitFor(
      () =>
        !existsSync(`/proc/${watchdogs[0]}/cmdline`) ||
        processesWith("/bin/sh -c \ntrap ''").every((pid) => pid !== watchdogs[0]),
      {
        timeout: 2000,
        message: 'the watchdog gone',
      },
    );
  });
});
