// What the start-up left behind goes back to the system right after it (src/cli/start-up-memory.ts),
// not half a minute to two minutes later when V8's memory reducer would judge the process idle on
// its own: with 60 sleeping components, V8's compacting collections ("Mark-Compact (reduce)" in
// --trace-gc's lines) come within 15 s of the last component's start, and resident memory falls.
// Without the supervisor's hint they came 33 to 122 s after the start here (docs/performance.md).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rssBytes } from '../chaos/chaos.js';
import { cliPath } from '../helpers/paths.js';
import { killAllStarted, runCli } from '../helpers/processes.js';
import { writeRegistry } from '../helpers/registry.js';
import { waitFor } from '../helpers/wait.js';

const COMPONENTS = 60;

const residentMB = (pid: number): number => rssBytes(pid) / 2 ** 20;

test('the memory the start-up left behind goes back within seconds of the last start', async (t) => {
  t.after(killAllStarted);
  const servers = Array.from({ length: COMPONENTS }, (_, i) => ({
    id: `sleeper${i}`,
    command: 'sleep',
    args: ['1000'],
  }));
  const home = writeRegistry(servers, '<tcpport>0</tcpport>');
  // Node's --trace-gc prints each collection on stdout, among the supervisor's records
  const cli = runCli(['run', '--home', home], { prefix: [process.execPath, '--trace-gc'], bin: cliPath });
  await waitFor(
    () => cli.records().filter((r) => r.msg === 'component started').length === COMPONENTS || undefined,
    { timeout: 20_000, message: `${COMPONENTS} components started` },
  );
  const allStarted = Date.now();
  const residentAfterStart = residentMB(cli.pid);

  const reducing = () => cli.stdout.filter((line) => line.includes('Mark-Compact (reduce)'));
  await waitFor(() => reducing().length > 0 || undefined, {
    timeout: 15_000,
    message: `V8's compacting collections within 15 s of the last start (stdout: ${cli.stdout.filter((l) => l.includes('Mark-Compact')).join(' | ')})`,
  });
  const seconds = (Date.now() - allStarted) / 1000;
  // the reducer collects at least twice, ~0.5 s apart (memory-reducer.cc): the second is over
  await waitFor(() => reducing().length >= 2 || undefined, {
    timeout: 10_000,
    message: 'a second collection',
  });
  const residentAfterReduce = residentMB(cli.pid);
  assert.ok(
    residentAfterReduce < residentAfterStart - 2,
    `resident memory ${residentAfterStart.toFixed(1)} MB after the start, ${residentAfterReduce.toFixed(1)} MB once V8 reduced (${seconds.toFixed(1)} s later): at least 2 MB given back`,
  );

  cli.child.kill('SIGTERM');
  assert.equal(await cli.exited, 0, 'a clean stop afterwards');
});
