// Benchmark of the orphan reaper (issue 4): how long until 2,000 and 10,000 orphans that exit at
// once are all reaped, with `s7supervisor run -- CMD` as PID 1 of a new PID namespace (and as a
// subreaper below a PID 1 that does not reap), beside tini as PID 1 under the same load, in the
// same run. Not a test: it prints figures for the README. Run alone: node dist/bench/reaper.js
//
// Measured the same way for every reaper: the orphan-storm fixture forks N children that block on
// a pipe, kills their parent (t0: they all exit at once, orphans), and polls each through a pidfd
// until the kernel has forgotten it, that is until it has been reaped (t1). t1 - t0 is the figure.
// The storm stays alive throughout, so tini (which exits with its child) keeps running.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  killAllNamespaces,
  orphanStormPath,
  reaperHost,
  startInNamespace,
} from '../test/helpers/namespace.js';
import { cliPath } from '../test/helpers/paths.js';

type Reaper = 'tini' | 's7supervisor (PID 1)' | 's7supervisor (subreaper)';
const reapers: Reaper[] = ['tini', 's7supervisor (PID 1)', 's7supervisor (subreaper)'];

export interface ReaperFigures {
  orphans: number;
  reaper: Reaper;
  /** ms from the orphans' exit to the last reap, per round */
  rounds: number[];
  medianMs: number;
  /** median / tini's median for the same number of orphans */
  ratioToTini: number;
}

function command(reaper: Reaper, storm: string[]): string[] {
  switch (reaper) {
    case 'tini':
      return ['tini', '--', ...storm];
    case 's7supervisor (PID 1)':
      return supervisor(storm);
    case 's7supervisor (subreaper)':
      // PID 1 is a Node process without a reaper: the orphans reach the supervisor only because
      // it made itself a child subreaper.
      return reaperHost(['--no-reaper'], supervisor(storm));
  }
}

/** the real program in tini mode, endpoints off */
function supervisor(storm: string[]): string[] {
  return [process.execPath, cliPath, 'run', '--port', '0', '--', ...storm];
}

async function once(reaper: Reaper, orphans: number, storm: string): Promise<number> {
  const run = startInNamespace(command(reaper, [storm, String(orphans), '60000']));
  try {
    const ready = await run.waitForRecord((r) => r.storm === 'ready' || r.storm === 'error', 120_000);
    if (ready.storm === 'error') throw new Error(`the storm could not fork: ${JSON.stringify(ready)}`);
    run.send('go');
    const done = await run.waitForRecord((r) => r.storm === 'done', 120_000);
    if (done.remaining !== 0) throw new Error(`${reaper} left orphans unreaped: ${JSON.stringify(done)}`);
    run.send('quit');
    await run.exited;
    return Number(done.ms);
  } finally {
    run.kill();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export async function benchReaper(
  options: { sizes?: number[]; rounds?: number } = {},
): Promise<{ tiniVersion: string; figures: ReaperFigures[] }> {
  const sizes = options.sizes ?? [2000, 10000];
  const rounds = options.rounds ?? 3;
  const tiniVersion = execFileSync('tini', ['--version'], { encoding: 'utf8' }).trim();
  const storm = orphanStormPath();
  const samples = new Map<string, number[]>();
  try {
    // Rounds interleave the reapers, so that a noisy moment on the machine hits them alike.
    for (let round = 0; round < rounds; round++) {
      for (const orphans of sizes) {
        for (const reaper of reapers) {
          const key = `${orphans}:${reaper}`;
          samples.set(key, [...(samples.get(key) ?? []), await once(reaper, orphans, storm)]);
        }
      }
    }
  } finally {
    killAllNamespaces();
  }
  const figures: ReaperFigures[] = [];
  for (const orphans of sizes) {
    const tini = median(samples.get(`${orphans}:tini`) ?? []);
    for (const reaper of reapers) {
      const values = samples.get(`${orphans}:${reaper}`) ?? [];
      const med = median(values);
      figures.push({
        orphans,
        reaper,
        rounds: values.map((v) => round(v)),
        medianMs: round(med),
        ratioToTini: round(med / tini, 2),
      });
    }
  }
  return { tiniVersion, figures };
}

export function formatReaperTable(figures: ReaperFigures[]): string {
  const rows = [
    ['orphans', 'reaper', 'median ms', 'x tini', 'rounds (ms)'],
    ...figures.map((f) => [
      String(f.orphans),
      f.reaper,
      f.medianMs.toFixed(1),
      f.ratioToTini.toFixed(2),
      f.rounds.map((v) => v.toFixed(1)).join(', '),
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ')).join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  benchReaper({ rounds }).then(
    (result) => {
      console.log(`time until N orphans that exit at once are all reaped (${result.tiniVersion})\n`);
      console.log(formatReaperTable(result.figures));
      console.log(`\n${JSON.stringify(result, null, 2)}`);
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
