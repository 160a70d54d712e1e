// The real program reaps: `s7supervisor run -- CMD` as PID 1 of a new PID namespace, and as a
// subreaper below a PID 1 that does not reap, with 1,000 orphans from the storm fixture, and
// s7supervisor_zombies_reaped_total counting them on /metrics.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import {
  killAllNamespaces,
  namespaceZombies,
  orphanStormPath,
  reaperHost,
  startInNamespace,
} from './helpers/namespace.js';
import { cliPath } from './helpers/paths.js';
import { killGroup } from './helpers/processes.js';
import { freePort } from './helpers/stack.js';
import { waitFor } from './helpers/wait.js';

const ORPHANS = 1000;
let storm: string;

before(() => {
  storm = orphanStormPath();
});
after(killAllNamespaces);

async function reapedMetric(port: number): Promise<number | undefined> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  const match = /^s7supervisor_zombies_reaped_total (\d+)$/m.exec(await response.text());
  return match ? Number(match[1]) : undefined;
}

describe('s7supervisor run reaps orphans', () => {
  for (const setup of ['PID 1', 'subreaper'] as const) {
    test(`as ${setup}: 1,000 orphans reaped within 1 s, and counted in s7supervisor_zombies_reaped_total`, async () => {
      const port = await freePort();
      const cli = [
        process.execPath,
        cliPath,
        'run',
        '--port',
        String(port),
        // tini mode logs only problems by default: the reaper mode record is info
        '--log-level',
        'info',
        '--',
        storm,
        String(ORPHANS),
        '5000',
      ];
      // As a subreaper, PID 1 is a Node process that does not reap: the orphans reach the
      // supervisor only because it registered as a child subreaper.
      const run = startInNamespace(setup === 'PID 1' ? cli : reaperHost(['--no-reaper'], cli));
      const mode = await run.waitForRecord((r) => r.mode === (setup === 'PID 1' ? 'pid1' : 'subreaper'));
      assert.match(String(mode.msg), setup === 'PID 1' ? /PID 1/ : /child subreaper/);
      await waitFor(() => reapedMetric(port).then((value) => value === 0), { message: 'the metric at 0' });

      const ready = await run.waitForRecord((r) => r.storm === 'ready', 60_000);
      assert.equal(ready.orphans, ORPHANS);
      run.send('go');
      const done = await run.waitForRecord((r) => r.storm === 'done', 30_000);
      assert.equal(done.remaining, 0, `orphans left unreaped: ${JSON.stringify(done)}`);
      assert.ok(Number(done.ms) < 1000, `reaping took ${done.ms} ms`);
      assert.equal(namespaceZombies(run.pid), 0, 'no zombie anywhere in the namespace');
      await waitFor(() => reapedMetric(port).then((value) => value === ORPHANS), {
        message: `s7supervisor_zombies_reaped_total ${ORPHANS}`,
      });

      run.send('quit');
      assert.equal(await run.exited, 0, run.stderr.join('\n'));
    });
  }

  test('a component starts with default signal dispositions and an empty mask', async () => {
    // The caller hands the supervisor blocked and ignored signals, and Node itself ignores
    // SIGPIPE and SIGXFSZ: none of it may reach a component.
    const block = `use POSIX qw(:signal_h);
      sigprocmask(SIG_BLOCK, POSIX::SigSet->new(SIGUSR2, SIGTERM, SIGINT));
      $SIG{$_} = "IGNORE" for qw(HUP USR1 QUIT PIPE);
      exec @ARGV or die "exec: $!"`;
    const command = [process.execPath, cliPath, 'run', '--port', '0', '--', 'cat', '/proc/self/status'];
    const child = spawn('perl', ['-e', block, ...command], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    after(() => killGroup(child.pid!));
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    assert.equal(code, 0, out);
    const field = (name: string) => new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(out)?.[1];
    assert.equal(field('Name'), 'cat', out);
    assert.equal(field('SigBlk'), '0000000000000000', 'no blocked signal');
    assert.equal(field('SigIgn'), '0000000000000000', 'no ignored signal');
  });
});
