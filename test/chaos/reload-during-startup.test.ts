// Chaos: an operator (or a deploy) acts while the supervisor is still starting. Reload, restart of
// everything and an operator's stop all act on one ordered start, so they cannot cross: a removed
// server never starts, an added one waits for its turn, an operator's stop holds, and nothing runs
// that `status` does not show (design.md §3, "Reload").
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { cli, socketRequest } from '../control/harness.js';
import { descendants } from '../helpers/namespace.js';
import { killAllStarted, type RunningCli, runCli } from '../helpers/processes.js';
import { type TestServer, writeRegistry } from '../helpers/registry.js';
import { waitFor } from '../helpers/wait.js';

interface ComponentJson {
  id: string;
  state: string;
  pid?: number;
  startedAt?: number;
  restarts: number;
  stoppedByOperator: boolean;
}

after(killAllStarted);

/** sleeps with an argument unique to this test run, so its processes can be told apart */
const sleeper = (id: string, tag: number, extra: Partial<TestServer> = {}): TestServer => ({
  id,
  command: 'sleep',
  args: [String(200_000 + tag)],
  stopTimeout: 2,
  ...extra,
});

interface Started {
  run: RunningCli;
  home: string;
  socket: string;
  components(): Promise<ComponentJson[]>;
  ctl(args: string[]): ReturnType<typeof cli>;
  rewrite(servers: TestServer[]): void;
  startedRecords(id: string): Array<Record<string, unknown>>;
}

/** starts `run` and returns as soon as its control socket answers (start-up still under way) */
async function startSupervisor(servers: TestServer[]): Promise<Started> {
  const home = writeRegistry(servers);
  const socket = `${home}/temp/s7supervisor.sock`;
  const run = runCli(['run', '--home', home, '--port', '0'], {
    env: { S7SUPERVISOR_SOCKET: '', S7SUPERVISOR_REGISTRY: '', S7SUPERVISOR_HOME: '' },
  });
  const components = async () => {
    const { status, body } = await socketRequest(socket, '/api/v1/components');
    if (status !== 200) throw new Error(`status ${status}`);
    return (JSON.parse(body) as { components: ComponentJson[] }).components;
  };
  await waitFor(() => components().then((list) => list.length > 0), {
    timeout: 10_000,
    message: 'the control socket',
  });
  return {
    run,
    home,
    socket,
    components,
    ctl: (args) => cli([...args, '--home', home]),
    rewrite: (next) => {
      // same home, new registry content
      const fresh = writeRegistry(next);
      writeFileSync(
        `${home}/conf/SupervisorRegistry.xml`,
        readFileSync(`${fresh}/conf/SupervisorRegistry.xml`),
      );
    },
    startedRecords: (id) => run.records().filter((r) => r.msg === 'component started' && r.component === id),
  };
}

/** processes below the supervisor whose command line has `needle` */
function runningWith(run: RunningCli, needle: string): number[] {
  return descendants(run.pid)
    .filter((entry) => {
      try {
        return readFileSync(`/proc/${entry.pid}/cmdline`, 'utf8').includes(needle);
      } catch {
        return false;
      }
    })
    .map((entry) => entry.pid);
}

async function stopAndExpectClean(started: Started): Promise<void> {
  process.kill(started.run.pid, 'SIGTERM');
  const code = await waitFor(() => started.run.exitCode(), {
    timeout: 15_000,
    message: 'exit after SIGTERM',
  });
  assert.equal(code, 0);
  assert.deepEqual(descendants(started.run.pid), [], 'nothing of it is left running');
}

describe('reload, restart of everything and operator stop during start-up', { timeout: 120_000 }, () => {
  test('a server removed by a reload during start-up never starts, and the supervisor exits cleanly', async () => {
    const a = sleeper('a', 1, { priority: 1, startDelay: 3 });
    const b = sleeper('b', 2, { priority: 2 });
    const s = await startSupervisor([a, b]);
    s.rewrite([a]);
    const reload = await s.ctl(['reload']);
    assert.equal(reload.code, 0, reload.stderr);
    assert.match(reload.stdout, /removed \(stopping\): b/);
    // start-up is over once a is ready: then it is decided whether b started
    await s.run.waitForRecord((r) => r.msg === 'all priority groups started', 15_000);
    assert.deepEqual(s.startedRecords('b'), [], 'b never started');
    assert.deepEqual(runningWith(s.run, '200002'), [], 'no process of b runs');
    assert.deepEqual(
      (await s.components()).map((c) => c.id),
      ['a'],
    );
    await stopAndExpectClean(s);
  });

  test('a server added by a reload during start-up waits for its turn', async () => {
    const a = sleeper('a', 11, { priority: 1, startDelay: 3 });
    const s = await startSupervisor([a]);
    s.rewrite([a, sleeper('c', 13, { priority: 2 })]);
    assert.equal((await s.ctl(['reload'])).code, 0);
    const c = await waitFor(
      async () => (await s.components()).find((x) => x.id === 'c' && x.state === 'running'),
      {
        timeout: 15_000,
        message: 'c running',
      },
    );
    const aStarted = (await s.components()).find((x) => x.id === 'a')!.startedAt!;
    // a is ready 3 s after its start; c may start only then
    assert.ok(c.startedAt! - aStarted >= 2900, `c started ${c.startedAt! - aStarted} ms after a`);
    await stopAndExpectClean(s);
  });

  test('an operator stop before the group started holds through start-up, restart of everything and reload', async () => {
    const a = sleeper('a', 21, { priority: 1, startDelay: 2 });
    const b = sleeper('b', 22, { priority: 2 });
    const s = await startSupervisor([a, b]);
    assert.equal((await s.ctl(['stop', 'b'])).code, 0);
    await s.run.waitForRecord((r) => r.msg === 'all priority groups started', 15_000);
    let bState = (await s.components()).find((x) => x.id === 'b')!;
    assert.equal(bState.state, 'stopped');
    assert.equal(bState.stoppedByOperator, true);

    const restart = await s.ctl(['restart']);
    assert.equal(restart.code, 0, restart.stderr);
    await waitFor(
      async () =>
        (await s.components()).find((x) => x.id === 'a' && x.state === 'running' && x.restarts === 1),
      {
        timeout: 15_000,
        message: 'a restarted',
      },
    );
    assert.equal((await s.ctl(['reload'])).code, 0);
    bState = (await s.components()).find((x) => x.id === 'b')!;
    assert.equal(bState.state, 'stopped', 'still stopped after restart of everything and reload');
    assert.deepEqual(s.startedRecords('b'), []);
    assert.equal((await s.ctl(['start', 'b'])).code, 0);
    assert.equal((await s.components()).find((x) => x.id === 'b')!.state, 'running');
    await stopAndExpectClean(s);
  });

  test('a restart of everything during start-up: one process per component, in order', async () => {
    const a = sleeper('a', 31, { priority: 1, startDelay: 2 });
    const b = sleeper('b', 32, { priority: 2 });
    const s = await startSupervisor([a, b]);
    const restart = await s.ctl(['restart']);
    assert.equal(restart.code, 0, restart.stderr);
    const list = await waitFor(
      async () => {
        const all = await s.components();
        return all.every((x) => x.state === 'running') && all.find((x) => x.id === 'b')?.pid
          ? all
          : undefined;
      },
      { timeout: 20_000, message: 'both running' },
    );
    const [aNow, bNow] = [list.find((x) => x.id === 'a')!, list.find((x) => x.id === 'b')!];
    assert.ok(bNow.startedAt! - aNow.startedAt! >= 1900, 'b started after a was ready');
    assert.deepEqual(runningWith(s.run, '200031'), [aNow.pid]);
    assert.deepEqual(runningWith(s.run, '200032'), [bNow.pid]);
    await stopAndExpectClean(s);
  });

  test('a reload that changes a component in backoff does not cut its backoff short', async () => {
    const crasher: TestServer = {
      id: 'x',
      command: 'sh',
      args: ['-c', 'exit 3'],
      extra: '<restart policy="always" backoffInitial="4" backoffMax="4" resetAfter="60"/>',
    };
    const s = await startSupervisor([crasher]);
    const inBackoff = await waitFor(async () => (await s.components()).find((x) => x.state === 'backoff'), {
      timeout: 10_000,
      message: 'x in backoff',
    });
    s.rewrite([{ ...crasher, args: ['-c', 'exec sleep 200041'] }]);
    const reload = await s.ctl(['reload']);
    assert.match(reload.stdout, /restarted \(process changed\): x/);
    const running = await waitFor(async () => (await s.components()).find((x) => x.state === 'running'), {
      timeout: 10_000,
      message: 'x running with its new command',
    });
    // it waited out its backoff (4 s ±10%) from the crash, not restarted at the reload
    const crashedAt = (inBackoff as ComponentJson & { lastExit?: { at: number } }).lastExit?.at ?? 0;
    assert.ok(
      running.startedAt! - crashedAt >= 3500,
      `restarted ${running.startedAt! - crashedAt} ms after the crash`,
    );
    await stopAndExpectClean(s);
  });
});
