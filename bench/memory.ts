// What the idle supervisor's resident memory is made of (issue 15):
// - each module's cost once loaded: RSS deltas of import() one by one, in the order `run` needs
//   them, in a fresh Node (after a full GC each time), and each alone in a fresh Node;
// - the same `run` (3 sleeping components, HTTP on) as tsc's separate modules, as the bundle
//   (what is installed), and the bundle under V8 flags that could shrink an idle heap,
//   all at once, BENCH_ROUNDS (3) rounds, medians.
// Run alone: node dist/bench/memory.js
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cliPath, makeTempDir, repoRoot } from '../test/helpers/paths.js';
import { type TestServer, writeRegistry } from '../test/helpers/registry.js';
import { freePort } from '../test/helpers/stack.js';
import { waitFor } from '../test/helpers/wait.js';
import { killTree, median, round, sampleProcesses } from './baselines.js';

/** imported one after the other by the probe, in the order `run` loads them */
const RUN_ORDER = [
  'node:http',
  'pino',
  'fast-xml-parser',
  'prom-client',
  `${repoRoot}/dist/src/cli/run.js`,
  'express',
];
/** each alone: what a dependency costs by itself (yaml: convert only; express: first non-probe request) */
const ALONE = ['node:http', 'pino', 'fast-xml-parser', 'prom-client', 'yaml', 'express'];

const probeScript = `
import { readFileSync } from 'node:fs';
const kb = (key) => Number(new RegExp(key + ':\\\\s+(\\\\d+)').exec(readFileSync('/proc/self/status', 'utf8'))[1]);
const settle = async () => { for (let i = 0; i < 3; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 50)); } };
await settle();
let before = { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') };
const out = [{ module: '(node alone)', ...before }];
for (const name of process.argv.slice(2)) {
  await import(name.startsWith('/') ? 'file://' + name : name);
  await settle();
  const now = { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') };
  out.push({ module: name, rss: now.rss - before.rss, anon: now.anon - before.anon, file: now.file - before.file });
  before = now;
}
console.log(JSON.stringify(out));
`;

export interface ModuleCost {
  module: string;
  /** KiB */
  rss: number;
  anon: number;
  file: number;
}

function probe(modules: string[]): ModuleCost[] {
  const file = join(repoRoot, 'dist/bench/module-probe.mjs');
  writeFileSync(file, probeScript);
  return JSON.parse(
    execFileSync(process.execPath, ['--expose-gc', file, ...modules], { cwd: repoRoot, encoding: 'utf8' }),
  ) as ModuleCost[];
}

export function moduleCosts(): { inOrder: ModuleCost[]; alone: ModuleCost[] } {
  const inOrder = probe(RUN_ORDER).map((c) => ({ ...c, module: c.module.replace(`${repoRoot}/`, '') }));
  const alone = ALONE.map((name) => probe([name])[1]!);
  return { inOrder, alone };
}

interface Variant {
  name: string;
  argv: (home: string) => string[];
}

/** tsc's modules, run the way main.ts runs `run` (what is installed is the bundle: scripts/bundle.mjs) */
function unbundledEntry(): string {
  const file = join(makeTempDir('s7sup-bench-unbundled-'), 'main.mjs');
  writeFileSync(
    file,
    `import { holdEarlySignals } from ${JSON.stringify(pathToFileURL(join(repoRoot, 'dist/src/cli/early-signals.js')).href)};
holdEarlySignals();
const { runCommand } = await import(${JSON.stringify(pathToFileURL(join(repoRoot, 'dist/src/cli/run.js')).href)});
runCommand(process.argv.slice(3)).then((code) => process.exit(code));
`,
  );
  return file;
}

export async function runVariants(
  rounds = 3,
): Promise<Array<{ name: string; rssMB: number; rounds: number[] }>> {
  const unbundled = unbundledEntry();
  const variants: Variant[] = [
    {
      name: "tsc's separate modules (before)",
      argv: (home) => [process.execPath, unbundled, 'run', '--home', home],
    },
    {
      name: 'bundle (installed: main.cjs)',
      argv: (home) => [process.execPath, cliPath, 'run', '--home', home],
    },
    {
      // the bin of earlier versions, an ES module: Node's ES module loader and its thread pool
      name: 'bundle through main.js (an ES module entry)',
      argv: (home) => [process.execPath, join(dirname(cliPath), 'main.js'), 'run', '--home', home],
    },
    {
      name: 'bundle, --max-semi-space-size=1',
      argv: (home) => [process.execPath, '--max-semi-space-size=1', cliPath, 'run', '--home', home],
    },
    {
      name: 'bundle, --max-old-space-size=16',
      argv: (home) => [process.execPath, '--max-old-space-size=16', cliPath, 'run', '--home', home],
    },
    {
      name: 'bundle, --lite-mode (no optimizing compiler)',
      argv: (home) => [process.execPath, '--lite-mode', cliPath, 'run', '--home', home],
    },
  ];
  const samples = new Map<string, number[]>();
  for (let r = 0; r < rounds; r++) {
    const running = await Promise.all(
      variants.map(async (variant) => {
        const servers: TestServer[] = Array.from({ length: 3 }, (_, i) => ({
          id: `c${i}`,
          command: 'sleep',
          args: ['100000'],
          stopTimeout: 2,
        }));
        const port = await freePort();
        const home = writeRegistry(servers, `<tcpport>${port}</tcpport><host>127.0.0.1</host>`);
        const argv = variant.argv(home);
        const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: 'ignore' });
        return { variant, child, port };
      }),
    );
    try {
      const up = new Set<Variant>();
      for (const { variant, port } of running)
        await waitFor(
          async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200,
          { timeout: 60_000, interval: 200, message: `${variant.name} ready` },
        ).then(
          () => up.add(variant),
          (error: unknown) => console.error(`memory: ${(error as Error).message}`),
        );
      await new Promise((resolve) => setTimeout(resolve, 10_000));
      for (const { variant, child } of running)
        if (up.has(variant))
          samples.set(variant.name, [
            ...(samples.get(variant.name) ?? []),
            sampleProcesses([child.pid!]).rssBytes / 2 ** 20,
          ]);
    } finally {
      for (const { child } of running) {
        child.kill('SIGTERM');
        await new Promise((resolve) => setTimeout(resolve, 300));
        killTree(child.pid!);
      }
    }
  }
  return variants.map((v) => ({
    name: v.name,
    rssMB: round(median(samples.get(v.name) ?? []), 1),
    rounds: (samples.get(v.name) ?? []).map((x) => round(x, 1)),
  }));
}

export function formatMemory(
  costs: ReturnType<typeof moduleCosts>,
  variants: Awaited<ReturnType<typeof runVariants>>,
): string {
  const mb = (kb: number) => (kb / 1024).toFixed(1).padStart(6);
  return [
    'module costs, imported one by one in the order run loads them (MB: RSS = anonymous + file-backed):',
    ...costs.inOrder.map(
      (c) => `  ${c.module.padEnd(28)} RSS ${mb(c.rss)}  anon ${mb(c.anon)}  file ${mb(c.file)}`,
    ),
    'each alone in a fresh Node:',
    ...costs.alone.map(
      (c) => `  ${c.module.padEnd(28)} RSS ${mb(c.rss)}  anon ${mb(c.anon)}  file ${mb(c.file)}`,
    ),
    '`run` with 3 sleeping components, HTTP on, 10 s after ready (median; rounds):',
    ...variants.map(
      (v) => `  ${v.name.padEnd(46)} ${v.rssMB.toFixed(1).padStart(6)} MB   ${v.rounds.join(', ')}`,
    ),
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const costs = moduleCosts();
  runVariants(Number(process.env.BENCH_ROUNDS ?? 3)).then(
    (variants) => console.log(formatMemory(costs, variants)),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
