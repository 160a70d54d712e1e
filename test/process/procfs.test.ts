import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import { CLOCK_TICKS_PER_SECOND, pageSize, processGroupStats } from '../../src/process/procfs.js';
import { killGroup, processGroupMembers, processState } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const groups: number[] = [];
after(() => {
  for (const pgid of groups) killGroup(pgid);
});

/** a new process group running `script`; its pgid is the shell's pid */
function startGroup(script: string): number {
  const child = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  assert.ok(child.pid);
  child.unref();
  groups.push(child.pid);
  return child.pid;
}

function vmRssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) * 1024;
}

const burn = `${process.execPath} -e "while (process.cpuUsage().user < 600000);"`;

test('clock ticks and page size agree with getconf', () => {
  assert.equal(CLOCK_TICKS_PER_SECOND, Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })));
  assert.equal(pageSize(), Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' })));
});

test('memory and process count are summed over the whole group', async () => {
  const pgid = startGroup('sleep 60 & sleep 60 & sleep 60 & wait');
  // the three sleeps exec'd (a member still between fork and exec changes its memory under us)
  const comm = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      return '';
    }
  };
  // and settled: after exec a sleep still maps its libraries, so its RSS grows for a moment (CI saw
  // the two readings apart). Settled means every member asleep and the VmRSS sum the same twice.
  let lastSum = -1;
  await waitFor(
    () => {
      const members = processGroupMembers(pgid);
      if (members.length !== 4 || members.filter((pid) => comm(pid) === 'sleep').length !== 3) return false;
      if (!members.every((pid) => processState(pid) === 'S')) return false;
      const sum = members.reduce((total, pid) => total + vmRssBytes(pid), 0);
      const settled = sum === lastSum;
      lastSum = sum;
      return settled;
    },
    { interval: 50, message: '4 processes in the group, three of them sleep, all asleep and settled' },
  );
  const stats = processGroupStats([pgid]).get(pgid);
  assert.ok(stats);
  assert.equal(stats.processes, 4);
  const members = processGroupMembers(pgid);
  const expected = members.reduce((sum, pid) => sum + vmRssBytes(pid), 0);
  // idle processes: the two readings are taken apart but should hardly differ
  assert.ok(
    Math.abs(stats.rssBytes - expected) <= expected * 0.05,
    `rss ${stats.rssBytes} vs VmRSS sum ${expected}`,
  );
  assert.ok(stats.rssBytes > 0);
});

test('CPU time counts busy members, and a reaped worker keeps counting through its parent', async () => {
  const pgid = startGroup(`${burn}; sleep 60`);
  // the burner has exited and been waited for by sh: only sh and sleep are left
  await waitFor(
    () => {
      const stats = processGroupStats([pgid]).get(pgid);
      return stats && stats.processes === 2 && stats.cpuSeconds >= 0.5 && stats;
    },
    { timeout: 30_000, message: 'the burner to finish and be counted' },
  );
  const stats = processGroupStats([pgid]).get(pgid);
  assert.ok(stats && stats.cpuSeconds >= 0.5 && stats.cpuSeconds < 5, `cpu ${stats?.cpuSeconds}`);
});

test('several groups in one call; unknown and emptied groups are absent', async () => {
  const a = startGroup('exec sleep 60');
  const b = startGroup('sleep 60 & sleep 60 & wait');
  await waitFor(() => processGroupMembers(b).length === 3, { message: 'group b' });
  await waitFor(() => readFileSync(`/proc/${a}/cmdline`, 'utf8').startsWith('sleep'), { message: 'exec' });
  const done = spawn('sh', ['-c', 'exit 0'], { detached: true, stdio: 'ignore' });
  const gone = done.pid ?? 0;
  // 'exit' comes once Node has reaped it: not even a zombie is left
  await new Promise((resolve) => done.once('exit', resolve));
  const stats = processGroupStats([a, b, gone, 999_999_999]);
  assert.equal(stats.get(a)?.processes, 1);
  assert.equal(stats.get(b)?.processes, 3);
  assert.equal(stats.has(gone), false);
  assert.equal(stats.has(999_999_999), false);
  assert.equal(processGroupStats([]).size, 0);
});
