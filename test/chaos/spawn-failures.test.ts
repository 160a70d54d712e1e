// Spawn failures that are shortages, not mistakes (design.md §3 rev. 2): EAGAIN (the <user>'s
// process quota, RLIMIT_NPROC, is full) and EMFILE (the supervisor is out of descriptors) are a
// crash: backoff of at least 500 ms, counted toward the restart intensity, retried until the
// shortage passes. The supervisor never crashes, leaves no orphan, and /livez stays 200 where it
// can answer at all.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { lookupUser } from '../../src/process/users.js';
import { makeTempDir } from '../helpers/paths.js';
import {
  isAlive,
  killAllStarted,
  killGroup,
  processGroupMembers,
  type RunningCli,
  runCli,
} from '../helpers/processes.js';
import { writeRegistry } from '../helpers/registry.js';
import { freePort } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';
import { fdsBelow, getText, lineCount, openFds, probe, restartsByComponent, statusField } from './chaos.js';

type LogRecord = Record<string, unknown>;
const user = `s7chaos${process.pid}`;
let userCreated = false;
const fillers: ChildProcess[] = [];
const sockets: net.Socket[] = [];

before(() => {
  execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', user]);
  userCreated = true;
});

function killFillers(): void {
  for (const filler of fillers.splice(0)) killGroup(filler.pid!);
}

after(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  killFillers();
  killAllStarted();
  if (!userCreated) return;
  // userdel refuses while the user has processes: wait until the killed ones are gone
  const ids = lookupUser(user);
  await waitFor(() => !ids || !processesOf(ids.uid).length, {
    timeout: 10_000,
    message: `no process of ${user}`,
  });
  execFileSync('userdel', [user]);
});

/** live processes whose real uid is `uid` */
function processesOf(uid: number): number[] {
  return execFileSync('ps', ['-e', '-o', 'pid=,ruid=,stat='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([, ruid, stat]) => Number(ruid) === uid && !stat?.startsWith('Z'))
    .map(([pid]) => Number(pid));
}

const startFailures = (id: string, code: string) => (r: LogRecord) =>
  r.component === id && r.code === code && String(r.msg).startsWith('cannot start component');
const started = (id: string) => (r: LogRecord) => r.msg === 'component started' && r.component === id;

async function components(port: number): Promise<Array<{ id: string; state: string; pid?: number }>> {
  const { status, body } = await getText(`http://127.0.0.1:${port}/api/v1/components`);
  if (status !== 200) throw new Error(`GET /api/v1/components: ${status}`);
  return (JSON.parse(body) as { components: Array<{ id: string; state: string; pid?: number }> }).components;
}

/** the gaps (ms) between consecutive start attempts, from the supervisor's own log times */
function attemptGaps(records: LogRecord[]): number[] {
  const times = records.map((r) => Number(r.time));
  return times.slice(1).map((t, i) => t - times[i]!);
}

async function stopped(cli: RunningCli): Promise<number> {
  process.kill(cli.pid, 'SIGTERM');
  return waitFor(() => cli.exitCode(), { timeout: 20_000, message: 'the supervisor to exit' });
}

describe('EAGAIN: the <user> has reached RLIMIT_NPROC', () => {
  /** the quota the supervisor passes on to its children, and the processes that fill it */
  const quota = 3;

  async function fillQuota(uid: number): Promise<void> {
    // over the quota, not at it: the kernel refuses the exec when the user has MORE than the limit
    for (let i = 0; i < quota + 2; i++) {
      const filler = spawn(
        'setpriv',
        [`--reuid=${user}`, `--regid=${user}`, '--clear-groups', 'sleep', '1000'],
        {
          detached: true,
          stdio: 'ignore',
        },
      );
      fillers.push(filler);
    }
    await waitFor(() => processesOf(uid).length >= quota + 2, {
      message: `${quota + 2} processes of ${user}`,
    });
  }

  test('the component backs off (>= 500 ms) and retries, the supervisor lives on with /livez 200, and it runs once the quota frees', async () => {
    const ids = lookupUser(user)!;
    await fillQuota(ids.uid);
    const startsFile = startsFileIn('s7sup-eagain-');
    const port = await freePort();
    const home = writeRegistry(
      [
        {
          id: 'limited',
          command: 'sh',
          args: ['-c', `echo $$ >> '${startsFile}'; exec sleep 100000`],
          extra: `<user>${user}</user><restart policy="always" backoffInitial="0" resetAfter="0"/>`,
        },
        { id: 'steady', command: 'sleep', args: ['100001'] },
      ],
      `<tcpport>${port}</tcpport><host>127.0.0.1</host><restartIntensity max="1000" period="60"/>`,
    );
    // RLIMIT_NPROC of the supervisor is what its children have when they switch to the user
    const cli = runCli(['run', '--home', home, '--log-level', 'debug'], {
      prefix: ['prlimit', `--nproc=${quota}:${quota}`],
    });
    const failures = await waitFor(
      () => {
        const found = cli.records().filter(startFailures('limited', 'EAGAIN'));
        return found.length >= 4 ? found : undefined;
      },
      {
        timeout: 15_000,
        message: `4 EAGAIN start failures\n${cli.stdout.join('\n')}\n${cli.stderr.join('\n')}`,
      },
    );
    assert.equal(cli.exitCode(), undefined, 'the supervisor lives');
    const livez = await probe(`http://127.0.0.1:${port}/livez`, 1000);
    assert.equal(livez.status, 200, `/livez ${livez.error ?? ''}`);
    const limited = (await components(port)).find((c) => c.id === 'limited')!;
    assert.ok(['backoff', 'starting'].includes(limited.state), `state ${limited.state}`);
    assert.equal(
      (await components(port)).find((c) => c.id === 'steady')?.state,
      'running',
      'the others run on',
    );
    const gaps = attemptGaps(failures);
    assert.ok(
      gaps.every((gap) => gap >= 490),
      `attempts at least 500 ms apart (backoffInitial 0 or not): ${gaps.join(', ')} ms`,
    );
    assert.match(String(failures[0]!.msg), /a shortage: trying again/);
    assert.equal(lineCount(startsFile), 0, 'no process of the component ever ran');
    // every attempt is a restart (counted toward the intensity)
    const restarts = (await restartsByComponent(port, ['limited'])).limited!;
    assert.ok(restarts >= failures.length - 1, `restarts_total ${restarts} for ${failures.length} attempts`);

    killFillers();
    const run = await cli.waitForRecord(started('limited'), 10_000);
    await waitFor(async () => (await components(port)).find((c) => c.id === 'limited')?.state === 'running', {
      message: 'limited running',
    });
    const pid = Number(run.pid);
    assert.equal(Number(statusField(pid, 'Uid')?.split(/\s+/)[0]), ids.uid, `it runs as ${user}`);
    assert.deepEqual(
      readStarts(startsFile),
      [pid],
      'exactly one process of the component ever ran: the one that runs now',
    );
    console.log(
      `spawn-failures EAGAIN: ${failures.length}+ failed attempts, gaps ${gaps.join('/')} ms, then running as ${user} (pid ${pid})`,
    );
    assert.equal(await stopped(cli), 0);
    assert.equal(isAlive(pid), false);
  });

  test('the failed attempts count toward the restart intensity: max 3 gives up (exit 1) after 1 start and 3 retries', async () => {
    const ids = lookupUser(user)!;
    await fillQuota(ids.uid);
    const home = writeRegistry(
      [
        {
          id: 'limited',
          command: 'sleep',
          args: ['100002'],
          extra: `<user>${user}</user><restart policy="always" backoffInitial="0" resetAfter="0"/>`,
        },
      ],
      '<restartIntensity max="3" period="60"/>',
    );
    const cli = runCli(['run', '--home', home, '--port', '0', '--log-level', 'info'], {
      prefix: ['prlimit', `--nproc=${quota}:${quota}`],
    });
    assert.equal(
      await waitFor(() => cli.exitCode(), { timeout: 15_000, message: 'the supervisor to give up' }),
      1,
    );
    assert.equal(cli.records().filter(startFailures('limited', 'EAGAIN')).length, 4);
    assert.ok(cli.records().some((r) => String(r.msg).includes('restart intensity exceeded')));
    killFillers();
  });
});

/** a file every component may append its pid to, whatever its user */
function startsFileIn(prefix: string): string {
  const dir = makeTempDir(prefix);
  chmodSync(dir, 0o755);
  const file = join(dir, 'starts');
  writeFileSync(file, '');
  chmodSync(file, 0o666);
  return file;
}

function readStarts(file: string): number[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number);
}

describe('EMFILE: the supervisor is out of descriptors', () => {
  /** free descriptors left under the lowered limit, which client connections then take */
  const headroom = 8;

  async function exhaust(pid: number, port: number): Promise<number> {
    const limit = openFds(pid) + headroom;
    execFileSync('prlimit', ['--pid', String(pid), `--nofile=${limit}:${limit}`]);
    // idle connections to its HTTP port, each an accepted socket (a descriptor) in the supervisor,
    // until it has none left, and kept so: a descriptor it opens for a moment (a /proc read) is
    // taken by the next connection once it is closed. Bounded in count and time.
    const deadline = Date.now() + 5000;
    let fullFor = 0;
    for (let i = 0; i < 200 && Date.now() < deadline && fullFor < 15; i++) {
      const count = fdsBelow(pid, limit);
      if (count >= limit) {
        fullFor += 1;
        await new Promise((resolve) => setTimeout(resolve, 20));
        continue;
      }
      fullFor = 0;
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => {});
      socket.resume();
      sockets.push(socket);
      // accepted (one more descriptor there) or turned away (closed at once)
      await waitFor(() => fdsBelow(pid, limit) > count || socket.destroyed, { timeout: 1000 }).catch(
        () => undefined,
      );
    }
    assert.ok(
      fullFor >= 15,
      `descriptors 0-${limit - 1} all in use for 300 ms (${fdsBelow(pid, limit)} now)`,
    );
    return limit;
  }

  const variants = [
    // killed while exhausted: the restart is immediate, and the dead run's pipes just freed two
    // descriptors, so the first pipe of the new run may fit and the second not
    { asUser: false, killFirst: false },
    // killed first, exhausted during its backoff (1 s): not one descriptor free when it is due
    { asUser: false, killFirst: true },
    // the same with a <user>, whose lookup reads /etc/passwd: that needs a descriptor too (an
    // EMFILE there used to read as "user does not exist": fatal for good)
    { asUser: true, killFirst: true },
  ];
  for (const { asUser, killFirst } of variants) {
    const title = `${asUser ? ' with a <user>' : ''}${killFirst ? ', its restart due while no descriptor is free,' : ', crashed while no descriptor is free,'}`;
    test(`a component${title} is retried with backoff, no orphan, the supervisor lives, it runs again once descriptors are freed`, async () => {
      const startsFile = startsFileIn('s7sup-emfile-');
      const port = await freePort();
      const restart = killFirst
        ? '<restart policy="always" backoffInitial="1" backoffMax="1" resetAfter="1000"/>'
        : '<restart policy="always" backoffInitial="0" resetAfter="0"/>';
      const home = writeRegistry(
        [
          {
            id: 'crashy',
            command: 'sh',
            args: ['-c', `echo $$ >> '${startsFile}'; exec sleep 100000`],
            extra: `${asUser ? `<user>${user}</user>` : ''}${restart}`,
          },
        ],
        `<tcpport>${port}</tcpport><host>127.0.0.1</host><restartIntensity max="1000" period="60"/>
        <tracestatsinterval>0</tracestatsinterval>`,
      );
      const cli = runCli(['run', '--home', home, '--log-level', 'debug']);
      await waitFor(async () => (await components(port))[0]?.state === 'running', {
        timeout: 15_000,
        message: 'crashy running',
      });
      const first = Number(cli.records().find(started('crashy'))!.pid);
      let limit: number;
      if (killFirst) {
        process.kill(first, 'SIGKILL');
        await cli.waitForRecord(
          (r) => r.component === 'crashy' && String(r.msg).startsWith('restarting in'),
          5000,
        );
        limit = await exhaust(cli.pid, port);
        assert.equal(lineCount(startsFile), 1, 'exhausted before the restart was due');
      } else {
        limit = await exhaust(cli.pid, port);
        process.kill(first, 'SIGKILL');
      }
      const failures = await waitFor(
        () => {
          const found = cli
            .records()
            .filter((r) => r.component === 'crashy' && String(r.msg).startsWith('cannot start'));
          return found.length >= 3 || cli.records().some((r) => r.component === 'crashy' && r.to === 'fatal')
            ? found
            : undefined;
        },
        { timeout: 10_000, message: `3 failed attempts\n${cli.stdout.slice(-30).join('\n')}` },
      );
      assert.equal(cli.exitCode(), undefined, `the supervisor lives\n${cli.stderr.join('\n')}`);
      assert.deepEqual(
        failures.map((r) => [r.code, String(r.msg).includes('a shortage: trying again')]),
        failures.map(() => ['EMFILE', true]),
        `each attempt failed for want of a descriptor, as a shortage: ${failures.map((r) => r.msg).join(' | ')}`,
      );
      const gaps = attemptGaps(failures);
      assert.ok(
        gaps.every((gap) => gap >= 490),
        `attempts at least 500 ms apart: ${gaps.join(', ')} ms`,
      );
      assert.deepEqual(processGroupMembers(first), [], 'nothing left of the killed run');
      assert.equal(lineCount(startsFile), 1, 'no new run started while no descriptor was free');

      // free the descriptors: the clients go
      for (const socket of sockets.splice(0)) socket.destroy();
      const again = await cli.waitForRecord((r) => started('crashy')(r) && Number(r.pid) !== first, 10_000);
      await waitFor(async () => (await probe(`http://127.0.0.1:${port}/livez`, 1000)).status === 200, {
        message: '/livez 200 again',
      });
      await waitFor(async () => (await components(port))[0]?.state === 'running', {
        message: 'crashy running again',
      });
      assert.deepEqual(readStarts(startsFile), [first, Number(again.pid)], 'one run before, one after');
      console.log(
        `spawn-failures EMFILE (${asUser ? '<user>, ' : ''}${killFirst ? 'restart due while exhausted' : 'crashed while exhausted'}): limit ${limit} descriptors, ${failures.length} failed attempts (${failures.map((r) => r.code).join(',')}), gaps ${gaps.join('/')} ms, running again as pid ${again.pid}`,
      );
      assert.equal(await stopped(cli), 0);
    });
  }
});
