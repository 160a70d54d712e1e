// Benchmark of the HTTP endpoints (issue 5): /readyz and /metrics throughput and latency against
// a real `s7supervisor run` with 3 and with 100 real (sleeping) components, the supervisor's CPU
// cost per request, and its idle cost with the HTTP server on and Prometheus scraping every 5 s.
// Not a test: it prints figures for the README. Run alone: node dist/bench/http.js
// (BENCH_SECONDS=10 per load run, BENCH_COMPONENTS=3,100, BENCH_JSON=1 adds the raw figures)
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { killAllStarted, type RunningCli, runCli } from '../test/helpers/processes.js';
import { type TestServer, writeRegistry } from '../test/helpers/registry.js';
import { freePort } from '../test/helpers/stack.js';
import { waitFor } from '../test/helpers/wait.js';

export interface EndpointFigures {
  components: number;
  path: string;
  connections: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
  non2xx: number;
  /** the supervisor's CPU time per request, microseconds */
  cpuMicrosPerRequest: number;
  /** the supervisor's CPU use during the run, % of one core */
  cpuPercentOfOneCore: number;
}

export interface IdleFigures {
  components: number;
  seconds: number;
  scrapeEverySeconds: number;
  cpuPercentOfOneCore: number;
  rssMB: number;
}

export interface HttpBenchResult {
  endpoints: EndpointFigures[];
  idle: IdleFigures[];
}

/** CPU seconds (user + system) and resident memory of one process */
function processUsage(pid: number): { cpuSeconds: number; rssBytes: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const statm = readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ');
  return { cpuSeconds: (Number(fields[11]) + Number(fields[12])) / 100, rssBytes: Number(statm[1]) * 4096 };
}

function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

async function startSupervisor(components: number): Promise<{ cli: RunningCli; port: number }> {
  // sleeping processes: real process groups for the /proc part of /metrics, at no cost
  const servers: TestServer[] = Array.from({ length: components }, (_, i) => ({
    id: `c${String(i).padStart(3, '0')}`,
    command: 'sleep',
    args: ['100000'],
    stopTimeout: 2,
  }));
  const port = await freePort();
  const home = writeRegistry(
    servers,
    `<tcpport>${port}</tcpport><host>127.0.0.1</host><tracestatsinterval>0</tracestatsinterval>`,
  );
  const cli = runCli(['run', '--home', home, '--log-level', 'warn']);
  await waitFor(
    async () => {
      if (cli.exitCode() !== undefined) throw new Error(`run exited: ${cli.stderr.join('\n')}`);
      const response = await fetch(`http://127.0.0.1:${port}/readyz`);
      return response.status === 200;
    },
    { timeout: 60_000, interval: 100, message: `${components} components ready` },
  );
  return { cli, port };
}

async function stop(cli: RunningCli): Promise<void> {
  if (cli.exitCode() === undefined) {
    cli.child.kill('SIGTERM');
    await Promise.race([cli.exited, new Promise((resolve) => setTimeout(resolve, 20_000))]);
  }
  cli.kill();
}

async function load(
  cli: RunningCli,
  port: number,
  components: number,
  path: string,
  connections: number,
  seconds: number,
): Promise<EndpointFigures> {
  const url = `http://127.0.0.1:${port}${path}`;
  // warm up (JIT, first /proc pass) before measuring
  await autocannon({ url, connections, duration: 1 });
  const before = processUsage(cli.pid);
  const result = await autocannon({ url, connections, duration: seconds });
  const after = processUsage(cli.pid);
  const cpu = after.cpuSeconds - before.cpuSeconds;
  return {
    components,
    path,
    connections,
    requestsPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    cpuMicrosPerRequest: result.requests.total > 0 ? round((cpu / result.requests.total) * 1e6) : 0,
    cpuPercentOfOneCore: round((cpu / result.duration) * 100),
  };
}

/** the supervisor's own cost with nothing happening but a scrape of /metrics every few seconds */
async function idle(
  cli: RunningCli,
  port: number,
  components: number,
  seconds: number,
): Promise<IdleFigures> {
  const scrapeEverySeconds = 5;
  const before = processUsage(cli.pid);
  const t0 = Date.now();
  while (Date.now() - t0 < seconds * 1000) {
    await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    await new Promise((resolve) => setTimeout(resolve, scrapeEverySeconds * 1000));
  }
  const after = processUsage(cli.pid);
  const wall = (Date.now() - t0) / 1000;
  return {
    components,
    seconds: round(wall),
    scrapeEverySeconds,
    cpuPercentOfOneCore: round(((after.cpuSeconds - before.cpuSeconds) / wall) * 100, 2),
    rssMB: round(after.rssBytes / 2 ** 20),
  };
}

export async function benchHttp(
  options: { seconds?: number; idleSeconds?: number; components?: number[] } = {},
): Promise<HttpBenchResult> {
  const seconds = options.seconds ?? 10;
  const idleSeconds = options.idleSeconds ?? 30;
  const endpoints: EndpointFigures[] = [];
  const idleFigures: IdleFigures[] = [];
  try {
    for (const components of options.components ?? [3, 100]) {
      const { cli, port } = await startSupervisor(components);
      try {
        idleFigures.push(await idle(cli, port, components, idleSeconds));
        endpoints.push(await load(cli, port, components, '/readyz', 10, seconds));
        endpoints.push(await load(cli, port, components, '/livez', 10, seconds));
        // a scraper asks one at a time; several at once show the throughput
        endpoints.push(await load(cli, port, components, '/metrics', 1, seconds));
        endpoints.push(await load(cli, port, components, '/metrics', 4, seconds));
      } finally {
        await stop(cli);
      }
    }
  } finally {
    killAllStarted();
  }
  return { endpoints, idle: idleFigures };
}

export function formatHttpBench(result: HttpBenchResult): string {
  const rows = result.endpoints.map(
    (e) =>
      `${String(e.components).padStart(3)} components  ${e.path.padEnd(8)} c=${String(e.connections).padEnd(2)}` +
      `  ${String(e.requestsPerSecond).padStart(6)} req/s  p50 ${String(e.p50Ms).padStart(3)} ms` +
      `  p99 ${String(e.p99Ms).padStart(3)} ms  max ${String(e.maxMs).padStart(4)} ms` +
      `  supervisor CPU ${String(e.cpuMicrosPerRequest).padStart(6)} µs/req (${e.cpuPercentOfOneCore}% of a core)` +
      (e.errors + e.non2xx > 0 ? `  errors ${e.errors} non-2xx ${e.non2xx}` : ''),
  );
  const idleRows = result.idle.map(
    (i) =>
      `${String(i.components).padStart(3)} components  idle ${i.seconds}s, /metrics every ${i.scrapeEverySeconds}s:` +
      ` ${i.cpuPercentOfOneCore}% of one core, RSS ${i.rssMB} MB`,
  );
  return ['HTTP endpoints (autocannon, loopback, same machine):', ...rows, '', ...idleRows].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const seconds = Number(process.env.BENCH_SECONDS ?? 10);
  const components = process.env.BENCH_COMPONENTS?.split(',').map(Number);
  benchHttp({ seconds, ...(components ? { components } : {}) }).then(
    (result) => {
      console.log(formatHttpBench(result));
      if (process.env.BENCH_JSON) console.log(JSON.stringify(result, null, 2));
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
