// Dependencies, oneshots and schedules (design.md §3 rev. 2, issue 12) under a real
// `s7supervisor run`: the components append `start ID` / `stop ID` lines to one file (O_APPEND: the
// lines come in the order they happened), so start and shutdown order are read from what the
// processes themselves did, not from the supervisor's log.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { makeTempDir } from '../helpers/paths.js';
import { killAllStarted, type RunningCli, runCli } from '../helpers/processes.js';
import { type TestServer, writeRegistry } from '../helpers/registry.js';
import { freePort } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';

afterEach(() => killAllStarted());

/** a longrun that notes its start and its stop in $EVENTS, and stops at once on SIGTERM */
const longrun = (id: string, more: Partial<TestServer> = {}): TestServer => ({
  id,
  command: '/bin/sh',
  args: [
    '-c',
    'echo "start $0" >> "$EVENTS"; trap \'echo "stop $0" >> "$EVENTS"; exit 0\' TERM; sleep 600 & wait $!',
    id,
  ],
  ...more,
});

/** a oneshot that notes its start, runs `seconds`, notes its end and exits `code` */
const oneshot = (id: string, code: number, seconds: number, extra = ''): TestServer => ({
  id,
  command: '/bin/sh',
  args: [
    '-c',
    `echo "start $0" >> "$EVENTS"; sleep ${seconds}; echo "end $0" >> "$EVENTS"; exit ${code}`,
    id,
  ],
  extra: `<kind>oneshot</kind>${extra}`,
});

const dependsOn = (server: string, condition: string) =>
  `<dependsOn server="${server}" condition="${condition}"/>`;

interface Run {
  cli: RunningCli;
  home: string;
  events: string;
  port: number;
  lines(): string[];
  get(path: string): Promise<{ status: number; body: string }>;
}

async function supervise(servers: TestServer[], config = ''): Promise<Run> {
  const port = await freePort();
  const events = join(makeTempDir('s7sup-events-'), 'events.txt');
  const home = writeRegistry(
    servers.map((s) => ({ ...s, env: { ...s.env, EVENTS: events } })),
    `<tcpport>${port}</tcpport><host>127.0.0.1</host>${config}`,
  );
  const cli = runCli(['run', '--home', home, '--log-level', 'debug']);
  return {
    cli,
    home,
    events,
    port,
    lines: () => (existsSync(events) ? readFileSync(events, 'utf8').split('\n').filter(Boolean) : []),
    async get(path: string) {
      const response = await fetch(`http://127.0.0.1:${port}${path}`);
      return { status: response.status, body: await response.text() };
    },
  };
}

const waitLines = (run: Run, predicate: (lines: string[]) => boolean, message: string, timeout = 15_000) =>
  waitFor(
    () => {
      if (run.cli.exitCode() !== undefined && !predicate(run.lines()))
        throw new Error(`run exited ${run.cli.exitCode()}: ${run.cli.stderr.join('\n')}`);
      const lines = run.lines();
      return predicate(lines) ? lines : undefined;
    },
    { timeout, message },
  );

const stop = async (run: Run): Promise<number> => {
  process.kill(run.cli.pid, 'SIGTERM');
  return waitFor(() => run.cli.exitCode(), { timeout: 20_000, message: 'the supervisor to exit' });
};

const before = (lines: string[], a: string, b: string) => {
  const i = lines.indexOf(a);
  const j = lines.indexOf(b);
  assert.ok(i >= 0 && j >= 0, `${a} and ${b} in ${JSON.stringify(lines)}`);
  assert.ok(i < j, `${a} before ${b} in ${JSON.stringify(lines)}`);
};

describe('run: dependencies with real processes', () => {
  test('start order by dependencies within and across priority groups; shutdown in reverse', async () => {
    const run = await supervise([
      // registry order is the opposite of the dependency order on purpose
      longrun('web', { priority: 2, extra: dependsOn('app', 'ready') }),
      longrun('app', { priority: 1, startDelay: 0.3, extra: dependsOn('cache', 'ready') }),
      longrun('cache', { priority: 1, startDelay: 0.3, extra: dependsOn('db', 'ready') }),
      longrun('db', { priority: 1, startDelay: 0.3 }),
      longrun('side', { priority: 2 }),
    ]);
    const started = await waitLines(
      run,
      (l) => l.filter((x) => x.startsWith('start')).length === 5,
      'all five',
    );
    before(started, 'start db', 'start cache');
    before(started, 'start cache', 'start app');
    before(started, 'start app', 'start web');
    before(started, 'start app', 'start side');
    await waitFor(async () => (await run.get('/readyz')).status === 200, { message: 'ready' });
    assert.equal(await stop(run), 0);
    const lines = run.lines();
    before(lines, 'stop web', 'stop app');
    before(lines, 'stop side', 'stop app');
    before(lines, 'stop app', 'stop cache');
    before(lines, 'stop cache', 'stop db');
  });

  test('each condition: started, ready, completed, succeeded', async () => {
    const run = await supervise([
      longrun('slow', { startDelay: 2 }),
      longrun('on-started', { extra: dependsOn('slow', 'started') }),
      longrun('on-ready', { extra: dependsOn('slow', 'ready') }),
      oneshot('fails', 3, 0.5, '<restart policy="never"/><critical>false</critical>'),
      longrun('on-completed', { extra: dependsOn('fails', 'completed') }),
      oneshot('works', 0, 0.5),
      longrun('on-succeeded', { extra: dependsOn('works', 'succeeded') }),
    ]);
    const lines = await waitLines(
      run,
      (l) => ['on-ready', 'on-completed', 'on-succeeded'].every((id) => l.includes(`start ${id}`)),
      'every dependent',
    );
    before(lines, 'start slow', 'start on-started');
    // started does not wait for slow's 2 s startDelay: it is up long before on-ready
    before(lines, 'start on-started', 'start on-ready');
    before(lines, 'end fails', 'start on-completed');
    before(lines, 'end works', 'start on-succeeded');
    const fails = JSON.parse((await run.get('/api/v1/components/fails')).body) as { state: string };
    assert.equal(fails.state, 'fatal', 'a non-critical oneshot that failed is fatal, and completed holds');
    const works = JSON.parse((await run.get('/api/v1/components/works')).body) as {
      state: string;
      ready: boolean;
    };
    assert.deepEqual([works.state, works.ready], ['completed', true]);
    const states = (await run.get('/metrics')).body;
    assert.match(states, /s7supervisor_component_state\{component="works",state="completed"\} 1/);
    // an operator's start runs the oneshot again, and the command waits for it to complete
    const again = runCli(['start', 'works', '--home', run.home]);
    assert.equal(await again.exited, 0, again.stderr.join('\n'));
    assert.match(again.stdout.join('\n'), /works: completed \(exit code 0\)/);
    assert.equal(run.lines().filter((l) => l === 'end works').length, 2);
    assert.equal(await stop(run), 0);
  });

  test('a failing succeeded dependency holds its dependent back, with the reason in /readyz?verbose', async () => {
    const run = await supervise([
      oneshot('migrate', 1, 0, '<restart policy="never"/><critical>false</critical>'),
      longrun('ps', { extra: dependsOn('migrate', 'succeeded') }),
      longrun('other'),
    ]);
    const body = await waitFor(
      async () => {
        const { status, body } = await run.get('/readyz?verbose');
        return status === 503 &&
          body.includes('[-]ps not ready: waiting for migrate (succeeded): migrate is fatal')
          ? body
          : undefined;
      },
      { message: 'ps held back by migrate, said so' },
    );
    assert.match(body, /\[-\]migrate not ready: exited with code 1/);
    assert.match(body, /\[\+\]other ok/);
    const ps = JSON.parse((await run.get('/api/v1/components/ps')).body) as { state: string; pid?: number };
    assert.equal(ps.state, 'starting');
    assert.equal(ps.pid, undefined);
    assert.ok(!run.lines().includes('start ps'), 'ps never ran');
    assert.equal(await stop(run), 0);
  });

  test('a critical oneshot that fails for good: ordered stop, exit 1', async () => {
    const run = await supervise([
      longrun('db'),
      longrun('app', { extra: dependsOn('db', 'ready') }),
      oneshot('migrate', 2, 0.3, `<restart policy="never"/>${dependsOn('app', 'ready')}`),
    ]);
    const code = await waitFor(() => run.cli.exitCode(), {
      timeout: 20_000,
      message: 'the supervisor to give up',
    });
    assert.equal(code, 1);
    const lines = run.lines();
    before(lines, 'end migrate', 'stop app');
    before(lines, 'stop app', 'stop db');
    assert.ok(
      run.cli
        .records()
        .some((r) => String(r.msg).startsWith('giving up: the critical oneshot failed for good')),
    );
  });
});

describe('run: schedules with real processes', () => {
  test('@every 1s: runs counted in /metrics, an overlapping run skipped and counted', async () => {
    const run = await supervise([
      // the second run lasts 2.5 s: the times due meanwhile are skipped
      {
        id: 'purge',
        command: '/bin/sh',
        args: [
          '-c',
          'n=$(grep -c "^start" "$EVENTS" 2>/dev/null || echo 0); echo "start purge" >> "$EVENTS"; [ "$n" = 1 ] && sleep 2.5; echo "end purge" >> "$EVENTS"; exit 0',
        ],
        extra: '<kind>oneshot</kind><schedule cron="@every 1s"/>',
      },
    ]);
    const metric = async (result: string) => {
      const body = (await run.get('/metrics')).body;
      const match = new RegExp(
        `s7supervisor_component_scheduled_runs_total\\{component="purge",result="${result}"\\} (\\d+)`,
      ).exec(body);
      return match ? Number(match[1]) : undefined;
    };
    await waitFor(async () => ((await metric('succeeded')) ?? 0) >= 4, {
      timeout: 15_000,
      message: '4 runs',
    });
    const skipped = (await metric('skipped')) ?? 0;
    assert.ok(skipped >= 1 && skipped <= 3, `skipped ${skipped}: the 2.5 s run overlaps 2 times of the grid`);
    assert.equal(await metric('failed'), 0);
    const purge = JSON.parse((await run.get('/api/v1/components/purge')).body) as {
      nextRunAt?: number;
      ready: boolean;
    };
    assert.ok(purge.nextRunAt !== undefined && purge.nextRunAt > Date.now() - 1000, 'the next run time');
    assert.ok(purge.ready);
    assert.ok(
      run.cli.records().some((r) => r.msg === 'scheduled run skipped: the last run is still going on'),
    );
    assert.equal(await stop(run), 0);
  });
});
