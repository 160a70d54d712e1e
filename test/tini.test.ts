// Tini mode (`run -- CMD ARG...`, design.md §5) as PID 1 of a new PID namespace, modelled on the
// tests of tini and dumb-init: exit codes, signals passed on (to the whole process group),
// a clean signal state for the child, and commands that cannot be executed.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  killAllNamespaces,
  type NamespaceRun,
  namespacePid1,
  startInNamespace,
} from './helpers/namespace.js';
import { cliPath, makeTempDir, repoRoot } from './helpers/paths.js';
import { waitFor } from './helpers/wait.js';

const reporter = join(repoRoot, 'test/fixtures/signal-reporter.mjs');

/** `s7supervisor run --port 0 [flags] -- command` as PID 1 of a fresh PID namespace */
function tini(command: string[], flags: string[] = []): NamespaceRun {
  return startInNamespace([process.execPath, cliPath, 'run', '--port', '0', ...flags, '--', ...command]);
}

async function supervisorPid(run: NamespaceRun): Promise<number> {
  return waitFor(() => namespacePid1(run.pid), { message: 'the namespace PID 1' });
}

const line = (run: NamespaceRun, text: string) =>
  waitFor(() => run.stdout.includes(text), {
    timeout: 15_000,
    message: `the line "${text}"\nstdout:\n${run.stdout.join('\n')}\nstderr:\n${run.stderr.join('\n')}`,
  });

after(killAllNamespaces);

describe('tini mode as PID 1', () => {
  test('every exit code 0-255 passes through', async () => {
    const codes = Array.from({ length: 256 }, (_, code) => code);
    const seen = new Map<number, number>();
    const parallel = 8;
    for (let i = 0; i < codes.length; i += parallel) {
      const batch = codes.slice(i, i + parallel);
      const results = await Promise.all(batch.map((code) => tini(['sh', '-c', `exit ${code}`]).exited));
      for (const [j, code] of batch.entries()) seen.set(code, results[j]!);
    }
    const wrong = [...seen].filter(([code, got]) => code !== got);
    assert.deepEqual(wrong, [], 'pairs of [expected, got]');
  });

  for (const signal of ['SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGKILL'] as const) {
    test(`a child killed by ${signal} gives 128+${constants.signals[signal]}`, async () => {
      const run = tini(['sh', '-c', `kill -${signal.slice(3)} $$; sleep 5`]);
      assert.equal(await run.exited, 128 + constants.signals[signal]);
    });
  }

  test('TERM, INT, USR1, USR2 and HUP sent to the supervisor reach the child', async () => {
    const run = tini([process.execPath, reporter]);
    await waitFor(() => run.stdout.some((l) => l.startsWith('ready ')), { message: 'the child to be ready' });
    const pid1 = await supervisorPid(run);
    for (const signal of ['SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGINT'] as const) {
      process.kill(pid1, signal);
      await line(run, `got ${signal}`);
    }
    process.kill(pid1, 'SIGTERM');
    await line(run, 'got SIGTERM');
    assert.equal(await run.exited, 0, "the child's exit code (it exits 0 on SIGTERM)");
  });

  test('a grandchild in the process group gets the forwarded signal too', async () => {
    // sh survives USR1 (trapped) and waits; the node grandchild reports it
    const script = `trap 'echo sh-got-USR1' USR1; "${process.execPath}" "${reporter}" & child=$!; while kill -0 $child 2>/dev/null; do wait $child; done`;
    const run = tini(['sh', '-c', script]);
    await waitFor(() => run.stdout.some((l) => l.startsWith('ready ')), {
      message: 'the grandchild to be ready',
    });
    process.kill(await supervisorPid(run), 'SIGUSR1');
    await line(run, 'got SIGUSR1');
    await line(run, 'sh-got-USR1');
    process.kill(await supervisorPid(run), 'SIGTERM');
    await run.exited;
  });

  test('the child starts with no blocked and no ignored signals', async () => {
    // the caller ignores SIGUSR1 and blocks SIGUSR2 (perl sets both, then execs the namespace)
    const run = startInNamespace([
      'perl',
      '-MPOSIX',
      '-e',
      '$SIG{USR1} = "IGNORE"; sigprocmask(SIG_BLOCK, POSIX::SigSet->new(SIGUSR2)); exec @ARGV or die',
      process.execPath,
      cliPath,
      'run',
      '--port',
      '0',
      '--',
      'cat',
      '/proc/self/status',
    ]);
    assert.equal(await run.exited, 0);
    const mask = (name: string) => {
      const found = run.stdout.find((l) => l.startsWith(`${name}:`));
      assert.ok(found, `${name} in /proc/self/status`);
      return BigInt(`0x${found.split(/\s+/)[1]}`);
    };
    assert.equal(mask('SigBlk'), 0n, 'no signal blocked');
    assert.equal(mask('SigIgn'), 0n, 'no signal ignored');
  });

  test('a command that does not exist exits 127, one that is not executable 126, with a clear message', async () => {
    const missing = tini(['/nonexistent/program']);
    assert.equal(await missing.exited, 127);
    assert.ok(
      missing.stdout.some((l) => l.includes('cannot start component') && l.includes('ENOENT')),
      missing.stdout.join('\n'),
    );
    const file = join(makeTempDir(), 'not-executable');
    writeFileSync(file, 'echo hello\n', { mode: 0o644 });
    const notExecutable = tini([file]);
    assert.equal(await notExecutable.exited, 126);
    assert.ok(
      notExecutable.stdout.some((l) => l.includes('EACCES')),
      notExecutable.stdout.join('\n'),
    );
  });

  test('--restart on-failure restarts a failing child; TERM during its backoff ends it with its last code', async () => {
    // tini mode logs only problems by default: the restarts are announced at info
    const run = tini(
      ['sh', '-c', 'echo started; sleep 0.2; exit 3'],
      ['--restart', 'on-failure', '--log-level', 'info'],
    );
    // the second crash is followed by a wait of about 2 s: TERM lands inside it
    const restarting = (r: Record<string, unknown>) =>
      typeof r.msg === 'string' && r.msg.startsWith('restarting in');
    await waitFor(() => run.records().filter(restarting).length >= 2, { message: 'two restarts announced' });
    process.kill(await supervisorPid(run), 'SIGTERM');
    assert.equal(await run.exited, 3, "the child's last exit code");
    assert.equal(run.stdout.filter((l) => l === 'started').length, 2, 'no restart after TERM');
  });

  test('TERM while the child runs: passed on, the child dies of it, no restart, 128+15', async () => {
    const run = tini(
      [process.execPath, '-e', "console.log('up'); setInterval(() => {}, 1e6)"],
      ['--restart', 'always'],
    );
    await line(run, 'up');
    process.kill(await supervisorPid(run), 'SIGTERM');
    assert.equal(await run.exited, 143);
    assert.equal(run.stdout.filter((l) => l === 'up').length, 1);
  });
});
