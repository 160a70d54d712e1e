// Idle cost (issue 15): CPU, wake-ups and resident memory of a supervisor whose components do
// nothing, over a window of BENCH_IDLE_SECONDS (60), for s7supervisor beside tini, s6, runit and
// supervisord supervising the same `sleep` children, all running at once in each round (so a
// noisy moment of this shared machine hits them alike), BENCH_ROUNDS (3) rounds, medians.
//
// s7supervisor runs as installed, with its default configuration: HTTP endpoints and metrics on,
// the control socket, the stats log at its default 600 s; nothing is turned off for the figure.
// It is also measured on the demo registry (examples/image-serving): three Node components with
// HTTP readiness checks every 0.5 s and liveness checks every 5 s, a file log.
//
// Wake-ups: voluntary context switches of the main thread (each is the thread going to sleep
// again) from /proc/PID/task/PID/status, summed over the supervisor's own processes (s6 and runit
// have one per service); and for s7supervisor, where perf works, its epoll_pwait calls (perf stat).
// Run alone: node dist/bench/idle.js
import { execFileSync, spawn } from 'node:child_process';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { demoHome, makeTempDir } from '../test/helpers/paths.js';
import { killAllStarted, type RunningCli, runCli } from '../test/helpers/processes.js';
import { type TestServer, writeRegistry } from '../test/helpers/registry.js';
import { freePort } from '../test/helpers/stack.js';
import { waitFor } from '../test/helpers/wait.js';
import {
  type Baseline,
  comm,
  descendants,
  installedBaselines,
  median,
  type ProcSample,
  type RunningBaseline,
  round,
  sampleProcesses,
  startBaseline,
} from './baselines.js';

export interface IdleFigures {
  /** who, and with what */
  name: string;
  components: number;
  /** medians over the rounds */
  cpuPercentOfOneCore: number;
  wakeupsPerSecond: number;
  rssMB: number;
  /** per round, for the spread */
  rounds: Array<{ cpuPercentOfOneCore: number; wakeupsPerSecond: number; rssMB: number }>;
  /** s7supervisor: epoll_pwait calls of the main thread per second (perf), when perf works */
  epollPerSecond?: number;
  /** s7supervisor: resident memory after one scrape of /metrics at the end of the window */
  rssAfterScrapeMB?: number;
  /** s7supervisor: the node process alone, without the parent-death watchdog (none as PID 1) */
  nodeRssMB?: number;
  /** the demo registry: probes run per second in the window */
  probesPerSecond?: number;
}

interface Subject {
  name: string;
  components: number;
  /** scraped every this many seconds during the window, as Prometheus would */
  scrapeEvery?: number;
  pids(): number[];
  stop(): Promise<void>;
  /** s7supervisor only */
  cli?: RunningCli;
  port?: number;
}

const SLEEP = ['sleep', '100000'];
/** Prometheus' default scrape interval */
const SCRAPE_EVERY = 15;
/**
 * After start-up V8's memory reducer runs two or three garbage collections (each one a burst of
 * main-thread wake-ups waiting for its helper threads): ~8 s after the start, since `run` tells V8
 * when its start-up is over (src/cli/start-up-memory.ts). The window starts well after them.
 */
const SETTLE_MS = 30_000;

/** s7supervisor with `count` sleeping components and its default configuration, HTTP on loopback */
async function startOurs(count: number, scrapeEvery?: number): Promise<Subject> {
  const servers: TestServer[] = Array.from({ length: count }, (_, i) => ({
    id: `c${i}`,
    command: SLEEP[0]!,
    args: SLEEP.slice(1),
    stopTimeout: 2,
  }));
  const port = await freePort();
  const home = writeRegistry(servers, `<tcpport>${port}</tcpport><host>127.0.0.1</host>`);
  const cli = runCli(['run', '--home', home, '--log-level', 'info'], { asInstalled: true });
  await cli.waitForRecord((r) => r.msg === 'all priority groups started', 120_000);
  const subject = ourSubject(
    scrapeEvery ? `s7supervisor, scraped every ${scrapeEvery} s` : 's7supervisor',
    count,
    cli,
    port,
  );
  if (scrapeEvery) subject.scrapeEvery = scrapeEvery;
  return subject;
}

/** s7supervisor on a copy of the demo registry, on free ports */
async function startDemo(): Promise<Subject> {
  const home = makeTempDir('s7sup-bench-demo-');
  cpSync(join(demoHome, 'conf'), join(home, 'conf'), { recursive: true });
  cpSync(join(demoHome, 'bin'), join(home, 'bin'), { recursive: true });
  const [port, is, svg, ps] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const cli = runCli(['run', '--home', home, '--port', String(port), '--host', '127.0.0.1'], {
    asInstalled: true,
    env: { IS_PORT: String(is), SVG_PORT: String(svg), PS_PORT: String(ps), DEMO_HOST: '127.0.0.1' },
  });
  await cli.waitForRecord((r) => r.msg === 'all priority groups started', 120_000);
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, {
    timeout: 60_000,
    interval: 250,
    message: 'the demo stack ready',
  });
  return ourSubject('s7supervisor, demo registry (checks on)', 3, cli, port);
}

function ourSubject(name: string, components: number, cli: RunningCli, port: number): Subject {
  return {
    name,
    components,
    cli,
    port,
    // the node process, and its parent-death watchdog (a shell) when it is not PID 1
    pids: () => [cli.pid, ...descendants(cli.pid).filter((pid) => comm(pid) === 'sh')],
    async stop() {
      cli.child.kill('SIGTERM');
      await Promise.race([cli.exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
      cli.kill();
    },
  };
}

function baselineSubject(name: Baseline, count: number): Subject {
  const running: RunningBaseline = startBaseline(name, count, SLEEP);
  return {
    name: name === 'tini' ? 'tini (one child)' : name,
    components: name === 'tini' ? 1 : count,
    pids: () => running.supervisionPids(),
    stop: () => running.stop(),
  };
}

function perfWorks(): boolean {
  try {
    execFileSync('perf', ['stat', '-x,', '-e', 'syscalls:sys_enter_epoll_pwait', '--', 'true'], {
      stdio: 'ignore',
    });
    return true;
  } catch {
    return false;
  }
}

/** epoll_pwait + epoll_wait calls of one thread over `seconds` (perf stat), or undefined */
function countEpoll(tid: number, seconds: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const perf = spawn(
      'perf',
      [
        'stat',
        '-x,',
        '-e',
        'syscalls:sys_enter_epoll_pwait,syscalls:sys_enter_epoll_wait',
        '-t',
        String(tid),
        '--',
        'sleep',
        String(seconds),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let text = '';
    perf.stderr.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    perf.once('error', () => resolve(undefined));
    perf.once('close', () => {
      // '<not counted>': the thread never ran in the window, so it made no call
      const counts = text
        .split('\n')
        .filter((line) => line.includes('sys_enter_epoll'))
        .map((line) => (line.startsWith('<not counted>') ? 0 : Number(line.split(',')[0])));
      resolve(
        counts.length > 0 && counts.every(Number.isFinite) ? counts.reduce((a, b) => a + b, 0) : undefined,
      );
    });
  });
}

async function probesRun(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n'))
    if (line.startsWith('s7supervisor_check_duration_seconds_count')) total += Number(line.split(' ').at(-1));
  return total;
}

export async function benchIdle(
  options: { seconds?: number; rounds?: number; counts?: number[] } = {},
): Promise<{ figures: IdleFigures[]; missing: Baseline[]; perf: boolean }> {
  const seconds = options.seconds ?? 60;
  const rounds = options.rounds ?? 3;
  const counts = options.counts ?? [3, 100];
  const installed = installedBaselines();
  const missing = (['tini', 's6', 'runit', 'supervisord'] as Baseline[]).filter(
    (b) => !installed.includes(b),
  );
  const perf = perfWorks();
  const samples = new Map<
    string,
    Array<
      IdleFigures['rounds'][number] & { epoll?: number; scraped?: number; probes?: number; node?: number }
    >
  >();
  const keyOf = (s: Subject) => `${s.name}|${s.components}`;
  const order: string[] = [];
  for (let round_ = 0; round_ < rounds; round_++) {
    const subjects: Subject[] = [];
    let scrapers: NodeJS.Timeout[] = [];
    try {
      for (const count of counts) subjects.push(await startOurs(count), await startOurs(count, SCRAPE_EVERY));
      subjects.push(await startDemo());
      for (const name of installed) {
        if (name === 'tini') subjects.push(baselineSubject('tini', 1));
        else for (const count of counts) subjects.push(baselineSubject(name, count));
      }
      // everyone up (the baselines start their services at once or within a second), then quiet
      scrapers = subjects
        .filter((s) => s.scrapeEvery && s.port)
        .map((s) => {
          const scrape = () =>
            fetch(`http://127.0.0.1:${s.port}/metrics`).then(
              (r) => r.text(),
              () => '',
            );
          void scrape();
          return setInterval(scrape, s.scrapeEvery! * 1000);
        });
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      const probesBefore = new Map<Subject, number>();
      for (const s of subjects)
        if (s.name.includes('demo') && s.port) probesBefore.set(s, await probesRun(s.port));
      const pids = subjects.map((s) => s.pids());
      const before: ProcSample[] = pids.map((p) => sampleProcesses(p));
      const epoll = subjects.map((s) =>
        perf && s.cli ? countEpoll(s.cli.pid, seconds) : Promise.resolve(undefined),
      );
      const t0 = performance.now();
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      const after: ProcSample[] = pids.map((p) => sampleProcesses(p));
      const wall = (performance.now() - t0) / 1000;
      const epollCounts = await Promise.all(epoll);
      for (const timer of scrapers) clearInterval(timer);
      scrapers = [];
      for (const [i, s] of subjects.entries()) {
        const key = keyOf(s);
        if (!order.includes(key)) order.push(key);
        const sample: IdleFigures['rounds'][number] & {
          epoll?: number;
          scraped?: number;
          probes?: number;
          node?: number;
        } = {
          cpuPercentOfOneCore: ((after[i]!.cpuSeconds - before[i]!.cpuSeconds) / wall) * 100,
          wakeupsPerSecond: (after[i]!.wakeups - before[i]!.wakeups) / wall,
          rssMB: after[i]!.rssBytes / 2 ** 20,
        };
        if (epollCounts[i] !== undefined) sample.epoll = epollCounts[i]! / seconds;
        if (s.cli) sample.node = sampleProcesses([s.cli.pid]).rssBytes / 2 ** 20;
        if (probesBefore.has(s) && s.port)
          sample.probes = ((await probesRun(s.port)) - probesBefore.get(s)!) / wall;
        if (s.cli && s.port && !s.scrapeEvery) {
          // as a scraped supervisor is: one scrape, then its resident memory
          await fetch(`http://127.0.0.1:${s.port}/metrics`).then((r) => r.text());
          sample.scraped = sampleProcesses(pids[i]!).rssBytes / 2 ** 20;
        }
        samples.set(key, [...(samples.get(key) ?? []), sample]);
      }
    } finally {
      for (const timer of scrapers) clearInterval(timer);
      await Promise.all(subjects.map((s) => s.stop().catch(() => undefined)));
      killAllStarted();
    }
  }
  const figures: IdleFigures[] = order.map((key) => {
    const [name, components] = key.split('|') as [string, string];
    const list = samples.get(key) ?? [];
    const pick = (f: (x: (typeof list)[number]) => number | undefined) => {
      const values = list.map(f).filter((v): v is number => v !== undefined);
      return values.length > 0 ? median(values) : undefined;
    };
    const figure: IdleFigures = {
      name,
      components: Number(components),
      cpuPercentOfOneCore: round(pick((x) => x.cpuPercentOfOneCore)!, 3),
      wakeupsPerSecond: round(pick((x) => x.wakeupsPerSecond)!, 2),
      rssMB: round(pick((x) => x.rssMB)!, 1),
      rounds: list.map((x) => ({
        cpuPercentOfOneCore: round(x.cpuPercentOfOneCore, 3),
        wakeupsPerSecond: round(x.wakeupsPerSecond, 2),
        rssMB: round(x.rssMB, 1),
      })),
    };
    const epollPerSecond = pick((x) => x.epoll);
    if (epollPerSecond !== undefined) figure.epollPerSecond = round(epollPerSecond, 2);
    const node = pick((x) => x.node);
    if (node !== undefined) figure.nodeRssMB = round(node, 1);
    const scraped = pick((x) => x.scraped);
    if (scraped !== undefined) figure.rssAfterScrapeMB = round(scraped, 1);
    const probes = pick((x) => x.probes);
    if (probes !== undefined) figure.probesPerSecond = round(probes, 2);
    return figure;
  });
  return { figures, missing, perf };
}

export function formatIdle(result: Awaited<ReturnType<typeof benchIdle>>, seconds: number): string {
  const rows = [
    [
      'supervisor',
      'children',
      'CPU % of a core',
      'wake-ups/s',
      'epoll calls/s',
      'RSS MB',
      'RSS after a scrape',
      'rounds (CPU %, wake-ups/s, RSS)',
    ],
    ...result.figures.map((f) => [
      f.name,
      String(f.components),
      f.cpuPercentOfOneCore.toFixed(3),
      f.wakeupsPerSecond.toFixed(2) +
        (f.probesPerSecond !== undefined ? ` (${f.probesPerSecond} probes/s)` : ''),
      f.epollPerSecond !== undefined ? f.epollPerSecond.toFixed(2) : '-',
      f.rssMB.toFixed(1) + (f.nodeRssMB !== undefined ? ` (node ${f.nodeRssMB.toFixed(1)})` : ''),
      f.rssAfterScrapeMB !== undefined ? f.rssAfterScrapeMB.toFixed(1) : '-',
      f.rounds
        .map(
          (r) => `${r.cpuPercentOfOneCore.toFixed(3)}/${r.wakeupsPerSecond.toFixed(2)}/${r.rssMB.toFixed(1)}`,
        )
        .join('  '),
    ]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const table = rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ')).join('\n');
  const notes = [
    `idle over ${seconds} s, all at once, median of the rounds; wake-ups = voluntary context switches of the main thread(s)`,
    result.perf ? '' : '(perf does not work here: no epoll counts)',
    result.missing.length > 0
      ? `not installed (scripts/install-bench-deps.sh): ${result.missing.join(', ')}`
      : '',
  ].filter(Boolean);
  return [...notes, table].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const seconds = Number(process.env.BENCH_IDLE_SECONDS ?? 60);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  benchIdle({ seconds, rounds }).then(
    (result) => {
      console.log(formatIdle(result, seconds));
      if (process.env.BENCH_JSON) console.log(JSON.stringify(result, null, 2));
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
