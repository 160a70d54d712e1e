// Output the log cannot take (design.md §6, §7 rev. 2): when the supervisor's stdout goes away,
// components' output is dropped, counted per component in s7supervisor_log_dropped_bytes_total,
// and said once per component in the log (here the <log> file, stdout being gone), while the
// in-memory buffers keep the last lines all the same.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { socketRequest } from '../control/harness.js';
import { sampleValue } from '../helpers/exposition.js';
import { repoRoot } from '../helpers/paths.js';
import { killAllStarted, parseRecords, runCli } from '../helpers/processes.js';
import { writeRegistry } from '../helpers/registry.js';
import { freePort } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';

afterEach(() => killAllStarted());

const ticker = (id: string, output: 'json' | 'raw') => ({
  id,
  command: 'sh',
  args: ['-c', `i=0; while :; do i=$((i+1)); echo "${id} tick $i"; sleep 0.01; done`],
  stopTimeout: 2,
  extra: `<output>${output}</output>`,
});

test('stdout gone: dropped output counted per component and said once each; the buffers go on', async () => {
  const port = await freePort();
  const home = writeRegistry(
    [ticker('is', 'json'), ticker('svg', 'raw')],
    `<tcpport>${port}</tcpport><host>127.0.0.1</host><log>logs/Supervisor.log</log>`,
  );
  const run = runCli(['run', '--home', home], { env: { S7SUPERVISOR_CONTROL_TOKEN: '' } });
  const metric = async () => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return (id: string) => sampleValue(text, 's7supervisor_log_dropped_bytes_total', { component: id });
  };
  await waitFor(
    async () =>
      run.records().filter((r) => r.msg === 'component started').length === 2 && (await metric())('is') === 0,
    { timeout: 20_000, message: 'both started, the counter at 0' },
  );
  assert.equal((await metric())('svg'), 0);
  // whoever read our stdout goes away
  run.child.stdout?.destroy();
  const counted = await waitFor(
    async () => {
      const value = await metric();
      const is = value('is') ?? 0;
      const svg = value('svg') ?? 0;
      return is > 2000 && svg > 2000 ? { is, svg } : undefined;
    },
    { timeout: 20_000, message: 'dropped bytes counted for both' },
  );
  // still counting, still said only once
  await waitFor(async () => ((await metric())('svg') ?? 0) > counted.svg, { message: 'the count going on' });
  const logs = join(home, 'logs');
  const file = join(logs, readdirSync(logs)[0]!);
  const warnings = parseRecords(readFileSync(file, 'utf8').split('\n')).filter((r) =>
    String(r.msg).startsWith('output of this component is being dropped'),
  );
  assert.deepEqual(warnings.map((r) => r.component).sort(), ['is', 'svg']);
  assert.ok(warnings.every((r) => r.level === 40));
  // the buffers do not depend on stdout
  const { body } = await socketRequest(join(home, 'temp/s7supervisor.sock'), '/api/v1/logs?tail=1');
  assert.match(body, /"msg":"is tick \d+"/);
  assert.match(body, /"msg":"svg tick \d+"/);
  process.kill(run.pid, 'SIGTERM');
  assert.equal(await run.exited, 0);
});

test('stdout gone in the middle of a raw burst (the relay splicing): what was not written is counted', async () => {
  // 20 MB written at once fill the component's pipe, so its relay moves them with splice(2)
  // (native/relay.c) when the reader goes: splice fails with EPIPE, and the rest is dropped
  const total = 200_000 * 100;
  const port = await freePort();
  const numberedLines = join(repoRoot, 'dist/test/fixtures/numbered-lines.js');
  const home = writeRegistry(
    [
      {
        id: 'burst',
        command: process.execPath,
        args: [numberedLines, '--count', '200000', '--size', '100'],
        extra: '<output>raw</output><restart policy="never"/>',
      },
    ],
    `<tcpport>${port}</tcpport><host>127.0.0.1</host>`,
  );
  const run = runCli(['run', '--home', home], { env: { S7SUPERVISOR_CONTROL_TOKEN: '' } });
  const stdout = run.child.stdout!;
  // the reader goes at the burst's first line
  await waitFor(() => run.stdout.some((line) => line.startsWith('line 0000001')), {
    message: 'the first line',
  });
  stdout.destroy();
  const dropped = await waitFor(
    async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const exited = sampleValue(text, 's7supervisor_component_up', { component: 'burst' }) === 0;
      return exited
        ? sampleValue(text, 's7supervisor_log_dropped_bytes_total', { component: 'burst' })
        : undefined;
    },
    { timeout: 20_000, message: 'the burst over' },
  );
  // all but what our stdout's socket and pipe took before the reader went (a few MB at most)
  assert.ok(dropped! > total - 4_000_000 && dropped! <= total, `dropped ${dropped} of ${total} bytes`);
  process.kill(run.pid, 'SIGTERM');
  assert.equal(await run.exited, 0);
});
