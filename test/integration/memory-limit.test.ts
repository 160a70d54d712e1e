// <limits memory> end to end (issue 12, Done when): a real `s7supervisor run`, a component whose
// process group grows past its limit, one that stays below. The grower is two Node processes
// under one shell, each well below the limit alone: it is the whole group that passes it.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { parseTable, supervise } from '../control/harness.js';
import { sampleValue } from '../helpers/exposition.js';
import { killAllStarted } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

afterEach(() => killAllStarted());

const MiB = 1024 ** 2;
const LIMIT_MIB = 150;
const CHECK_INTERVAL = 1;

/** a Node process that takes `mib` MiB more after `delayMs` (filled, so resident), says so, and idles */
const node = (mib: number, delayMs: number) =>
  `${process.execPath} -e "setTimeout(() => { globalThis.kept = Buffer.alloc(${mib} * 1024 * 1024, 1); console.log('grown'); }, ${delayMs}); setInterval(() => {}, 1e6)"`;

const limits = `<limits memory="${LIMIT_MIB}MiB" checkInterval="${CHECK_INTERVAL}"/>
      <restart policy="always" backoffInitial="1" backoffMax="1" resetAfter="60"/>`;

test('a component that grows past its limit is restarted for memory within 3 × checkInterval + 1 s; one below is never touched', async (t) => {
  const sup = await supervise(
    [
      {
        id: 'grower',
        command: 'sh',
        // each process alone stays below the limit; the group passes it once both have grown
        args: ['-c', `${node(70, 1500)} & ${node(70, 1500)} & wait`],
        extra: limits,
      },
      { id: 'steady', command: 'sh', args: ['-c', `${node(10, 0)} & wait`], extra: limits },
    ],
    { tcp: true },
  );
  const first = await sup.component('grower');
  assert.ok(first?.pid);
  const steadyPid = (await sup.component('steady'))?.pid;
  assert.ok(steadyPid);

  // both processes of the first run have grown: the group is above the limit from then on
  const grown = await waitFor(
    () => {
      const lines = sup.run
        .records()
        .filter((r) => r.component === 'grower' && r.pid === first.pid && r.msg === 'grown');
      return lines.length === 2 && lines;
    },
    { timeout: 20_000, message: 'both processes of grower to grow' },
  );
  const overSince = Math.max(...grown.map((r) => Number(r.time)));
  const said = await sup.run.waitForRecord(
    (r) => r.component === 'grower' && typeof r.msg === 'string' && r.msg.startsWith('resident memory'),
    20_000,
  );
  const after = (Number(said.time) - overSince) / 1000;
  const bound = 3 * CHECK_INTERVAL + 1;
  t.diagnostic(`above the limit → restart decided in ${after.toFixed(2)} s (bound ${bound} s)`);
  assert.ok(after <= bound, `decided ${after.toFixed(2)} s after the group passed the limit`);
  assert.match(
    String(said.msg),
    new RegExp(
      `^resident memory [\\d.]+ MiB above the limit ${LIMIT_MIB} MiB at 3 samples in a row: restarting$`,
    ),
  );
  assert.ok(Number(said.residentMemoryBytes) > LIMIT_MIB * MiB);
  assert.equal(said.memoryLimitBytes, LIMIT_MIB * MiB);

  const restarted = await waitFor(
    async () => {
      const now = await sup.component('grower');
      return now?.pid !== undefined && now.pid !== first.pid && now;
    },
    { timeout: 20_000, message: 'grower restarted' },
  );
  assert.equal(restarted.lastExit?.reason, 'memory');
  assert.equal(restarted.exits.memory, 1);
  assert.ok(restarted.restarts >= 1);
  assert.equal(restarted.memoryLimitBytes, LIMIT_MIB * MiB);

  const metrics = await (await fetch(sup.url('/metrics'))).text();
  const v = (name: string, labels: Record<string, string>) => sampleValue(metrics, name, labels);
  assert.equal(v('s7supervisor_component_exits_total', { component: 'grower', reason: 'memory' }), 1);
  assert.ok((v('s7supervisor_component_restarts_total', { component: 'grower' }) ?? 0) >= 1);
  assert.equal(v('s7supervisor_component_memory_limit_bytes', { component: 'grower' }), LIMIT_MIB * MiB);
  assert.equal(v('s7supervisor_component_memory_limit_bytes', { component: 'steady' }), LIMIT_MIB * MiB);
  assert.equal(v('s7supervisor_component_exits_total', { component: 'steady', reason: 'memory' }), 0);

  const status = await sup.ctl(['status']);
  assert.equal(status.code, 0, status.stderr);
  const row = parseTable(status.stdout).find((r) => r.ID === 'grower');
  assert.match(row?.['LAST EXIT'] ?? '', /\(memory\)/);

  // the one below its limit ran all along, untouched
  const steady = await sup.component('steady');
  assert.equal(steady?.pid, steadyPid);
  assert.equal(steady?.restarts, 0);
  assert.equal(steady?.lastExit, undefined);
  assert.equal(await sup.stop(), 0);
});
