// Benchmark of the in-memory output buffers (issue 11): 100 components each printing 1,000 lines
// a second (100-byte lines, one write every 10 ms, from a small C program), the supervisor's RSS
// beside its idle figure and beside the same load with <logBuffer lines="0"/>, and how long
// `logs -n 1000` takes over the control socket meanwhile (the HTTP answer, and the CLI as a
// person runs it). Not a test: it prints figures for docs/logs-and-events.md.
// Run alone: node dist/bench/logs.js
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliPath } from '../test/helpers/paths.js';
import { killGroup } from '../test/helpers/processes.js';
import { type TestServer, writeRegistry } from '../test/helpers/registry.js';
import { waitFor } from '../test/helpers/wait.js';
import { compileFixture } from './compile.js';
import { percentile } from './supervisor.js';

const COMPONENTS = 100;
const RATE = 1000;
const LINE_BYTES = 100;

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function socketGet(socketPath: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ socketPath, path }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
      })
      .on('error', reject);
  });
}

interface Supervisor {
  child: ChildProcess;
  socket: string;
  home: string;
  stop(): Promise<void>;
}

/** `s7supervisor run` as installed, its stdout (every output record) to /dev/null */
async function start(servers: TestServer[], config: string): Promise<Supervisor> {
  const home = writeRegistry(servers, `<tracestatsinterval>0</tracestatsinterval>${config}`);
  const socket = join(home, 'temp/s7supervisor.sock');
  const devNull = openSync('/dev/null', 'w');
  const child = spawn(cliPath, ['run', '--home', home, '--port', '0', '--log-level', 'warn'], {
    detached: true,
    stdio: ['ignore', devNull, 'ignore'],
  });
  closeSync(devNull);
  const pids = async () => {
    const { body } = await socketGet(socket, '/api/v1/components');
    return (JSON.parse(body) as { components: Array<{ pid?: number; state: string }> }).components;
  };
  await waitFor(
    async () => {
      const list = await pids();
      return list.length === servers.length && list.every((c) => c.state === 'running');
    },
    { timeout: 60_000, interval: 200, message: 'every component running' },
  );
  const groups = (await pids()).flatMap((c) => (c.pid ? [c.pid] : []));
  return {
    child,
    socket,
    home,
    async stop() {
      child.kill('SIGTERM');
      await Promise.race([
        new Promise((resolve) => child.once('exit', resolve)),
        new Promise((resolve) => setTimeout(resolve, 20_000)),
      ]);
      for (const pgid of groups) killGroup(pgid);
      killGroup(child.pid!);
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * RSS sampled once a second for `seconds`: the median of the second half (steady, once the
 * heap has grown to the load) and the largest sample; and the CPU used meanwhile
 */
async function observe(pid: number, seconds: number, socket: string) {
  const cpu0 = cpuSeconds(pid);
  const samples: number[] = [];
  const outside: number[] = [];
  for (let i = 0; i < seconds; i++) {
    await sleep(1000);
    // the V8 heap's size follows the churn of the load and the collector's moods; what is
    // outside it (the buffers are) is steadier
    const { memory } = JSON.parse((await socketGet(socket, '/api/v1/debug/listeners')).body) as {
      memory: { rss: number; heapTotal: number };
    };
    samples.push(memory.rss / 2 ** 20);
    outside.push((memory.rss - memory.heapTotal) / 2 ** 20);
  }
  const steady = (values: number[]) => round(percentile(values.slice(Math.floor(values.length / 2)), 50));
  return {
    rssMB: steady(samples),
    outsideHeapMB: steady(outside),
    peakMB: round(Math.max(...samples)),
    cpuPercent: round(((cpuSeconds(pid) - cpu0) / seconds) * 100),
  };
}

async function timed(fn: () => Promise<unknown>, runs: number): Promise<{ p50: number; max: number }> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return { p50: round(percentile(times, 50)), max: round(Math.max(...times)) };
}

function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export async function benchLogs(seconds = 20) {
  const binary = compileFixture('printer');
  const printers: TestServer[] = Array.from({ length: COMPONENTS }, (_, i) => ({
    id: `c${i}`,
    command: binary,
    args: [String(RATE), String(LINE_BYTES)],
  }));
  const idlers: TestServer[] = printers.map((p) => ({ ...p, command: 'sleep', args: ['100000'] }));

  const idle = await start(idlers, '');
  let idleFigure: Awaited<ReturnType<typeof observe>>;
  try {
    await sleep(2000);
    idleFigure = await observe(idle.child.pid!, 6, idle.socket);
  } finally {
    await idle.stop();
  }

  const without = await start(printers, '<logBuffer lines="0"/>');
  let withoutFigure: Awaited<ReturnType<typeof observe>>;
  try {
    withoutFigure = await observe(without.child.pid!, seconds, without.socket);
  } finally {
    await without.stop();
  }

  const loaded = await start(printers, '');
  try {
    const loadFigure = await observe(loaded.child.pid!, seconds, loaded.socket);
    const buffered = JSON.parse((await socketGet(loaded.socket, '/api/v1/debug/listeners')).body) as {
      logs: { allocatedBytes: number };
    };
    // under the same load: one component's last 1,000 lines, and every component's
    const one = await timed(() => socketGet(loaded.socket, '/api/v1/logs?component=c7&tail=1000'), 20);
    const oneLines =
      (await socketGet(loaded.socket, '/api/v1/logs?component=c7&tail=1000')).body.split('\n').length - 1;
    const all = await timed(() => socketGet(loaded.socket, '/api/v1/logs?tail=1000'), 5);
    const allLines = (await socketGet(loaded.socket, '/api/v1/logs?tail=1000')).body.split('\n').length - 1;
    const devNull = openSync('/dev/null', 'w');
    const cli = await timed(
      () =>
        new Promise<void>((resolve, reject) => {
          const run = spawn(cliPath, ['logs', '-n', '1000', 'c7', '--socket', loaded.socket], {
            stdio: ['ignore', devNull, 'ignore'],
          });
          run.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`logs exited ${code}`))));
        }),
      10,
    );
    // the floor of any command: Node's start-up and loading the CLI
    const floor = await timed(
      () =>
        new Promise<void>((resolve) => {
          spawn(cliPath, ['version'], { stdio: 'ignore' }).once('exit', () => resolve());
        }),
      10,
    );
    closeSync(devNull);
    return {
      components: COMPONENTS,
      linesPerSecond: RATE,
      lineBytes: LINE_BYTES,
      seconds,
      idle: idleFigure,
      loadWithoutBuffers: withoutFigure,
      loadWithBuffers: loadFigure,
      buffersAllocatedMB: round(buffered.logs.allocatedBytes / 2 ** 20),
      logsOneComponent: { lines: oneLines, ...one },
      logsAllComponents: { lines: allLines, ...all },
      cliOneComponent: cli,
      cliFloor: floor,
    };
  } finally {
    await loaded.stop();
  }
}

export function formatLogsBench(r: Awaited<ReturnType<typeof benchLogs>>): string {
  const above = (mb: number) => `${round(mb - r.idle.rssMB)} MB above idle`;
  return [
    `${r.components} components, each ${r.linesPerSecond} lines/s of ${r.lineBytes} bytes (json output, stdout to /dev/null), ${r.seconds} s each:`,
    `  idle (the same 100 components asleep):  RSS ${r.idle.rssMB} MB`,
    `  load with <logBuffer lines="0"/>:       RSS ${r.loadWithoutBuffers.rssMB} MB steady, ${above(r.loadWithoutBuffers.rssMB)} (peak ${r.loadWithoutBuffers.peakMB}); CPU ${r.loadWithoutBuffers.cpuPercent}% of one core`,
    `  load with the default 1000 lines:      RSS ${r.loadWithBuffers.rssMB} MB steady, ${above(r.loadWithBuffers.rssMB)} (peak ${r.loadWithBuffers.peakMB}); CPU ${r.loadWithBuffers.cpuPercent}% of one core`,
    `  the buffers: ${r.buffersAllocatedMB} MB allocated; RSS with them minus without: ${round(r.loadWithBuffers.rssMB - r.loadWithoutBuffers.rssMB)} MB; outside the V8 heap: ${round(r.loadWithBuffers.outsideHeapMB - r.loadWithoutBuffers.outsideHeapMB)} MB (idle ${r.idle.outsideHeapMB}, without ${r.loadWithoutBuffers.outsideHeapMB}, with ${r.loadWithBuffers.outsideHeapMB} MB) (target: within 30 MB of idle)`,
    `  GET /api/v1/logs?component=c7&tail=1000 over the socket (${r.logsOneComponent.lines} lines): p50 ${r.logsOneComponent.p50} ms, max ${r.logsOneComponent.max} ms (target < 50 ms)`,
    `  GET /api/v1/logs?tail=1000, every component (${r.logsAllComponents.lines} lines): p50 ${r.logsAllComponents.p50} ms, max ${r.logsAllComponents.max} ms`,
    `  s7supervisor logs -n 1000 c7 > /dev/null, the whole command: p50 ${r.cliOneComponent.p50} ms, max ${r.cliOneComponent.max} ms (s7supervisor version, the floor of any command: p50 ${r.cliFloor.p50} ms)`,
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  benchLogs(Number(process.env.BENCH_SECONDS ?? 20)).then(
    (result) => console.log(formatLogsBench(result)),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
