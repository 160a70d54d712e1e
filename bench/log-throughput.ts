// Log throughput (issue 3): how fast a component's output gets through `s7supervisor run`, in `json`
// and `raw` mode, beside the component writing straight to a file (the floor). The clock starts when
// the component writes its first byte and stops when its last line reaches the reader of the
// supervisor's stdout. Beside them, issue 15's floor: tini passing the component's output through
// (the child writes straight to the pipe the reader reads). The reader is a small C program on a
// pipe, fresh for every round (bench/fixtures/timed-reader.c says why). Rounds interleave the
// modes, so a noisy moment of this shared machine hits them alike. Not a test: it prints figures
// for the README.
// Run alone: node dist/bench/log-throughput.js [lines] [line-size] [runs]
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cliPath, makeTempDir, repoRoot } from '../test/helpers/paths.js';
import { killGroup } from '../test/helpers/processes.js';
import { writeRegistry } from '../test/helpers/registry.js';
import { compileFixture } from './compile.js';

const fixtures = join(repoRoot, 'dist/test/fixtures');
const generator = join(fixtures, 'numbered-lines.js');
// a round lasts well under a second; a stuck one is stopped after this
const READER_TIMEOUT_S = 60;

export type ThroughputMode = 'json' | 'raw' | 'file (floor)' | 'tini';

export interface ThroughputResult {
  mode: ThroughputMode;
  lines: number;
  lineSize: number;
  /** median over the runs */
  seconds: number;
  mbPerSecond: number;
  linesPerSecond: number;
  /** worst run: lines missing, duplicated or out of order */
  linesLost: number;
  /** seconds of each run, sorted */
  rounds: number[];
}

export interface ThroughputOptions {
  lines?: number;
  lineSize?: number;
  runs?: number;
}

export async function benchLogThroughput(options: ThroughputOptions = {}): Promise<ThroughputResult[]> {
  const lines = options.lines ?? 500_000;
  const lineSize = options.lineSize ?? 100;
  const runs = options.runs ?? 3;
  const modes: ThroughputMode[] = ['file (floor)', 'tini', 'raw', 'json'];
  const seconds = new Map<ThroughputMode, number[]>();
  const lost = new Map<ThroughputMode, number>();
  const reader = compileFixture('timed-reader');
  for (let run = 0; run < runs; run++) {
    for (const mode of modes) {
      const dir = makeTempDir('s7sup-bench-log-');
      const once = await (mode === 'file (floor)'
        ? toFile(dir, lines, lineSize)
        : throughHost(dir, mode, lines, lineSize, reader)
      ).finally(() => rmSync(dir, { recursive: true, force: true }));
      seconds.set(mode, [...(seconds.get(mode) ?? []), once.seconds]);
      lost.set(mode, Math.max(lost.get(mode) ?? 0, once.linesLost));
    }
  }
  return modes.map((mode) => {
    const sorted = [...(seconds.get(mode) ?? [])].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    return {
      mode,
      lines,
      lineSize,
      seconds: median,
      mbPerSecond: (lines * lineSize) / 1e6 / median,
      linesPerSecond: lines / median,
      linesLost: lost.get(mode) ?? 0,
      rounds: sorted,
    };
  });
}

interface Once {
  seconds: number;
  linesLost: number;
}

async function toFile(dir: string, lines: number, lineSize: number): Promise<Once> {
  const startFile = join(dir, 'start');
  const endFile = join(dir, 'end');
  const outFile = join(dir, 'out');
  const fd = openSync(outFile, 'w');
  const child = spawn(
    process.execPath,
    [
      generator,
      '--count',
      String(lines),
      '--size',
      String(lineSize),
      '--start-file',
      startFile,
      '--end-file',
      endFile,
    ],
    { stdio: ['ignore', fd, 'inherit'] },
  );
  closeSync(fd);
  await new Promise((resolve) => child.once('exit', resolve));
  const start = Number(readFileSync(startFile, 'utf8'));
  const end = Number(readFileSync(endFile, 'utf8'));
  const received = readFileSync(outFile, 'latin1').split('\n');
  return { seconds: (end - start) / 1000, linesLost: countLost(received, lines) };
}

async function throughHost(
  dir: string,
  mode: 'json' | 'raw' | 'tini',
  lines: number,
  lineSize: number,
  reader: string,
): Promise<Once> {
  const startFile = join(dir, 'start');
  const generatorArgs = [
    generator,
    '--count',
    String(lines),
    '--size',
    String(lineSize),
    '--start-file',
    startFile,
  ];
  // the real program: a registry with the generator as its one component
  const home = writeRegistry([
    {
      id: 'gen',
      command: process.execPath,
      args: generatorArgs,
      extra: `<restart policy="never"/><output>${mode === 'json' ? 'json' : 'raw'}</output>`,
    },
  ]);
  const command =
    mode === 'tini'
      ? ['tini', '-s', '--', process.execPath, ...generatorArgs]
      : [process.execPath, cliPath, 'run', '--home', home, '--port', '0', '--log-level', 'warn'];
  // the reader (bench/fixtures/timed-reader.c) runs the command on a pipe, keeps what it reads in
  // a file, and stops the command once the last line came
  const outFile = join(dir, 'out');
  const arrivedFile = join(dir, 'arrived');
  const marker = `line ${String(lines).padStart(7, '0')}`;
  const child = spawn(reader, [outFile, marker, arrivedFile, String(READER_TIMEOUT_S), ...command], {
    stdio: ['ignore', 'ignore', 'inherit'],
    detached: true,
  });
  const code = await new Promise<number | null>((resolve) => {
    // bounded: the reader stops the command itself after READER_TIMEOUT_S, and twice that later
    // it is killed with everything it started
    const deadline = setTimeout(() => child.pid && killGroup(child.pid), 3 * READER_TIMEOUT_S * 1000);
    child.once('exit', (exitCode) => {
      clearTimeout(deadline);
      resolve(exitCode);
    });
  });
  rmSync(home, { recursive: true, force: true });
  if (code !== 0)
    throw new Error(`log throughput, ${mode}: the last line never reached the reader (exit ${code})`);
  const start = Number(readFileSync(startFile, 'utf8'));
  const lastLineAt = Number(readFileSync(arrivedFile, 'utf8'));
  const text = readFileSync(outFile, 'utf8').split('\n');
  const received =
    mode !== 'json'
      ? text.filter((line) => line.startsWith('line '))
      : text
          .filter((line) => line.includes('"component"'))
          .map((line) => String((JSON.parse(line) as { msg: unknown }).msg));
  return { seconds: (lastLineAt - start) / 1000, linesLost: countLost(received, lines) };
}

/** lines not received exactly once and in order */
function countLost(received: string[], expected: number): number {
  let next = 1;
  let good = 0;
  for (const line of received) {
    if (!line.startsWith('line ')) continue;
    if (Number(line.slice(5, 12)) === next) {
      good++;
      next++;
    }
  }
  return expected - good;
}

export function formatThroughput(results: ThroughputResult[]): string {
  const rows = results.map(
    (r) =>
      `${r.mode.padEnd(13)} ${r.seconds.toFixed(3).padStart(7)} s ${r.mbPerSecond.toFixed(0).padStart(6)} MB/s ${Math.round(
        r.linesPerSecond,
      )
        .toLocaleString('en-US')
        .padStart(
          11,
        )} lines/s   lost ${r.linesLost}   runs ${r.rounds.map((v) => v.toFixed(3)).join(', ')} s`,
  );
  const { lines, lineSize } = results[0] ?? { lines: 0, lineSize: 0 };
  return [
    `log throughput: ${lines.toLocaleString('en-US')} numbered ${lineSize}-byte lines (median)`,
    ...rows,
  ].join('\n');
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  const [lines, lineSize, runs] = process.argv.slice(2).map(Number);
  const results = await benchLogThroughput({
    ...(lines ? { lines } : {}),
    ...(lineSize ? { lineSize } : {}),
    ...(runs ? { runs } : {}),
  });
  console.log(formatThroughput(results));
}
