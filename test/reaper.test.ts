// The orphan reaper for real: the reaper-host fixture (set up as `run` sets it up) as PID 1 of a
// new PID namespace, or as a subreaper below a PID 1 that does not reap, and the orphan-storm
// fixture making 1,000 orphans that exit at once.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import {
  killAllNamespaces,
  type NamespaceRun,
  namespaceZombies,
  orphanStormPath,
  reaperHost,
  startInNamespace,
} from './helpers/namespace.js';
import { killGroup } from './helpers/processes.js';

const ORPHANS = 1000;
let storm: string;

before(() => {
  storm = orphanStormPath();
});
after(killAllNamespaces);

const isStorm = (kind: string) => (r: Record<string, unknown>) => r.storm === kind;

/** releases the storm's orphans and returns its report (reaped within WAIT_MS, or not) */
async function releaseStorm(run: NamespaceRun): Promise<Record<string, unknown>> {
  const ready = await run.waitForRecord(isStorm('ready'), 60_000, 'the storm to have forked its orphans');
  assert.equal(ready.orphans, ORPHANS);
  run.send('go');
  return run.waitForRecord(isStorm('done'), 30_000, 'the storm to report');
}

async function finish(run: NamespaceRun): Promise<Record<string, unknown>> {
  run.send('quit');
  assert.equal(await run.exited, 0, `the namespace ended badly:\n${run.stderr.join('\n')}`);
  const summaries = run.records().filter((r) => r.event === 'summary');
  assert.ok(summaries.length > 0, `no summary:\n${run.stdout.join('\n')}`);
  return summaries[0]!;
}

describe('orphan reaper', () => {
  test('as PID 1: 1,000 orphans that exit at once are reaped on SIGCHLD within 1 s, and counted', async () => {
    // A safety sweep once in ten minutes: only SIGCHLD can make the reaper act in time.
    const run = startInNamespace(reaperHost(['--interval', '600000'], [storm, String(ORPHANS), '5000']));
    const mode = await run.waitForRecord((r) => r.event === 'mode');
    assert.equal(mode.mode, 'pid1');

    const done = await releaseStorm(run);
    assert.equal(done.remaining, 0, `orphans left unreaped: ${JSON.stringify(done)}`);
    assert.ok(Number(done.ms) < 1000, `reaping took ${done.ms} ms`);
    assert.equal(namespaceZombies(run.pid), 0, 'no zombie anywhere in the namespace');
    await run.waitForRecord((r) => r.event === 'reaped' && r.total === ORPHANS, 10_000);

    const summary = await finish(run);
    assert.equal(summary.reapedTotal, ORPHANS, 'each orphan counted once, nothing else');
  });

  test('not PID 1 (by default a child subreaper): the same 1,000 orphans come to it and are reaped', async () => {
    // PID 1 here is a Node process without a reaper: had the supervisor not become a subreaper,
    // the orphans would go to it and stay zombies (the negative control shows that).
    const inner = reaperHost(['--interval', '600000'], [storm, String(ORPHANS), '5000']);
    const run = startInNamespace(reaperHost(['--no-reaper'], inner));
    const mode = await run.waitForRecord((r) => r.event === 'mode' && r.mode !== 'off');
    assert.equal(mode.mode, 'subreaper');
    assert.equal(mode.isChildSubreaper, true);
    assert.equal(mode.warning, undefined);
    assert.match(String(mode.description), /not running as PID 1.*child subreaper/);

    const done = await releaseStorm(run);
    assert.equal(done.remaining, 0, `orphans left unreaped: ${JSON.stringify(done)}`);
    assert.ok(Number(done.ms) < 1000, `reaping took ${done.ms} ms`);
    assert.equal(namespaceZombies(run.pid), 0, 'no zombie anywhere in the namespace');
    await run.waitForRecord(
      (r) => r.event === 'reaped' && r.host === mode.host && r.total === ORPHANS,
      10_000,
    );

    run.send('quit');
    assert.equal(await run.exited, 0);
    const inside = run.records().find((r) => r.event === 'summary' && r.host === mode.host);
    assert.equal(inside?.reapedTotal, ORPHANS);
  });

  test('negative control: a plain Node process as PID 1 leaves all 1,000 orphans as zombies', async () => {
    const run = startInNamespace(reaperHost(['--no-reaper'], [storm, String(ORPHANS), '1000']));
    await run.waitForRecord((r) => r.event === 'mode' && r.mode === 'off');
    const done = await releaseStorm(run);
    assert.equal(done.remaining, ORPHANS, 'nothing reaped them');
    assert.equal(done.unreapedExited, ORPHANS, 'they all exited: zombies');
    assert.ok(namespaceZombies(run.pid) >= ORPHANS, 'the zombies are there for all to see');
    await finish(run);
  });

  for (const enumeration of ['children', 'stat-scan'] as const) {
    test(`Node's own children keep their exit events while the reaper sweeps flat out (${enumeration})`, async () => {
      // 8 children of Node's always running (each must report the exit code it chose), a sweep
      // on every turn of the event loop, and 1,000 orphans reaped in the middle of it. A stolen
      // exit would leave a child that never reports, and the host would never write its summary.
      const flags = [
        '--churn',
        '8',
        '--hammer',
        '--owned-zombies',
        '20',
        ...(enumeration === 'stat-scan' ? ['--stat-scan'] : []),
      ];
      const run = startInNamespace(reaperHost(flags, [storm, String(ORPHANS), '5000']));
      await run.waitForRecord((r) => r.event === 'churn', 30_000, 'the churn to get going');
      const done = await releaseStorm(run);
      assert.equal(done.remaining, 0, `orphans left unreaped: ${JSON.stringify(done)}`);
      await run.waitForRecord(
        (r) => r.event === 'churn' && Number(r.exited) >= 500,
        120_000,
        '500 exits of Node children',
      );

      const summary = await finish(run);
      const churn = summary.churn as {
        spawned: number;
        exited: number;
        inflight: number;
        mismatches: unknown[];
      };
      assert.deepEqual(churn.mismatches, [], 'every child reported its own exit code');
      assert.equal(churn.inflight, 0);
      assert.equal(churn.exited, churn.spawned, 'every child spawned reported its exit');
      assert.equal(summary.reapedTotal, ORPHANS, 'and not one of them was taken for an orphan');
      // 20 times a sweep met a zombie of Node's that libuv had not collected yet (the event loop
      // was held until it was one): each time it had to look past it, and left it to libuv.
      const owned = summary.ownedZombies as {
        wanted: number;
        left: number;
        exited: number;
        problems: unknown[];
      };
      assert.deepEqual(owned.problems, []);
      assert.equal(owned.left, 20);
      assert.equal(owned.exited, 20, 'and libuv then reported each of them, with its exit code');
      const methods = summary.methods as Record<string, number>;
      assert.ok((methods[enumeration] ?? 0) >= 20, JSON.stringify(methods));
      assert.ok(Number(summary.sweeps) >= 20, `the reaper swept flat out (${summary.sweeps} extra sweeps)`);
    });
  }

  test('a child starts with default signal dispositions and an empty mask', async () => {
    // The caller hands the supervisor blocked and ignored signals; Node itself ignores SIGPIPE
    // and SIGXFSZ. None of it may reach a component.
    const block = `use POSIX qw(:signal_h);
      sigprocmask(SIG_BLOCK, POSIX::SigSet->new(SIGUSR2, SIGTERM, SIGINT));
      $SIG{$_} = "IGNORE" for qw(HUP USR1 QUIT);
      exec @ARGV or die "exec: $!"`;
    const command = ['perl', '-e', block, ...reaperHost([], ['cat', '/proc/self/status'])];
    const child = spawn(command[0]!, command.slice(1), { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    after(() => killGroup(child.pid!));
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    assert.equal(code, 0, out);

    const host = out
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, string>)
      .find((r) => r.event === 'start');
    assert.ok(host);
    assert.notEqual(BigInt(`0x${host.sigIgn}`), 0n, 'the supervisor itself does ignore signals');
    const field = (name: string) => new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(out)?.[1];
    assert.equal(field('SigBlk'), '0000000000000000', 'no blocked signal');
    assert.equal(field('SigIgn'), '0000000000000000', 'no ignored signal');
  });
});
