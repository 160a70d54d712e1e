// The benchmarks' small C programs (bench/fixtures), compiled once per run into a temp folder.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { makeTempDir, repoRoot } from '../test/helpers/paths.js';

/** compiles bench/fixtures/NAME.c; returns the binary's path */
export function compileFixture(name: string): string {
  const out = join(makeTempDir('s7sup-bench-'), name);
  execFileSync('cc', ['-O2', '-o', out, join(repoRoot, `bench/fixtures/${name}.c`)]);
  return out;
}
