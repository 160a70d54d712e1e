// NODE_EXTRA_CA_CERTS is the components' business, not the supervisor's: Node 20 reads and parses
// the whole bundle it names before the first line of any script (~55 ms and 2 MB with the system's
// certificates), and the supervisor verifies no certificate. The installed bin's shell line moves
// it aside for the supervisor's own Node, and launch.ts puts it back before anything runs
// (scripts/bundle.mjs). A name Node cannot read makes Node print a warning at start: one warning
// means one Node read it, the component's.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { makeTempDir } from '../helpers/paths.js';
import { killAllStarted, runCli } from '../helpers/processes.js';

after(killAllStarted);

const NODE_WARNING = /Ignoring extra certs from/;

/** the installed bin in tini mode, its one child printing what it was given */
async function runChild(caValue: string | undefined, child: string[], env: NodeJS.ProcessEnv = {}) {
  const cli = runCli(['run', '--port', '0', '--', ...child], {
    asInstalled: true,
    env: { NODE_EXTRA_CA_CERTS: caValue, ...env },
  });
  const code = await cli.exited;
  return { code, stdout: cli.stdout, stderr: cli.stderr };
}

test('the components read NODE_EXTRA_CA_CERTS as it was set; the supervisor does not read it', async (t) => {
  // quotes, a space and a dollar sign: the shell line must pass the value on untouched
  const missing = join(makeTempDir('s7sup-ca-'), `it's a "ca" $HOME.pem`);
  const control = spawnSync(process.execPath, ['-e', '0'], {
    env: { ...process.env, NODE_EXTRA_CA_CERTS: missing },
    encoding: 'utf8',
    timeout: 10_000,
  });
  if (!NODE_WARNING.test(control.stderr)) {
    t.skip(`Node ${process.version} does not read NODE_EXTRA_CA_CERTS at start`);
    return;
  }
  const script =
    'console.log(JSON.stringify({ ca: process.env.NODE_EXTRA_CA_CERTS, moved: process.env.S7SUPERVISOR_NODE_EXTRA_CA_CERTS ?? null }))';
  const { code, stdout, stderr } = await runChild(missing, [process.execPath, '-e', script]);
  assert.equal(code, 0, stderr.join('\n'));
  const seen = stdout.map((line) => JSON.parse(line) as { ca?: string; moved: string | null });
  assert.deepEqual(seen, [{ ca: missing, moved: null }]);
  // the component's Node read it (and warned); the supervisor's did not
  assert.equal(stderr.filter((line) => NODE_WARNING.test(line)).length, 1, stderr.join('\n'));
});

test('unset stays unset and empty stays empty for the components', async () => {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion, for sh
  const show = ['sh', '-c', 'printf "[%s]\\n" "${NODE_EXTRA_CA_CERTS-unset}"'];
  const unset = await runChild(undefined, show);
  assert.equal(unset.code, 0, unset.stderr.join('\n'));
  assert.deepEqual(unset.stdout, ['[unset]']);
  const empty = await runChild('', show);
  assert.equal(empty.code, 0, empty.stderr.join('\n'));
  assert.deepEqual(empty.stdout, ['[]']);
  // the name the bin moves it to, set by hand, is not taken for a value to put back
  const stray = await runChild(undefined, show, { S7SUPERVISOR_NODE_EXTRA_CA_CERTS: '/stray.pem' });
  assert.equal(stray.code, 0, stray.stderr.join('\n'));
  assert.deepEqual(stray.stdout, ['[unset]']);
});
