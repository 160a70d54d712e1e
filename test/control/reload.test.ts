// Reload (design.md §3) with a real supervisor: the registry file is rewritten under it, then
// `s7supervisor reload` (or SIGHUP). Only what changed is touched; an invalid file changes nothing.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { sampleValue } from '../helpers/exposition.js';
import { isAlive, killAllStarted } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';
import { parseTable, sleeper, supervise } from './harness.js';

afterEach(() => killAllStarted());

const servers = () => [sleeper('a', 1), sleeper('b', 2), sleeper('c', 3, { priority: 2 })];

async function reloads(url: string, result: 'success' | 'failure'): Promise<number | undefined> {
  const text = await (await fetch(url)).text();
  return sampleValue(text, 's7supervisor_reloads_total', { result });
}

test('an invalid registry changes nothing: same pids, the CLI says why (exit 2), the failure is counted; SIGHUP too', async () => {
  const sup = await supervise(servers(), { tcp: true });
  const before = await sup.pids();
  const file = join(sup.home, 'conf/SupervisorRegistry.xml');
  writeFileSync(
    file,
    `<supervisor>
  <servers>
    <server id="a"><command>sleep</command><stopTimeout>-1</stopTimeout></server>
    <server id="b"><comand>sleep</comand></server>
  </servers>
</supervisor>
`,
  );
  const { code, stdout, stderr } = await sup.ctl(['reload']);
  assert.equal(code, 2);
  assert.equal(stdout, '');
  assert.match(stderr, /^s7supervisor: reload failed, nothing changed:$/m);
  // the registry's own messages: the file, the line, the element
  assert.match(stderr, /SupervisorRegistry\.xml:3: .*stopTimeout/);
  assert.match(stderr, /SupervisorRegistry\.xml:4: .*comand/);
  assert.equal(await reloads(sup.url('/metrics'), 'failure'), 1);
  assert.equal(await reloads(sup.url('/metrics'), 'success'), 0);

  process.kill(sup.run.pid, 'SIGHUP');
  await waitFor(async () => (await reloads(sup.url('/metrics'), 'failure')) === 2, {
    message: 'the SIGHUP reload counted as a failure',
  });
  assert.ok(
    sup.run.records().some((r) => r.msg === 'reload failed: the running registry stays in place'),
    'the log says why',
  );
  const after = await sup.components();
  assert.deepEqual(
    after.map((c) => [c.id, c.pid, c.state, c.restarts]),
    Object.entries(before).map(([id, pid]) => [id, pid, 'running', 0]),
  );
  assert.equal(await sup.stop(), 0);
});

test("one server's arguments changed: only it restarts, with the new command line; the others keep their pid", async () => {
  const sup = await supervise(servers(), { tcp: true });
  const before = await sup.pids();
  sup.rewrite([sleeper('a', 1), sleeper('b', 22), sleeper('c', 3, { priority: 2 })]);
  const { code, stdout, stderr } = await sup.ctl(['reload']);
  assert.equal(code, 0, stderr);
  assert.equal(
    stdout,
    [
      `reloaded ${join(sup.home, 'conf/SupervisorRegistry.xml')}:`,
      '  restarted (process changed): b',
      '  unchanged: a, c',
    ].join('\n'),
  );
  const b = await waitFor(
    async () => {
      const component = await sup.component('b');
      return component?.state === 'running' && component.pid !== before.b ? component : undefined;
    },
    { timeout: 20_000, message: 'b running again' },
  );
  assert.equal(b.restarts, 1);
  assert.equal(isAlive(before.b!), false);
  assert.deepEqual(readCmdline(b.pid!), ['sleep', '100022']);
  const now = await sup.pids();
  assert.deepEqual([now.a, now.c], [before.a, before.c]);
  assert.equal(await reloads(sup.url('/metrics'), 'success'), 1);
  assert.equal(await sup.stop(), 0);
});

test('a server added: it starts; nothing else is touched', async () => {
  const sup = await supervise(servers());
  const before = await sup.pids();
  sup.rewrite([...servers(), sleeper('d', 4, { priority: 3 })]);
  const { code, stdout } = await sup.ctl(['reload']);
  assert.equal(code, 0);
  assert.match(stdout, /^ {2}added \(starting\): d$/m);
  assert.match(stdout, /^ {2}unchanged: a, b, c$/m);
  const list = await sup.waitRunning(['d']);
  assert.deepEqual(
    list.map((c) => c.id),
    ['a', 'b', 'c', 'd'],
  );
  const now = await sup.pids();
  assert.deepEqual([now.a, now.b, now.c], [before.a, before.b, before.c]);
  assert.deepEqual(readCmdline(now.d!), ['sleep', '100004']);
  const row = parseTable((await sup.ctl(['status', 'd'])).stdout)[0];
  assert.deepEqual([row?.ID, row?.STATE, row?.PID], ['d', 'running', String(now.d)]);
  assert.equal(await sup.stop(), 0);
});

test('a server removed: it stops and leaves the status; the others keep their pid', async () => {
  const sup = await supervise(servers());
  const before = await sup.pids();
  sup.rewrite([sleeper('a', 1), sleeper('c', 3, { priority: 2 })]);
  const { code, stdout } = await sup.ctl(['reload']);
  assert.equal(code, 0);
  assert.match(stdout, /^ {2}removed \(stopping\): b$/m);
  await waitFor(async () => (await sup.component('b')) === undefined, { message: 'b gone from the status' });
  assert.equal(isAlive(before.b!), false);
  const now = await sup.pids();
  assert.deepEqual(now, { a: before.a, c: before.c });
  const gone = await sup.ctl(['status', 'b']);
  assert.equal(gone.code, 4);
  assert.equal(await sup.stop(), 0);
});

test('priority and description changed: updated in place, same process, the new values in the status', async () => {
  const sup = await supervise(servers());
  const before = await sup.pids();
  const [a, b, c] = servers();
  sup.rewrite([{ ...a!, priority: 5, extra: '<description>Image Server</description>' }, b!, c!]);
  const { code, stdout } = await sup.ctl(['reload']);
  assert.equal(code, 0);
  assert.match(stdout, /^ {2}updated in place \(same process\): a$/m);
  const json = JSON.parse((await sup.ctl(['status', 'a', '--json'])).stdout) as {
    pid: number;
    startPriority: number;
    description: string;
    restarts: number;
    state: string;
  };
  assert.deepEqual(
    [json.pid, json.startPriority, json.description, json.restarts, json.state],
    [before.a, 5, 'Image Server', 0, 'running'],
  );
  assert.deepEqual(await sup.pids(), before);
  assert.equal(await sup.stop(), 0);
});

test('a component stopped by an operator stays stopped through a reload that changes it', async () => {
  const sup = await supervise(servers());
  assert.equal((await sup.ctl(['stop', 'b'])).code, 0);
  sup.rewrite([sleeper('a', 1), sleeper('b', 22), sleeper('c', 3, { priority: 2 })]);
  const { code, stdout } = await sup.ctl(['reload', '--json']);
  assert.equal(code, 0);
  const answer = JSON.parse(stdout) as { ok: boolean; changes: Record<string, string[]> };
  assert.equal(answer.ok, true);
  assert.deepEqual(answer.changes, {
    added: [],
    removed: [],
    restarted: ['b'],
    updated: [],
    unchanged: ['a', 'c'],
  });
  const b = await sup.component('b');
  assert.deepEqual([b?.state, b?.stoppedByOperator, b?.pid], ['stopped', true, undefined]);
  // started again, it runs the new command line
  assert.equal((await sup.ctl(['start', 'b'])).code, 0);
  assert.deepEqual(readCmdline((await sup.component('b'))!.pid!), ['sleep', '100022']);
  assert.equal(await sup.stop(), 0);
});

function readCmdline(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
}
