// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} in plain strings is the registry syntax measured
// Benchmarks of the registry parser (issue 2): a real registry, a large one, and hostile input
// at the size limit (the parser must stay bounded in time and memory). Not a test: it prints
// figures for the README. Run alone: node dist/bench/registry.js
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RegistryError } from '../src/registry/errors.js';
import { parseRegistry } from '../src/registry/load.js';
import { repoRoot } from '../test/helpers/paths.js';

const LIMIT = 1024 * 1024 - 64;

function timeParse(text: string, runs: number): { medianMs: number; outcome: string } {
  const times: number[] = [];
  let outcome = '';
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    try {
      const registry = parseRegistry(text, 'bench.xml', '/srv/s7', {});
      outcome = `${registry.servers.length} servers`;
    } catch (error) {
      if (!(error instanceof RegistryError)) throw error;
      outcome = `refused, ${error.problems.length} problem lines`;
    }
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { medianMs: times[Math.floor(times.length / 2)] ?? Number.NaN, outcome };
}

const original = readFileSync(join(repoRoot, 'test/fixtures/original/SupervisorRegistry.xml'), 'utf8');
const hundred = `<supervisor><servers>${Array.from(
  { length: 100 },
  (_, i) => `<server id="s${i}"><command>bin/s${i}</command><arguments><argument>-n</argument></arguments>
  <startPriority>${i % 5}</startPriority><readiness type="tcp" port="${20000 + i}"/></server>`,
).join('\n')}</servers></supervisor>`;
const bomb = `<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">${Array.from({ length: 30 }, (_, i) => `<!ENTITY e${i + 1} "${`&${i === 0 ? 'a' : `e${i}`};`.repeat(10)}">`).join('')}]><supervisor>&e30;</supervisor>`;
const pad = (open: string, unit: string, close: string) =>
  open + unit.repeat(Math.floor((LIMIT - open.length - close.length) / unit.length)) + close;

const cases: Array<[string, string, number]> = [
  ['original sample (3 servers, 4 profiles)', original, 200],
  ['100 servers', hundred, 50],
  ['entity bomb (refused at the DOCTYPE)', bomb, 200],
  ['1 MiB: nested elements', `${'<a>'.repeat(LIMIT / 7)}${'</a>'.repeat(LIMIT / 7)}`, 5],
  ['1 MiB: 250k unknown elements', pad('<supervisor>', '<x/>', '</supervisor>'), 5],
  [
    '1 MiB: 250k unset ${VAR}s',
    pad(
      '<supervisor><servers><server id="a"><command>',
      '${X}',
      '</command></server></servers></supervisor>',
    ),
    5,
  ],
  [
    '1 MiB: 200k entity references',
    pad(
      '<supervisor><servers><server id="a"><command>',
      '&amp;',
      '</command></server></servers></supervisor>',
    ),
    5,
  ],
];

console.log('registry parse (median)');
for (const [name, text, runs] of cases) {
  const { medianMs, outcome } = timeParse(text, runs);
  console.log(
    `  ${name.padEnd(42)} ${(text.length / 1024).toFixed(0).padStart(5)} KiB  ${medianMs.toFixed(2).padStart(8)} ms  ${outcome}`,
  );
}
console.log(`  peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
