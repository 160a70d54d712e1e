// The control commands (status, start, stop, restart) through the real CLI and the real control
// socket of a real `s7supervisor run`, as an operator uses them inside the container.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { makeTempDir } from '../helpers/paths.js';
import { isAlive, killAllStarted, killGroup } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';
import { cli, parseTable, sleeper, supervise } from './harness.js';

afterEach(() => killAllStarted());

const stackTrace = /^\s+at .*:\d+:\d+\)?$/m;

describe('status', () => {
  test('the table shows id, state, ready, pid, uptime, restarts, memory and last exit of each component', async () => {
    const sup = await supervise([sleeper('a', 1), sleeper('b', 2, { priority: 2 })]);
    const pids = await sup.pids();
    const { code, stdout, stderr } = await sup.ctl(['status']);
    assert.equal(code, 0, stderr);
    assert.match(
      stdout.split('\n')[0]!,
      /^ID\s+STATE\s+READY\s+PID\s+UPTIME\s+RESTARTS\s+MEMORY\s+LAST EXIT\s+NOTE$/,
    );
    const rows = parseTable(stdout);
    assert.deepEqual(
      rows.map((r) => r.ID),
      ['a', 'b'],
    );
    for (const row of rows) {
      assert.equal(row.STATE, 'running');
      assert.equal(row.READY, 'yes');
      assert.equal(row.PID, String(pids[row.ID!]));
      assert.match(row.UPTIME!, /^\d+s$|^\d+m\d\ds$/);
      assert.equal(row.RESTARTS, '0');
      // sleep's resident memory: some hundreds of KiB to a few MiB
      assert.match(row.MEMORY!, /^\d+\.\d (KiB|MiB)$/);
      assert.equal(row['LAST EXIT'], '-');
      assert.equal(row.NOTE, '-');
    }

    // after a crash: the new pid, one restart, and how the last run ended
    process.kill(pids.b!, 'SIGKILL');
    await waitFor(async () => (await sup.component('b'))?.restarts === 1 && (await sup.waitRunning()), {
      timeout: 20_000,
      message: 'b restarted',
    });
    const after = parseTable((await sup.ctl(['status'])).stdout);
    const b = after.find((r) => r.ID === 'b')!;
    assert.equal(b.STATE, 'running');
    assert.equal(b.RESTARTS, '1');
    assert.notEqual(b.PID, String(pids.b));
    assert.equal(b.PID, String((await sup.component('b'))?.pid));
    assert.match(b['LAST EXIT']!, /^SIGKILL, \d+s ago$/);
    assert.equal(after.find((r) => r.ID === 'a')!.PID, String(pids.a), 'a was not touched');

    // one component, and JSON for scripts
    const one = await sup.ctl(['status', 'a']);
    assert.equal(one.code, 0);
    assert.deepEqual(
      parseTable(one.stdout).map((r) => r.ID),
      ['a'],
    );
    const json = await sup.ctl(['status', '--json']);
    assert.equal(json.code, 0);
    const parsed = JSON.parse(json.stdout) as {
      phase: string;
      components: Array<{ id: string; pid: number }>;
    };
    assert.equal(parsed.phase, 'running');
    assert.deepEqual(
      parsed.components.map((c) => c.id),
      ['a', 'b'],
    );
    const oneJson = JSON.parse((await sup.ctl(['status', 'b', '--json'])).stdout) as {
      id: string;
      restarts: number;
    };
    assert.equal(oneJson.id, 'b');
    assert.equal(oneJson.restarts, 1);
    assert.equal(await sup.stop(), 0);
  });

  test('the socket is found by --socket, by $S7SUPERVISOR_SOCKET, and from the registry (--registry, --home, cwd)', async () => {
    const sup = await supervise([sleeper('a', 1)]);
    const registry = join(sup.home, 'conf/SupervisorRegistry.xml');
    const elsewhere = makeTempDir('s7sup-cwd-');
    for (const [args, env, cwd] of [
      [['status', '--socket', sup.socket], {}, elsewhere],
      [['status'], { S7SUPERVISOR_SOCKET: sup.socket }, elsewhere],
      [['status', '--home', sup.home], {}, elsewhere],
      [['status'], { S7SUPERVISOR_HOME: sup.home }, elsewhere],
      [['status', '--registry', registry, '--home', sup.home], {}, elsewhere],
      // the home is the working directory, as for `run`
      [['status', '--registry', registry], {}, sup.home],
      [['status'], { S7SUPERVISOR_REGISTRY: registry }, sup.home],
      [['status'], {}, sup.home],
    ] as Array<[string[], NodeJS.ProcessEnv, string]>) {
      const { code, stdout, stderr } = await cli(args, env, cwd);
      assert.equal(code, 0, `${args.join(' ')} ${JSON.stringify(env)} in ${cwd}: ${stderr}`);
      assert.equal(parseTable(stdout)[0]?.ID, 'a');
    }
    assert.equal(await sup.stop(), 0);
  });
});

describe('start, stop, restart', () => {
  test('each acts on its component only: the others keep their pids; a stopped one stays stopped and /readyz says why', async () => {
    const sup = await supervise([sleeper('a', 1), sleeper('b', 2), sleeper('c', 3, { priority: 2 })], {
      tcp: true,
    });
    const before = await sup.pids();

    const stop = await sup.ctl(['stop', 'b']);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(stop.stdout, 'b: stopped');
    assert.equal(isAlive(before.b!), false, 'its process is gone');
    const b = await sup.component('b');
    assert.equal(b?.state, 'stopped');
    assert.equal(b?.stoppedByOperator, true);
    assert.deepEqual([(await sup.pids()).a, (await sup.pids()).c], [before.a, before.c]);
    const row = parseTable((await sup.ctl(['status'])).stdout).find((r) => r.ID === 'b')!;
    assert.deepEqual(
      [row.STATE, row.READY, row.PID, row.NOTE],
      ['stopped', 'no', '-', 'stopped by operator'],
    );
    assert.match(row['LAST EXIT']!, /^SIGTERM \(stopped\), \d+s ago$/);

    // design.md §4: /readyz is 200 only when every critical component is ready
    const readyz = await fetch(sup.url('/readyz?verbose'));
    assert.equal(readyz.status, 503);
    assert.match(await readyz.text(), /^\[-\]b not ready: stopped by operator$/m);
    assert.equal((await fetch(sup.url('/readyz?exclude=b'))).status, 200);

    // it stays stopped while the supervisor goes on restarting others
    process.kill(before.a!, 'SIGKILL');
    const afterCrash = await waitFor(
      async () => {
        const a = await sup.component('a');
        return a?.restarts === 1 && a.state === 'running' ? a : undefined;
      },
      { timeout: 20_000, message: 'a restarted after kill -9' },
    );
    const stillStopped = await sup.component('b');
    assert.equal(stillStopped?.state, 'stopped');
    assert.equal(stillStopped?.restarts, 0);

    const start = await sup.ctl(['start', 'b']);
    assert.equal(start.code, 0, start.stderr);
    const started = await sup.component('b');
    assert.equal(start.stdout, `b: running, pid ${started?.pid}`);
    assert.equal(started?.state, 'running');
    assert.equal(started?.stoppedByOperator, false);
    assert.deepEqual([(await sup.pids()).a, (await sup.pids()).c], [afterCrash.pid, before.c]);
    assert.equal((await fetch(sup.url('/readyz'))).status, 200);

    const restart = await sup.ctl(['restart', 'c']);
    assert.equal(restart.code, 0, restart.stderr);
    const now = await sup.pids();
    assert.notEqual(now.c, before.c);
    assert.equal(restart.stdout, `c: running, pid ${now.c}`);
    assert.equal(isAlive(before.c!), false);
    assert.deepEqual([now.a, now.b], [afterCrash.pid, started?.pid]);
    assert.equal((await sup.component('c'))?.restarts, 1);

    // start of a running component: nothing to do, says so
    const again = await sup.ctl(['start', 'a']);
    assert.equal(again.code, 0);
    assert.equal(again.stdout, `a: running, pid ${now.a}`);
    assert.equal((await sup.pids()).a, now.a);
    assert.equal(await sup.stop(), 0);
  });

  test('restart without an id restarts every component, each with a new process', async () => {
    const sup = await supervise([sleeper('a', 1), sleeper('b', 2, { priority: 2 })]);
    const before = await sup.pids();
    const { code, stdout, stderr } = await sup.ctl(['restart']);
    assert.equal(code, 0, stderr);
    const after = await sup.pids();
    assert.deepEqual(stdout.split('\n').sort(), [`a: running, pid ${after.a}`, `b: running, pid ${after.b}`]);
    assert.notEqual(after.a, before.a);
    assert.notEqual(after.b, before.b);
    assert.equal(await sup.stop(), 0);
  });

  test('--no-wait returns once the supervisor took the request', async () => {
    const sup = await supervise([sleeper('a', 1)]);
    const { code, stdout } = await sup.ctl(['stop', 'a', '--no-wait']);
    assert.equal(code, 0);
    assert.equal(stdout, 'a: stop requested');
    await waitFor(async () => (await sup.component('a'))?.state === 'stopped', { message: 'a stopped' });
    assert.equal(await sup.stop(), 0);
  });

  test('a component that fails to start: start says why and exits 1; a later start brings it back', async () => {
    const flag = join(makeTempDir('s7sup-flag-'), 'may-run');
    writeFileSync(flag, '');
    const sup = await supervise([
      sleeper('a', 1),
      {
        id: 'flaky',
        command: 'sh',
        args: ['-c', `test -e '${flag}' && exec sleep 100005; echo 'no flag: giving up' >&2; exit 3`],
        // ready only after 1 s: it exits long before, so start cannot mistake it for running
        startDelay: 1,
        extra: '<restart policy="never"/>',
      },
    ]);
    assert.equal((await sup.ctl(['stop', 'flaky'])).code, 0);
    rmSync(flag);
    const failed = await sup.ctl(['start', 'flaky']);
    assert.equal(failed.code, 1);
    assert.equal(failed.stdout, '');
    assert.equal(
      failed.stderr,
      's7supervisor: flaky did not start: fatal (exited with code 3 (restart policy never))',
    );
    writeFileSync(flag, '');
    const fixed = await sup.ctl(['start', 'flaky']);
    assert.equal(fixed.code, 0, fixed.stderr);
    assert.equal(fixed.stdout, `flaky: running, pid ${(await sup.component('flaky'))?.pid}`);
    assert.equal(await sup.stop(), 0);
  });
});

describe('mistakes', () => {
  test('unknown id: exit 4, the known ids named; nothing changes', async () => {
    const sup = await supervise([sleeper('a', 1), sleeper('b', 2)]);
    const before = await sup.pids();
    for (const args of [
      ['status', 'nope'],
      ['start', 'nope'],
      ['stop', 'nope'],
      ['restart', 'nope'],
    ]) {
      const { code, stdout, stderr } = await sup.ctl(args);
      assert.equal(code, 4, `${args.join(' ')}: ${stderr}`);
      assert.equal(stdout, '');
      assert.equal(stderr, 's7supervisor: no component "nope" (the components are: a, b)');
    }
    assert.deepEqual(await sup.pids(), before);
    assert.equal(await sup.stop(), 0);
  });

  test('no supervisor running: exit 3 with the socket it looked for (missing, stale, or gone after the supervisor stopped)', async () => {
    const dir = makeTempDir('s7sup-nosup-');
    const missing = join(dir, 'none.sock');
    for (const command of [['status'], ['start', 'a'], ['stop', 'a'], ['restart'], ['reload']]) {
      const { code, stdout, stderr } = await cli([...command, '--socket', missing]);
      assert.equal(code, 3, `${command.join(' ')}: ${stderr}`);
      assert.equal(stdout, '');
      assert.equal(stderr, `s7supervisor: no supervisor is running (no control socket at ${missing})`);
    }

    // a socket file nobody listens on (its supervisor was killed -9)
    const stale = join(dir, 'stale.sock');
    const holder = spawn(
      process.execPath,
      ['-e', `require('node:net').createServer().listen(${JSON.stringify(stale)}, () => console.log('up'))`],
      { detached: true, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await waitFor(() => existsSync(stale), { message: 'the socket file' });
      killGroup(holder.pid!);
      await waitFor(() => holder.exitCode !== null || holder.signalCode !== null, {
        message: 'the holder to die',
      });
    } finally {
      killGroup(holder.pid!);
    }
    assert.ok(existsSync(stale), 'the stale socket file is left behind');
    const staleRun = await cli(['status', '--socket', stale]);
    assert.equal(staleRun.code, 3);
    assert.match(
      staleRun.stderr,
      /^s7supervisor: no supervisor is running \(nothing listens on the control socket .*stale\.sock/,
    );

    // a supervisor that stopped removed its socket: found from the registry, reported missing
    const sup = await supervise([sleeper('a', 1)]);
    assert.equal(await sup.stop(), 0);
    const gone = await sup.ctl(['status']);
    assert.equal(gone.code, 3);
    assert.equal(gone.stderr, `s7supervisor: no supervisor is running (no control socket at ${sup.socket})`);
  });

  test('a registry that cannot be read (to find <temp>): exit 2, says so and how to name the socket', async () => {
    const dir = makeTempDir('s7sup-noreg-');
    const { code, stderr } = await cli(['status', '--home', dir]);
    assert.equal(code, 2);
    assert.match(stderr, /^s7supervisor: cannot find the control socket: .*the registry cannot be read:$/m);
    assert.match(stderr, /SupervisorRegistry\.xml.*cannot read the registry/);
    assert.match(stderr, /give --socket PATH, or set S7SUPERVISOR_SOCKET/);
    assert.doesNotMatch(stderr, stackTrace);
  });

  test('usage: every command has --help with its exit codes; a missing id or an extra argument is exit 2', async () => {
    for (const command of ['status', 'start', 'stop', 'restart', 'reload']) {
      const { code, stdout } = await cli([command, '--help']);
      assert.equal(code, 0);
      assert.match(stdout, new RegExp(`^usage: s7supervisor ${command}`));
      assert.match(stdout, /--socket PATH/);
      assert.match(stdout, /exit codes: 0 done; 1 .*\n.*\n.*3 no supervisor is running/);
      assert.match(stdout, /4 no component with that id/);
    }
    for (const args of [
      ['start'],
      ['stop'],
      ['status', 'a', 'b'],
      ['reload', 'x'],
      ['stop', 'a', '--timeout', 'soon'],
      ['status', '--bogus'],
    ]) {
      const { code, stderr } = await cli([...args, '--socket', '/nonexistent.sock']);
      assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
      assert.match(stderr, new RegExp(`^s7supervisor ${args[0]}: `));
      assert.doesNotMatch(stderr, stackTrace);
    }
    const main = await cli(['--help']);
    for (const command of ['status', 'start', 'stop', 'restart', 'reload'])
      assert.match(main.stdout, new RegExp(`^  ${command} `, 'm'));
  });
});
