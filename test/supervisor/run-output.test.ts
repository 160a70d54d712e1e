// Component output through the real `s7supervisor run` (design.md §7, issue 3): nothing lost
// when a component crashes, long lines split, memory bounded whatever a component prints.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { cliPath, makeTempDir, repoRoot } from '../helpers/paths.js';
import { killAllStarted, killGroup, runCli } from '../helpers/processes.js';
import { promptScript } from '../helpers/prompt.js';
import { writeRegistry } from '../helpers/registry.js';
import { freePort } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';

const generator = join(repoRoot, 'dist/test/fixtures/numbered-lines.js');
const gen = (args: string[], output = 'json') => ({
  id: 'gen',
  command: process.execPath,
  args: [generator, ...args],
  extra: `<restart policy="never"/><output>${output}</output>`,
});
type LogRecord = Record<string, unknown>;
const settled = (r: LogRecord) =>
  r.msg === 'state change' && r.component === 'gen' && (r.to === 'fatal' || r.to === 'stopped');

afterEach(() => killAllStarted());

describe('run: component output', () => {
  test('100,000 numbered lines, then a crash mid-line: every line exactly once, in order, as a JSON record', async () => {
    const count = 100_000;
    const home = writeRegistry([
      gen(['--count', String(count), '--size', '40', '--no-final-newline', '--exit-code', '1']),
    ]);
    const cli = runCli(['run', '--home', home, '--port', '0', '--log-level', 'debug']);
    await cli.waitForRecord(settled, 60_000);
    cli.child.kill('SIGTERM');
    assert.equal(await cli.exited, 0);
    const lines = cli.records().filter((r) => r.component === 'gen' && r.stream === 'stdout');
    assert.equal(lines.length, count);
    lines.forEach((record, i) => {
      if (!String(record.msg).startsWith(`line ${String(i + 1).padStart(7, '0')}`))
        assert.fail(`record ${i + 1} is "${String(record.msg).slice(0, 20)}"`);
    });
    assert.equal(cli.records().find((r) => r.component === 'gen' && r.code !== undefined)?.code, 1);
  });

  test('a partial line left waiting (a prompt) is let out after a second, without tearing a character', async () => {
    const flag = join(makeTempDir(), 'go-on');
    const script = promptScript(flag);
    const home = writeRegistry([
      { id: 'prompt', command: process.execPath, args: ['-e', script], extra: '<restart policy="never"/>' },
    ]);
    const cli = runCli(['run', '--home', home, '--port', '0', '--log-level', 'debug']);
    const prompt = await cli.waitForRecord((r) => r.component === 'prompt' && r.stream === 'stdout', 10_000);
    assert.equal(prompt.msg, 'Password: c');
    assert.equal(prompt.partial, true);
    writeFileSync(flag, '');
    const rest = await cli.waitForRecord(
      (r) => r.component === 'prompt' && r.stream === 'stdout' && r.msg !== 'Password: c',
    );
    assert.equal(rest.msg, 'é', 'the held byte and its continuation make one character');
    cli.child.kill('SIGTERM');
    assert.equal(await cli.exited, 0);
  });

  test('a 1 MB line is split into pieces of at most 64 KiB with nothing lost', async () => {
    const size = 1024 * 1024;
    const home = writeRegistry([gen(['--big-line', String(size)])]);
    const cli = runCli(['run', '--home', home, '--port', '0', '--log-level', 'debug']);
    await cli.waitForRecord(settled, 30_000);
    cli.child.kill('SIGTERM');
    await cli.exited;
    const pieces = cli
      .records()
      .filter((r) => r.component === 'gen' && r.stream === 'stdout')
      .map((r) => String(r.msg));
    assert.ok(pieces.length >= 16, `${pieces.length} pieces`);
    for (const piece of pieces)
      assert.ok(Buffer.byteLength(piece) <= 64 * 1024, `a piece of ${piece.length} bytes`);
    assert.equal(pieces.join(''), 'y'.repeat(size));
  });

  test('a component writing 200 MB without a newline leaves the supervisor RSS bounded', async () => {
    const port = await freePort();
    const home = writeRegistry([gen(['--big-line', String(200 * 1024 * 1024), '--no-final-newline'])]);
    // stdout to /dev/null: the test reads state over HTTP and memory from /proc, not 200 MB of log
    const cli = spawn(process.execPath, [cliPath, 'run', '--home', home, '--port', String(port)], {
      detached: true,
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => cli.once('exit', resolve));
    let maxRssMB = 0;
    try {
      const sampler = setInterval(() => {
        const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${cli.pid}/status`, 'utf8'));
        maxRssMB = Math.max(maxRssMB, Number(match?.[1] ?? 0) / 1024);
      }, 20);
      await waitFor(
        async () => {
          const response = await fetch(`http://127.0.0.1:${port}/api/v1/components/gen`);
          const body = (await response.json()) as { state: string; lastExit?: { code: number } };
          return (body.state === 'stopped' || body.state === 'fatal') && body.lastExit ? body : undefined;
        },
        { timeout: 60_000, interval: 100, message: 'the 200 MB writer to finish' },
      );
      clearInterval(sampler);
      cli.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      killGroup(cli.pid!);
    }
    assert.ok(maxRssMB > 0, 'RSS was sampled');
    assert.ok(maxRssMB < 200, `supervisor RSS peaked at ${maxRssMB.toFixed(0)} MB while 200 MB went through`);
  });
});
