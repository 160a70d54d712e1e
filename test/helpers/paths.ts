import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** the repository root (tests run compiled from dist/test/...) */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** the compiled CLI, as users run it */
export const cliPath = join(repoRoot, 'dist/src/cli/main.cjs');
export const demoHome = join(repoRoot, 'examples/image-serving');

export function makeTempDir(prefix = 's7sup-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
