// `s7supervisor run` with real processes: start order, restarts and backoff, restart policies,
// restart intensity, stopping and shutdown order, leftover workers (design.md §3, issue 3).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { lookupUser } from '../../src/process/users.js';
import { cliPath, repoRoot } from '../helpers/paths.js';
import {
  isAlive,
  killAllStarted,
  processGroupMembers,
  type RunningCli,
  runCli,
} from '../helpers/processes.js';
import { writeRegistry } from '../helpers/registry.js';
import { waitFor } from '../helpers/wait.js';

const node = process.execPath;
/** a component that runs until stopped */
const idle = ['-e', 'setInterval(() => {}, 1 << 30)'];
/** a component that ignores SIGTERM */
const stubborn = [
  '-e',
  "process.on('SIGTERM', () => console.log('ignoring SIGTERM')); console.log('handler installed'); setInterval(() => {}, 1 << 30)",
];

type LogRecord = Record<string, unknown>;
const handlerInstalled = (id: string) => (r: LogRecord) =>
  r.component === id && r.msg === 'handler installed';
const started = (id: string) => (r: LogRecord) => r.msg === 'component started' && r.component === id;
const exited = (id: string) => (r: LogRecord) =>
  typeof r.msg === 'string' && r.msg.startsWith('component exited') && r.component === id;
const stateChange = (id: string, to: string) => (r: LogRecord) =>
  r.msg === 'state change' && r.component === id && r.to === to;

function supervise(home: string, extra: string[] = []): RunningCli {
  return runCli(['run', '--home', home, '--port', '0', '--log-level', 'debug', ...extra]);
}

function countRecords(cli: RunningCli, predicate: (r: LogRecord) => boolean): number {
  return cli.records().filter(predicate).length;
}

/** waits until the record count reaches n and returns the matching records */
async function waitForCount(
  cli: RunningCli,
  predicate: (r: LogRecord) => boolean,
  n: number,
  timeout = 15_000,
) {
  return waitFor(
    () => {
      const found = cli.records().filter(predicate);
      return found.length >= n ? found : undefined;
    },
    { timeout, message: `${n} matching log records` },
  );
}

async function waitExit(cli: RunningCli, timeout = 15_000): Promise<number> {
  return waitFor(() => cli.exitCode(), { timeout, message: 'the supervisor to exit' });
}

afterEach(() => killAllStarted());

describe('run: start order', () => {
  test('a priority-2 server starts only after the priority-1 servers are ready', async () => {
    const home = writeRegistry([
      { id: 'later', command: node, args: idle, priority: 2 },
      { id: 'first', command: node, args: idle, priority: 1, startDelay: 1 },
      { id: 'also-first', command: node, args: idle, priority: 1, startDelay: 0.5 },
    ]);
    const cli = supervise(home);
    const laterStart = await cli.waitForRecord(started('later'));
    const firstStart = cli.records().find(started('first'))!;
    const firstReady = cli.records().find(stateChange('first', 'running'))!;
    const alsoReady = cli.records().find(stateChange('also-first', 'running'))!;
    assert.ok(firstReady && alsoReady, 'both priority-1 servers became ready before priority 2 started');
    assert.ok(Number(laterStart.time) >= Number(firstReady.time));
    assert.ok(Number(laterStart.time) >= Number(alsoReady.time));
    // libuv arms timers from the loop's cached clock, which can lag the log's clock by the length
    // of a busy tick: a little under 1 s is still the startDelay; instantly would be a bug
    const readyAfter = Number(firstReady.time) - Number(firstStart.time);
    assert.ok(readyAfter >= 900, `ready ${readyAfter} ms after start: its startDelay is 1 s`);
    cli.child.kill('SIGTERM');
    assert.equal(await waitExit(cli), 0);
  });
});

describe('run: restarts', () => {
  test('kill -9 of a component: restarted; N kills give exactly N restarts; the restart after a stable run is immediate', async () => {
    const home = writeRegistry([
      {
        id: 'victim',
        command: node,
        args: idle,
        extra: '<restart policy="always" backoffInitial="5" resetAfter="0.5"/>',
      },
    ]);
    const cli = supervise(home);
    const kills = 3;
    const pids: number[] = [];
    for (let i = 0; i < kills; i++) {
      const [record] = (await waitForCount(cli, started('victim'), i + 1)).slice(i);
      const pid = Number(record!.pid);
      pids.push(pid);
      // let it become stable (resetAfter 0.5 s), then crash it
      await cli.waitForRecord(
        (r) => stateChange('victim', 'running')(r) && Number(r.time) >= Number(record!.time),
      );
      await waitFor(() => Date.now() - Number(record!.time) > 700, { message: 'a stable run' });
      process.kill(pid, 'SIGKILL');
    }
    const starts = await waitForCount(cli, started('victim'), kills + 1);
    pids.push(Number(starts[kills]!.pid));
    assert.equal(new Set(pids).size, kills + 1, 'every restart is a new process');
    const exits = cli.records().filter(exited('victim'));
    assert.equal(exits.length, kills);
    for (const exit of exits) assert.equal(exit.signal, 'SIGKILL');
    // No backoff after a stable run: the respawn follows the exit at once (measured inside the
    // supervisor, from its own log timestamps).
    for (let i = 0; i < kills; i++) {
      const gap = Number(starts[i + 1]!.time) - Number(exits[i]!.time);
      assert.ok(gap < 100, `restart ${i + 1} came ${gap} ms after the exit`);
    }
    assert.equal(
      countRecords(cli, (r) => typeof r.msg === 'string' && r.msg.startsWith('restarting in')),
      0,
    );
    // and nothing more happens: exactly N restarts
    cli.child.kill('SIGTERM');
    assert.equal(await waitExit(cli), 0);
    assert.equal(countRecords(cli, started('victim')), kills + 1);
  });

  test('a crash loop waits longer each time, capped at backoffMax (±10% jitter)', async () => {
    const home = writeRegistry(
      [
        {
          id: 'crasher',
          command: node,
          args: ['-e', 'process.exit(3)'],
          extra: '<restart policy="always" backoffInitial="0.1" backoffMax="0.4" resetAfter="30"/>',
        },
      ],
      '<restartIntensity max="100" period="60"/>',
    );
    const cli = supervise(home);
    const starts = await waitForCount(cli, started('crasher'), 6);
    cli.child.kill('SIGTERM');
    assert.equal(await waitExit(cli), 0);
    const delays = cli
      .records()
      .filter(
        (r) => typeof r.msg === 'string' && r.msg.startsWith('restarting in') && r.component === 'crasher',
      )
      .map((r) => Number(r.delayMs))
      .slice(0, 5);
    const expected = [100, 200, 400, 400, 400];
    delays.forEach((delay, i) => {
      assert.ok(
        Math.abs(delay - expected[i]!) <= expected[i]! * 0.1 + 1,
        `wait ${i + 1} was ${delay} ms, expected ${expected[i]} ±10%`,
      );
    });
    // the waits really happened: each gap between spawns is at least the announced delay
    for (let i = 0; i < 5; i++) {
      const gap = Number(starts[i + 1]!.time) - Number(starts[i]!.time);
      assert.ok(gap >= delays[i]!, `spawn gap ${gap} ms shorter than the wait ${delays[i]} ms`);
    }
  });

  test('policy never: a failure is fatal and not restarted', async () => {
    const home = writeRegistry([
      {
        id: 'once',
        command: node,
        args: ['-e', 'setTimeout(() => process.exit(3), 200)'],
        extra: '<restart policy="never"/>',
      },
    ]);
    const cli = supervise(home);
    await cli.waitForRecord(stateChange('once', 'fatal'));
    assert.equal(countRecords(cli, started('once')), 1);
    assert.equal(cli.records().find(exited('once'))?.code, 3);
    cli.child.kill('SIGTERM');
    assert.equal(await waitExit(cli), 0);
    assert.equal(countRecords(cli, started('once')), 1);
  });

  test('policy on-failure: exit 0 is not restarted, exit 1 is', async () => {
    const home = writeRegistry(
      [
        {
          id: 'clean',
          command: node,
          args: ['-e', 'setTimeout(() => process.exit(0), 200)'],
          extra: '<restart policy="on-failure" backoffInitial="0.05"/>',
        },
        {
          id: 'dirty',
          command: node,
          args: ['-e', 'setTimeout(() => process.exit(1), 200)'],
          extra: '<restart policy="on-failure" backoffInitial="0.05"/>',
        },
      ],
      '<restartIntensity max="100" period="60"/>',
    );
    const cli = supervise(home);
    await cli.waitForRecord(stateChange('clean', 'stopped'));
    await waitForCount(cli, started('dirty'), 3);
    cli.child.kill('SIGTERM');
    assert.equal(await waitExit(cli), 0);
    assert.equal(countRecords(cli, started('clean')), 1);
  });

  test('restart intensity exceeded: everything stops in order and the supervisor exits 1', async () => {
    const home = writeRegistry(
      [
        { id: 'steady', command: node, args: idle, priority: 1 },
        {
          id: 'crasher',
          command: node,
          args: ['-e', 'process.exit(1)'],
          priority: 2,
          extra: '<restart backoffInitial="0.01" backoffMax="0.01"/>',
        },
      ],
      '<restartIntensity max="3" period="60"/>',
    );
    const cli = supervise(home);
    const steady = Number((await cli.waitForRecord(started('steady'))).pid);
    assert.equal(await waitExit(cli), 1);
    assert.equal(countRecords(cli, started('crasher')), 4, 'the first start and 3 restarts, then give up');
    assert.ok(
      cli.records().some((r) => typeof r.msg === 'string' && r.msg.includes('restart intensity exceeded')),
    );
    assert.equal(isAlive(steady), false);
    assert.deepEqual(processGroupMembers(steady), []);
  });
});

describe('run: stopping', () => {
  test('SIGTERM: groups stop in descending priority, a stubborn one is SIGKILLed at its stopTimeout, exit 0, nothing survives', async () => {
    const home = writeRegistry([
      { id: 'base', command: node, args: idle, priority: 1 },
      { id: 'stubborn', command: node, args: stubborn, priority: 2, stopTimeout: 1 },
      { id: 'top', command: node, args: idle, priority: 3 },
    ]);
    const cli = supervise(home);
    await cli.waitForRecord((r) => r.msg === 'all priority groups started');
    await cli.waitForRecord(handlerInstalled('stubborn'));
    const pids = ['base', 'stubborn', 'top'].map((id) => Number(cli.records().find(started(id))!.pid));
    cli.child.kill('SIGTERM');
    assert.equal(await waitExit(cli), 0);
    const order = cli
      .records()
      .filter((r) => r.msg === 'stopping priority group')
      .map((r) => r.priority);
    assert.deepEqual(order, [3, 2, 1]);
    const stubbornExit = cli.records().find(exited('stubborn'))!;
    assert.equal(stubbornExit.signal, 'SIGKILL');
    const stopAsked = cli
      .records()
      .find((r) => r.msg === 'stopping component' && r.component === 'stubborn')!;
    assert.ok(
      Number(stubbornExit.time) - Number(stopAsked.time) >= 1000,
      'SIGKILL only after the 1 s stopTimeout',
    );
    assert.ok(cli.records().some((r) => r.component === 'stubborn' && r.msg === 'ignoring SIGTERM'));
    const baseExit = cli.records().find(exited('base'))!;
    assert.ok(Number(baseExit.time) >= Number(stubbornExit.time), 'priority 1 stops after priority 2');
    for (const pid of pids) assert.deepEqual(processGroupMembers(pid), [], `process group ${pid} is empty`);
  });

  test('a second SIGTERM kills everything at once and exits 128+15', async () => {
    const home = writeRegistry([{ id: 'stubborn', command: node, args: stubborn, stopTimeout: 30 }]);
    const cli = supervise(home);
    const pid = Number((await cli.waitForRecord(started('stubborn'))).pid);
    await cli.waitForRecord(handlerInstalled('stubborn'));
    cli.child.kill('SIGTERM');
    await cli.waitForRecord((r) => r.msg === 'stopping component');
    cli.child.kill('SIGTERM');
    assert.equal(await waitExit(cli), 143);
    await waitFor(() => processGroupMembers(pid).length === 0, { message: 'the stubborn group to be gone' });
  });

  test('orphaned workers of a component die with it, and its restart binds the port again', async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const home = writeRegistry([
      {
        id: 'holder',
        command: node,
        args: [join(repoRoot, 'test/fixtures/port-holder.mjs')],
        env: { PORT: String(port), WORKERS: '1' },
        extra: '<restart backoffInitial="0.05"/><output>json</output>',
      },
    ]);
    const cli = supervise(home);
    const first = await cli.waitForRecord(started('holder'));
    const workerLine = await cli.waitForRecord(
      (r) => r.component === 'holder' && typeof r.msg === 'string' && r.msg.startsWith('worker '),
    );
    const workerPid = Number(String(workerLine.msg).split(' ')[1]);
    assert.ok(isAlive(workerPid));
    process.kill(Number(first.pid), 'SIGKILL');
    const second = (await waitForCount(cli, started('holder'), 2))[1]!;
    await waitFor(() => !isAlive(workerPid), { message: 'the orphaned worker to be killed' });
    // the new instance owns the port (the stale worker would have answered with nothing)
    const answer = await waitFor(
      async () => {
        const response = await fetch(`http://127.0.0.1:${port}/`);
        return response.ok ? await response.text() : undefined;
      },
      { message: 'the restarted component to answer on its port' },
    );
    assert.equal(Number(answer), Number(second.pid));
    cli.child.kill('SIGTERM');
    assert.equal(await waitExit(cli), 0);
  });
});

describe('run: users, start failures, stats', () => {
  test('<user> runs the component as that user; an unknown user is exit 2 naming the server', async () => {
    const asNobody = writeRegistry([
      {
        id: 'who',
        command: 'sh',
        args: ['-c', 'echo "uid=$(id -u) gid=$(id -g)"; sleep 1000'],
        extra: '<user>nobody</user>',
      },
    ]);
    const cli = supervise(asNobody);
    const line = await cli.waitForRecord((r) => r.component === 'who' && String(r.msg).startsWith('uid='));
    assert.equal(line.msg, `uid=${lookupUser('nobody')!.uid} gid=${lookupUser('nobody')!.gid}`);
    cli.child.kill('SIGTERM');
    assert.equal(await waitExit(cli), 0);

    const unknown = writeRegistry([
      { id: 'ghost', command: node, args: idle, extra: '<user>no-such-user-here</user>' },
    ]);
    const refused = supervise(unknown);
    assert.equal(await waitExit(refused), 2);
    assert.match(refused.stderr.join('\n'), /server "ghost": <user> "no-such-user-here" does not exist/);
    assert.equal(
      countRecords(refused, (r) => r.msg === 'component started'),
      0,
      'nothing was started',
    );
  });

  test('a command that cannot be started is fatal with the OS error in the log; the others run on', async () => {
    const home = writeRegistry([
      { id: 'missing', command: '/nonexistent/bin/server' },
      { id: 'fine', command: node, args: idle },
    ]);
    const cli = supervise(home);
    await cli.waitForRecord(stateChange('missing', 'fatal'));
    const error = cli
      .records()
      .find(
        (r) =>
          r.component === 'missing' &&
          r.msg === 'cannot start component: spawn /nonexistent/bin/server ENOENT',
      );
    assert.ok(error, 'the OS error is logged');
    await cli.waitForRecord(stateChange('fine', 'running'));
    assert.equal(cli.exitCode(), undefined, 'the supervisor runs on');
    cli.child.kill('SIGTERM');
    assert.equal(await waitExit(cli), 0);
  });

  test('<tracestatsinterval> logs each component state, pid, uptime, restarts and memory', async () => {
    const home = writeRegistry(
      [{ id: 'measured', command: node, args: idle }],
      '<tracestatsinterval>0.3</tracestatsinterval>',
    );
    const cli = supervise(home);
    const first = await cli.waitForRecord(started('measured'));
    const stats = await cli.waitForRecord((r) => r.msg === 'component stats');
    const [entry] = stats.stats as Array<Record<string, unknown>>;
    assert.equal(entry?.component, 'measured');
    assert.equal(entry?.state, 'running');
    assert.equal(entry?.pid, first.pid);
    assert.equal(entry?.restarts, 0);
    assert.ok(Number(entry?.residentMemoryBytes) > 1024 * 1024, `memory ${entry?.residentMemoryBytes}`);
    assert.equal(typeof entry?.uptimeSeconds, 'number');
    cli.child.kill('SIGTERM');
    assert.equal(await waitExit(cli), 0);
  });
});

describe('run: restart of everything', () => {
  test('restart without an id stops in descending priority, then starts in ascending priority, readiness-gated', async () => {
    const home = writeRegistry([
      { id: 'low', command: node, args: idle, priority: 1, startDelay: 0.3 },
      { id: 'high', command: node, args: idle, priority: 2 },
    ]);
    const cli = supervise(home);
    await cli.waitForRecord((r) => r.msg === 'all priority groups started');
    const { execFileSync } = await import('node:child_process');
    execFileSync(process.execPath, [cliPath, 'restart', '--home', home, '--no-wait']);
    const [, lowAgain] = await waitForCount(cli, started('low'), 2);
    const [, highAgain] = await waitForCount(cli, started('high'), 2);
    const stops = cli
      .records()
      .filter((r) => r.msg === 'stopping component')
      .map((r) => r.component);
    assert.deepEqual(stops, ['high', 'low'], 'stopped in descending priority');
    const lowReady = cli.records().filter(stateChange('low', 'running')).at(-1)!;
    assert.ok(Number(highAgain!.time) >= Number(lowReady.time), 'high starts once low is ready again');
    assert.ok(Number(lowAgain!.time) < Number(highAgain!.time));
    cli.child.kill('SIGTERM');
    assert.equal(await waitExit(cli), 0);
  });
});
