// Benchmarks of the supervision core (issue 3): crash-to-respawn latency beside a bare shell
// loop, and shutdown time of 10 components. (The idle cost is bench/idle.ts, beside the baselines.)
// Not a test: it prints figures for the README. Run alone: node dist/bench/supervisor.js
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTempDir } from '../test/helpers/paths.js';
import { killAllStarted, type RunningCli, runCli } from '../test/helpers/processes.js';
import { type TestServer, writeRegistry } from '../test/helpers/registry.js';
import { waitFor } from '../test/helpers/wait.js';
import { compileFixture } from './compile.js';

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return (
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN
  );
}

/** gaps (ms) from each life's last timestamp to the next life's first */
function respawnGaps(file: string): number[] {
  const lives = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => line.trim().split(' ').map(Number))
    .filter((pair) => pair.length === 2);
  const gaps: number[] = [];
  for (let i = 1; i < lives.length; i++) gaps.push((lives[i]![0]! - lives[i - 1]![1]!) / 1e6);
  return gaps;
}

async function crashToRespawn(binary: string, restarts: number) {
  const lifeMs = 1500;
  const dir = makeTempDir('s7sup-bench-respawn-');
  const oursFile = join(dir, 'ours.txt');
  const shellFile = join(dir, 'shell.txt');
  writeFileSync(oursFile, '');
  writeFileSync(shellFile, '');
  const home = writeRegistry(
    [
      {
        id: 'crasher',
        command: binary,
        args: ['lifetime', String(lifeMs), oursFile],
        extra: '<restart policy="always" backoffInitial="1" backoffMax="1" resetAfter="1"/>',
      },
    ],
    `<restartIntensity max="1000" period="60"/>`,
  );
  // Both run at once, each mostly asleep, so the machine's load is the same for both.
  const cli = runCli(['run', '--home', home, '--port', '0', '--log-level', 'warn'], { asInstalled: true });
  const shell = spawn('bash', ['-c', `while true; do "${binary}" lifetime ${lifeMs} "${shellFile}"; done`], {
    detached: true,
    stdio: 'ignore',
  });
  try {
    await waitFor(
      () => respawnGaps(oursFile).length >= restarts && respawnGaps(shellFile).length >= restarts,
      { timeout: (restarts + 10) * (lifeMs + 1000), interval: 500, message: `${restarts} restarts` },
    );
  } finally {
    process.kill(-shell.pid!, 'SIGKILL');
    await stop(cli);
  }
  const summary = (gaps: number[]) => ({
    restarts: gaps.length,
    p50Ms: round(percentile(gaps, 50)),
    p99Ms: round(percentile(gaps, 99)),
  });
  return { s7supervisor: summary(respawnGaps(oursFile)), bashLoop: summary(respawnGaps(shellFile)) };
}

async function shutdownTime(binary: string, runs: number) {
  const servers: TestServer[] = Array.from({ length: 10 }, (_, i) => ({
    id: `c${i}`,
    command: binary,
    args: ['term-delay', '200'],
  }));
  const home = writeRegistry(servers);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const cli = runCli(['run', '--home', home, '--port', '0', '--log-level', 'info'], { asInstalled: true });
    await cli.waitForRecord((r) => r.msg === 'all priority groups started', 30_000);
    const t0 = performance.now();
    cli.child.kill('SIGTERM');
    await cli.exited;
    times.push(performance.now() - t0);
  }
  return {
    components: 10,
    exitAfterTermMs: 200,
    runs,
    medianMs: round(percentile(times, 50)),
    maxMs: round(Math.max(...times)),
  };
}

async function stop(cli: RunningCli): Promise<void> {
  if (cli.exitCode() === undefined) {
    cli.child.kill('SIGTERM');
    await Promise.race([cli.exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
  }
  cli.kill();
}

function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export async function benchSupervisor(options: { restarts?: number } = {}) {
  const binary = compileFixture('lifetime');
  try {
    const respawn = await crashToRespawn(binary, options.restarts ?? 50);
    const shutdown = await shutdownTime(binary, 5);
    return { respawn, shutdown };
  } finally {
    killAllStarted();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const restarts = Number(process.env.BENCH_RESTARTS ?? 50);
  benchSupervisor({ restarts }).then(
    (result) => console.log(JSON.stringify(result, null, 2)),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
