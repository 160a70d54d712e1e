// The npm package as CI makes it before publishing: the four prebuilds built here
// (scripts/build-prebuilds.sh), checked as `prepack` checks them, then `npm pack`.
import { join } from 'node:path';
import { runOk } from '../container/compose.js';
import { repoRoot } from '../helpers/paths.js';

const MINUTE = 60_000;
/** two test files may pack at once: they take turns on prebuilds/ */
const PACK_LOCK = '/tmp/s7supervisor-test-pack.lock';

/**
 * Builds the prebuilds into the repository's prebuilds/ (always with `rebuild`, else only when
 * scripts/check-prebuilds.mjs finds them missing or stale) and packs the package into `dest`.
 * `npm pack --ignore-scripts`: `prepare` would compile dist/ again under the tests that are running
 * from it, so its two steps are run here as they are: `npm test` has just built dist/, and prepack's
 * check is the check-prebuilds.mjs below.
 */
export async function packTarball(dest: string, options: { rebuild?: boolean } = {}): Promise<string> {
  const script = [
    options.rebuild ? 'false' : 'node scripts/check-prebuilds.mjs >/dev/null 2>&1',
    '|| bash scripts/build-prebuilds.sh >&2;',
    'node scripts/check-prebuilds.mjs >&2 &&',
    'npm pack --ignore-scripts --silent --pack-destination "$1"',
  ].join(' ');
  const { stdout } = await runOk('flock', [PACK_LOCK, 'bash', '-c', script, 'pack', dest], {
    cwd: repoRoot,
    timeout: 10 * MINUTE,
  });
  const name = stdout.trim().split('\n').at(-1);
  if (!name?.endsWith('.tgz')) throw new Error(`npm pack printed no tarball name: ${stdout}`);
  return join(dest, name);
}
