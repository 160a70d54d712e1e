// A supervisor's garbage is short-lived: each chunk of a component's output, each probe, each
// scrape. Under a steady stream (100 components printing 1,000 lines a second) V8 grows its young
// generation from 1 to 16 MiB per semi-space because a little of that garbage survives each
// scavenge, and keeps it: ~14 MB of RSS that buys nothing here (#11's benchmark). The growth
// factor is read each time V8 considers growing, so setting it to 1 once we run keeps the young
// generation at its initial size; scavenges get more frequent and each stays as cheap.
//
// Set once the first components are spawned (run.ts), from JavaScript: node:v8 loads streams, heap
// snapshots and perf_hooks, which the start-up should not wait for. Not on Node's command line:
// there it is in effect from Node's first allocation, the young generation never grows past 1 MiB
// and more of the start-up's objects are promoted early; the restart soak then ended 41 MB above
// its start instead of 15-18 set from JavaScript (docs/performance.md, seventh pass). Given on the command line anyway,
// it is left as it is.
import { createRequire } from 'node:module';

export const YOUNG_GENERATION_FLAG = '--semi-space-growth-factor=1';

export function keepYoungGenerationSmall(): void {
  if (process.execArgv.includes(YOUNG_GENERATION_FLAG)) return;
  const v8 = createRequire(import.meta.url)('node:v8') as typeof import('node:v8');
  v8.setFlagsFromString(YOUNG_GENERATION_FLAG);
}
