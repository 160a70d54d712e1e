// Kill storm as PID 1: the supervisor is PID 1 of a fresh PID namespace with three components,
// each a main process (test/fixtures/chaos-workers.pl) keeping two `sleep` workers in its process
// group. For a minute, at random intervals, SIGKILL lands on random main processes and random
// workers. A main keeps its workers topped up and reaps them, so a worker kill never ends it:
// exactly one restart per main kill, none per worker kill. At the end: those exact counts in the
// metrics, no zombie in the namespace, no process of an earlier run's process group, all running.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { sampleValue } from '../helpers/exposition.js';
import {
  descendants,
  killAllNamespaces,
  namespacePid1,
  namespaceZombies,
  startInNamespace,
} from '../helpers/namespace.js';
import { cliPath, repoRoot } from '../helpers/paths.js';
import { isAlive } from '../helpers/processes.js';
import { writeRegistry } from '../helpers/registry.js';
import { freePort } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';
import { comm, delay, getText, innerPid, pgidOf, round, seededRandom, startTicks } from './chaos.js';

const STORM_MS = Number(process.env.CHAOS_STORM_MS ?? 60_000);
const MAX_ACTIONS = 600;
const WORKERS = 2;
const ids = ['is', 'svg', 'ps'];
const fixture = join(repoRoot, 'test/fixtures/chaos-workers.pl');

after(killAllNamespaces);

function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

interface Tree {
  /** live main process of each component (outer pids), by id */
  mains: Map<string, number>;
  /** live workers (outer pids) with the id of their main */
  workers: Array<{ pid: number; id: string }>;
}

/** the namespace seen from outside: mains are the perl children of PID 1, workers their sleeps */
function tree(pid1: number): Tree {
  const all = descendants(pid1);
  const mains = new Map<string, number>();
  for (const p of all) {
    if (p.ppid !== pid1 || p.state === 'Z' || comm(p.pid) !== 'perl') continue;
    const id = cmdline(p.pid)[2];
    if (id) mains.set(id, p.pid);
  }
  const byMain = new Map([...mains].map(([id, pid]) => [pid, id]));
  const workers = all
    .filter((p) => p.state !== 'Z' && byMain.has(p.ppid) && comm(p.pid) === 'sleep')
    .map((p) => ({ pid: p.pid, id: byMain.get(p.ppid)! }));
  return { mains, workers };
}

test('kill storm as PID 1: one restart per main-process kill, none per worker kill, no zombie, no leftover, all running', async () => {
  const port = await freePort();
  const home = writeRegistry(
    ids.map((id) => ({
      id,
      command: 'perl',
      args: [fixture, id, String(WORKERS)],
      extra: '<restart policy="always" backoffInitial="0.05" backoffMax="0.05" resetAfter="0"/>',
    })),
    `<tcpport>${port}</tcpport><host>127.0.0.1</host><tracestatsinterval>0</tracestatsinterval>
    <restartIntensity max="100000" period="60"/>`,
  );
  const run = startInNamespace([process.execPath, cliPath, 'run', '--home', home, '--log-level', 'info']);
  const url = (path: string) => `http://127.0.0.1:${port}${path}`;
  const components = async () => {
    const { status, body } = await getText(url('/api/v1/components'));
    if (status !== 200) throw new Error(`GET /api/v1/components: ${status}`);
    return (JSON.parse(body) as { components: Array<{ id: string; state: string; pid?: number }> })
      .components;
  };
  const pid1 = await waitFor(() => namespacePid1(run.pid), { message: 'the namespace PID 1' });
  assert.equal(innerPid(pid1), 1, 'the supervisor is PID 1 of its namespace');
  /** every component running with all its workers, or undefined */
  const upNow = async () => {
    const list = await components();
    const t = tree(pid1);
    return list.every((c) => c.state === 'running') &&
      t.mains.size === ids.length &&
      t.workers.length === ids.length * WORKERS
      ? list
      : undefined;
  };
  const fullyUp = () =>
    waitFor(upNow, { timeout: 20_000, message: 'every component running with its workers' });
  await fullyUp();

  const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
  const random = seededRandom(seed);
  const pick = <T>(items: T[]): T | undefined => items[Math.floor(random() * items.length)];
  const mainKills = Object.fromEntries(ids.map((id) => [id, 0]));
  /** killed pids, with their start time: the pid alone may be reused meanwhile */
  const killed = new Map<number, number | undefined>();
  const notKilledYet = (pid: number) => !killed.has(pid) || killed.get(pid) !== startTicks(pid);
  let workerKills = 0;
  let maxZombies = 0;
  const t0 = Date.now();
  for (let i = 0; i < MAX_ACTIONS && Date.now() - t0 < STORM_MS; i++) {
    await delay(20 + random() * 300);
    assert.equal(run.child.exitCode, null, `the supervisor died:\n${run.stderr.join('\n')}`);
    maxZombies = Math.max(maxZombies, namespaceZombies(run.pid));
    const t = tree(pid1);
    if (random() < 0.5) {
      const target = pick([...t.mains].filter(([, pid]) => notKilledYet(pid)));
      if (!target) continue;
      const [id, pid] = target;
      killed.set(pid, startTicks(pid));
      process.kill(pid, 'SIGKILL');
      mainKills[id]! += 1;
    } else {
      const target = pick(t.workers.filter((w) => notKilledYet(w.pid)));
      if (!target) continue;
      killed.set(target.pid, startTicks(target.pid));
      process.kill(target.pid, 'SIGKILL');
      workerKills += 1;
    }
  }
  const stormSeconds = (Date.now() - t0) / 1000;

  const restarts = async () => {
    const { body } = await getText(url('/metrics'));
    return Object.fromEntries(
      ids.map((id) => [
        id,
        {
          restarts: sampleValue(body, 's7supervisor_component_restarts_total', { component: id }),
          signaled: sampleValue(body, 's7supervisor_component_exits_total', {
            component: id,
            reason: 'signaled',
          }),
          exited: sampleValue(body, 's7supervisor_component_exits_total', {
            component: id,
            reason: 'exited',
          }),
        },
      ]),
    );
  };
  const expected = Object.fromEntries(
    ids.map((id) => [id, { restarts: mainKills[id], signaled: mainKills[id], exited: 0 }]),
  );
  // every kill restarted (the last one within its 50 ms backoff), and nothing else happened
  await waitFor(
    async () => (await upNow()) && JSON.stringify(await restarts()) === JSON.stringify(expected),
    { timeout: 20_000, message: `restart counts ${JSON.stringify(expected)}` },
  ).catch(async (error: Error) => {
    assert.deepEqual(await restarts(), expected, error.message);
    throw error;
  });

  await waitFor(() => namespaceZombies(run.pid) === 0, {
    timeout: 3000,
    message: 'no zombie in the namespace',
  });
  // No leftover: every process in the namespace but PID 1 is in the process group of a main
  // process that runs now (the API's pids are the namespace's own; the tree's are ours)
  const t = tree(pid1);
  const api = await components();
  assert.deepEqual(
    api.map((c) => c.pid).sort(),
    [...t.mains.values()].map((pid) => innerPid(pid)).sort(),
    'the API names the main processes that run',
  );
  const currentGroups = new Set(t.mains.values());
  const leftovers = descendants(run.pid)
    .filter((p) => p.pid !== pid1 && !currentGroups.has(pgidOf(p.pid) ?? -1))
    .map((p) => `${p.pid} ${comm(p.pid)} pgid ${pgidOf(p.pid)} state ${p.state}`);
  assert.deepEqual(leftovers, [], 'processes of an earlier run');
  assert.equal(t.workers.length, ids.length * WORKERS, 'each main has its workers');
  for (const [pid, ticks] of killed)
    assert.ok(!isAlive(pid) || startTicks(pid) !== ticks, `killed ${pid} is gone`);

  const { body } = await getText(url('/metrics'));
  const figures = {
    seed,
    seconds: round(stormSeconds),
    mainKills,
    workerKills,
    restarts: Object.fromEntries(Object.entries(await restarts()).map(([id, r]) => [id, r.restarts])),
    zombiesReaped: sampleValue(body, 's7supervisor_zombies_reaped_total'),
    maxZombiesSeen: maxZombies,
  };
  console.log(`kill-storm: ${JSON.stringify(figures)}`);
  assert.ok(workerKills >= 20 && Object.values(mainKills).every((n) => n >= 5), 'the storm was a storm');
  // still exactly those counts, after all the checks above
  assert.deepEqual(await restarts(), expected);

  process.kill(pid1, 'SIGTERM');
  assert.equal(await run.exited, 0, 'an ordered stop after the storm');
  assert.ok(run.records().some((r) => r.msg === 'supervisor exiting'));
});
