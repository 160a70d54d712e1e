// Start-up (issue 15): from the exec of the supervisor to the first instruction of its first
// component, for s7supervisor (as installed: through its shebang, default configuration with the
// HTTP endpoints on) beside tini, s6, runit and supervisord, BENCH_STARTUP_ROUNDS (5) rounds
// interleaved, medians. The clock: `lifetime exec T0 SUPERVISOR...` writes the time and execs the
// supervisor; the component `lifetime stamp T1` writes the time first thing. (s6 and runit start a
// service through its run script: one /bin/sh exec more, about a millisecond.) Beside them, the
// floor of anything written for Node: \`node -e\` from its exec to the first line of the script.
// Run alone: node dist/bench/startup.js
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTempDir } from '../test/helpers/paths.js';
import { killAllStarted, runCli } from '../test/helpers/processes.js';
import { writeRegistry } from '../test/helpers/registry.js';
import { freePort } from '../test/helpers/stack.js';
import { waitFor } from '../test/helpers/wait.js';
import { type Baseline, installedBaselines, median, round, startBaseline } from './baselines.js';
import { compileFixture } from './compile.js';

export interface StartupFigures {
  name: string;
  /** exec to the component's first instruction, ms, per round */
  rounds: number[];
  medianMs: number;
}

function stampAt(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8').trim();
  return text ? Number(text) : undefined;
}

type Subject =
  | 's7supervisor'
  | 's7supervisor as PID 1'
  | Baseline
  | 'node'
  | typeof WITHOUT_CA_OURS
  | typeof WITHOUT_CA_NODE;
/** Node's own start, to the first line of a script: the floor of any supervisor written for Node */
const NODE_FLOOR = 'node';
/**
 * NODE_EXTRA_CA_CERTS makes every Node read and parse that bundle of certificates at start, before
 * the first line of any script (~40 ms and 2 MB for the 144 certificates of this machine's
 * variable): where it is set, s7supervisor and the floor are also measured without it, as in a
 * container, which does not have it.
 */
const WITHOUT_CA_OURS = 's7supervisor, no NODE_EXTRA_CA_CERTS';
const WITHOUT_CA_NODE = 'node -e, no NODE_EXTRA_CA_CERTS';
const withoutExtraCa = (): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
};

async function once(name: Subject, binary: string): Promise<number> {
  const dir = makeTempDir('s7sup-bench-startup-');
  const t0File = join(dir, 't0');
  const t1File = join(dir, 't1');
  const component = [binary, 'stamp', t1File];
  const prefix = [binary, 'exec', t0File];
  let stop: () => Promise<void>;
  if (name === NODE_FLOOR || name === WITHOUT_CA_NODE) {
    const script = `require('fs').writeFileSync(${JSON.stringify(t1File)}, String(Math.round((performance.timeOrigin + performance.now()) * 1e6)))`;
    const running = spawn(binary, ['exec', t0File, process.execPath, '-e', script], {
      stdio: 'ignore',
      ...(name === WITHOUT_CA_NODE ? { env: withoutExtraCa() } : {}),
    });
    stop = async () => {
      if (running.exitCode === null) await new Promise((resolve) => running.once('exit', resolve));
    };
  } else if (name === 's7supervisor' || name === 's7supervisor as PID 1' || name === WITHOUT_CA_OURS) {
    const port = await freePort();
    const home = writeRegistry(
      [{ id: 'first', command: binary, args: component.slice(1), stopTimeout: 2 }],
      `<tcpport>${port}</tcpport><host>127.0.0.1</host>`,
    );
    // as PID 1 of a new PID namespace, as in a container: no parent-death watchdog to start first
    const asPid1 = name === 's7supervisor as PID 1' ? ['unshare', '--pid', '--fork', '--kill-child'] : [];
    const cli = runCli(['run', '--home', home], {
      asInstalled: true,
      prefix: [...prefix, ...asPid1],
      // runCli adds to process.env: an empty value is how Node reads an unset one
      ...(name === WITHOUT_CA_OURS ? { env: { NODE_EXTRA_CA_CERTS: '' } } : {}),
    });
    stop = async () => {
      cli.child.kill('SIGTERM');
      await Promise.race([cli.exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      cli.kill();
    };
  } else {
    const running = startBaseline(name, 1, component, prefix);
    stop = () => running.stop();
  }
  try {
    await waitFor(() => stampAt(t0File) !== undefined && stampAt(t1File) !== undefined, {
      timeout: 30_000,
      interval: 5,
      message: `${name}: the first component started`,
    });
    return (stampAt(t1File)! - stampAt(t0File)!) / 1e6;
  } finally {
    await stop();
  }
}

export async function benchStartup(options: { rounds?: number } = {}): Promise<StartupFigures[]> {
  const rounds = options.rounds ?? 5;
  const binary = compileFixture('lifetime');
  const subjects: Subject[] = [
    's7supervisor',
    ...(process.getuid?.() === 0 ? (['s7supervisor as PID 1'] as const) : []),
    NODE_FLOOR,
    ...(process.env.NODE_EXTRA_CA_CERTS ? ([WITHOUT_CA_OURS, WITHOUT_CA_NODE] as const) : []),
    ...installedBaselines(),
  ];
  const samples = new Map<string, number[]>();
  try {
    for (let r = 0; r < rounds; r++)
      for (const name of subjects)
        samples.set(name, [...(samples.get(name) ?? []), await once(name, binary)]);
  } finally {
    killAllStarted();
  }
  return subjects.map((name) => {
    const values = samples.get(name) ?? [];
    return { name, rounds: values.map((v) => round(v, 1)), medianMs: round(median(values), 1) };
  });
}

export function formatStartup(figures: StartupFigures[]): string {
  return [
    'exec -> first component running (median; each round)',
    ...figures.map(
      (f) =>
        `${(f.name === NODE_FLOOR ? 'node -e (floor)' : f.name).padEnd(36)} ${f.medianMs.toFixed(1).padStart(8)} ms   ${f.rounds.map((v) => v.toFixed(1)).join(', ')}`,
    ),
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  benchStartup({ rounds: Number(process.env.BENCH_STARTUP_ROUNDS ?? 5) }).then(
    (figures) => console.log(formatStartup(figures)),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
