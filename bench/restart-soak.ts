// Restart soak: three components crash-looping with zero backoff (`sh -c 'exit 1'`,
// backoffInitial 0, resetAfter 0) until 10,000 restarts in all, with the supervisor's open
// descriptors and resident memory before and after, and restarts per second. Beside it, in the same
// run, the floor: bash's `while true; do sh -c 'exit 1'; done`, one loop and three loops at once
// (as many as components), each bounded to the same number of starts.
// Not a test: it prints figures for the README. Run alone: node dist/bench/restart-soak.js [restarts]
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { getText, openFds, rssBytes } from '../test/chaos/chaos.js';
import { killAllStarted, type RunningCli, runCli } from '../test/helpers/processes.js';
import { writeRegistry } from '../test/helpers/registry.js';
import { freePort } from '../test/helpers/stack.js';
import { waitFor } from '../test/helpers/wait.js';

export interface RestartSoakResult {
  components: number;
  restarts: number;
  seconds: number;
  restartsPerSecond: number;
  fds: { before: number; after: number; max: number };
  rssMB: { before: number; after: number; max: number };
  /** the supervisor was alive and answering /livez at the end */
  survived: boolean;
  bash: { loops: number; starts: number; seconds: number; startsPerSecond: number }[];
}

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

async function totalRestarts(port: number): Promise<number> {
  const { body } = await getText(`http://127.0.0.1:${port}/api/v1/components`);
  const list = (JSON.parse(body) as { components: Array<{ restarts: number }> }).components;
  return list.reduce((sum, c) => sum + c.restarts, 0);
}

async function supervised(restarts: number, components: number) {
  const port = await freePort();
  const home = writeRegistry(
    Array.from({ length: components }, (_, i) => ({
      id: `crash${i}`,
      command: 'sh',
      args: ['-c', 'exit 1'],
      extra: '<restart policy="always" backoffInitial="0" resetAfter="0"/>',
    })),
    `<tcpport>${port}</tcpport><host>127.0.0.1</host><tracestatsinterval>0</tracestatsinterval>
    <restartIntensity max="1000000" period="1"/>`,
  );
  const cli = runCli(['run', '--home', home, '--log-level', 'warn'], { asInstalled: true });
  try {
    const r0 = await waitFor(() => totalRestarts(port), { timeout: 20_000, message: 'the supervisor API' });
    const t0 = performance.now();
    const before = { fds: openFds(cli.pid), rss: rssBytes(cli.pid) };
    let max = { ...before };
    let last = r0;
    // sampled every 250 ms; bounded by a deadline that a loop ten times slower than usual still meets
    const deadline = Date.now() + Math.max(120_000, restarts * 50);
    while (last - r0 < restarts) {
      if (Date.now() > deadline) throw new Error(`only ${last - r0} restarts before the deadline`);
      if (cli.exitCode() !== undefined) throw new Error(`the supervisor exited with ${cli.exitCode()}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
      last = await totalRestarts(port);
      max = { fds: Math.max(max.fds, openFds(cli.pid)), rss: Math.max(max.rss, rssBytes(cli.pid)) };
    }
    const seconds = (performance.now() - t0) / 1000;
    const after = { fds: openFds(cli.pid), rss: rssBytes(cli.pid) };
    const livez = await getText(`http://127.0.0.1:${port}/livez`).catch(() => ({ status: 0 }));
    return {
      components,
      restarts: last - r0,
      seconds: round(seconds, 2),
      restartsPerSecond: round((last - r0) / seconds),
      fds: { before: before.fds, after: after.fds, max: max.fds },
      rssMB: {
        before: round(before.rss / 2 ** 20),
        after: round(after.rss / 2 ** 20),
        max: round(max.rss / 2 ** 20),
      },
      survived: livez.status === 200 && cli.exitCode() === undefined,
    };
  } finally {
    await stop(cli);
  }
}

/** `loops` bash loops at once, `starts` child starts in all; the wall time */
async function bashLoops(loops: number, starts: number) {
  const each = Math.ceil(starts / loops);
  const t0 = performance.now();
  await Promise.all(
    Array.from(
      { length: loops },
      () =>
        new Promise<void>((resolve, reject) => {
          // `while true` with a bound, so the floor stops by itself
          const loop = spawn(
            'bash',
            ['-c', `i=0; while [ $i -lt ${each} ]; do sh -c 'exit 1'; i=$((i+1)); done`],
            {
              stdio: 'ignore',
            },
          );
          loop.on('error', reject);
          loop.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`bash loop exited ${code}`))));
        }),
    ),
  );
  const seconds = (performance.now() - t0) / 1000;
  return {
    loops,
    starts: each * loops,
    seconds: round(seconds, 2),
    startsPerSecond: round((each * loops) / seconds),
  };
}

async function stop(cli: RunningCli): Promise<void> {
  if (cli.exitCode() === undefined) {
    cli.child.kill('SIGTERM');
    await Promise.race([cli.exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
  }
  cli.kill();
}

export async function benchRestartSoak(options: { restarts?: number } = {}): Promise<RestartSoakResult> {
  const restarts = options.restarts ?? 10_000;
  try {
    const ours = await supervised(restarts, 3);
    const bash = [await bashLoops(1, restarts), await bashLoops(3, restarts)];
    return { ...ours, bash };
  } finally {
    killAllStarted();
  }
}

export function formatRestartSoak(r: RestartSoakResult): string {
  const floor = r.bash
    .map((b) => `${b.loops} loop${b.loops > 1 ? 's' : ''} ${b.startsPerSecond.toLocaleString('en-US')}/s`)
    .join(', ');
  return [
    `s7supervisor: ${r.restarts.toLocaleString('en-US')} restarts of ${r.components} zero-backoff crash loops in ${r.seconds} s = ${r.restartsPerSecond.toLocaleString('en-US')} restarts/s` +
      `  |  bash while-loop floor (sh -c 'exit 1'): ${floor}`,
    `descriptors ${r.fds.before} before, ${r.fds.after} after (max ${r.fds.max}); RSS ${r.rssMB.before} MB before, ${r.rssMB.after} MB after (max ${r.rssMB.max} MB); ${r.survived ? '/livez 200 at the end' : 'DID NOT SURVIVE'}`,
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  benchRestartSoak({ restarts: Number(process.argv[2] ?? 10_000) }).then(
    (result) => console.log(formatRestartSoak(result)),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
