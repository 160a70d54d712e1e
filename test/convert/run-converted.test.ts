// A converted registry run for real: `s7supervisor run` on the output of `convert` starts the
// same programs as the source would, in the same order. The fixtures in fixtures/run/ are the
// realistic ones with every command replaced by bin/service.sh, which records its start.
import assert from 'node:assert/strict';
import { chmodSync, cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { makeTempDir, repoRoot } from '../helpers/paths.js';
import { killAllStarted, killGroup, type RunningCli, runCli } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

/** the record files of this file's tests: whatever they list is killed after each test */
const records: string[] = [];

afterEach(() => {
  killAllStarted();
  // a program whose start the supervisor had not logged yet when a test failed is not known to
  // killAllStarted: its process group (it leads one) is killed by the pid it recorded
  for (const record of records.splice(0)) for (const start of starts(record)) killGroup(start.pid);
});

interface Start {
  name: string;
  ms: number;
  port: string;
  greeting: string;
  args: string;
  pid: number;
}

/** a copy of fixtures/run (tests write beside it), with `file` converted into registry.xml */
async function prepare(file: string): Promise<{ dir: string; registry: string; record: string }> {
  const dir = makeTempDir('s7sup-convert-run-');
  cpSync(join(repoRoot, 'test/convert/fixtures/run'), dir, { recursive: true });
  chmodSync(join(dir, 'bin/service.sh'), 0o755);
  const converted = runCli(['convert', join(dir, file)]);
  assert.equal(await converted.exited, 0, converted.stderr.join('\n'));
  const registry = join(dir, 'registry.xml');
  writeFileSync(registry, `${converted.stdout.join('\n')}\n`);
  const record = join(dir, 'starts.tsv');
  records.push(record);
  return { dir, registry, record };
}

function starts(record: string): Start[] {
  if (!existsSync(record)) return [];
  return readFileSync(record, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [name = '', ms = '', port = '', greeting = '', args = '', pid = ''] = line.split('\t');
      return { name, ms: Number(ms), port, greeting, args, pid: Number(pid) };
    });
}

async function supervise(dir: string, registry: string, record: string, env: NodeJS.ProcessEnv = {}) {
  return runCli(['run', '--registry', registry, '--home', dir, '--port', '0', '--log-level', 'debug'], {
    cwd: dir,
    env: { CONVERT_RECORD: record, ...env },
  });
}

/**
 * The supervisor's own 'component started' records, in order: the order it spawned the programs
 * in. (The scripts' own records can land in another order when a group starts right after the
 * one before: two shells started a millisecond apart race to their first write.)
 */
function spawned(cli: RunningCli): Array<{ id: string; time: number }> {
  return cli
    .records()
    .filter((r) => r.msg === 'component started')
    .map((r) => ({ id: String(r.component), time: Number(r.time) }));
}

/** waits until `count` programs have recorded their start, and the supervisor has logged theirs */
async function waitForStarts(cli: RunningCli, record: string, count: number): Promise<Start[]> {
  return waitFor(
    () => {
      if (cli.exitCode() !== undefined) throw new Error(`run exited: ${cli.stderr.join('\n')}`);
      const found = starts(record);
      return found.length >= count && spawned(cli).length >= count ? found : undefined;
    },
    { timeout: 20_000, message: `${count} recorded and logged starts` },
  );
}

/** SIGTERM, then the exit code; every component stopped by then */
async function stop(cli: RunningCli): Promise<number> {
  process.kill(cli.pid, 'SIGTERM');
  return waitFor(() => cli.exitCode(), { timeout: 30_000, message: 'the supervisor to exit' });
}

const names = (list: Start[]) => list.map((s) => s.name);

describe('a converted registry, run', () => {
  test('supervisord.conf: php-fpm, then nginx after its startsecs, then both workers; cron stays out', async () => {
    const { dir, registry, record } = await prepare('supervisord.conf');
    const cli = await supervise(dir, registry, record, { QUEUE_NAME: 'emails' });
    const found = await waitForStarts(cli, record, 4);
    const [first, second, ...rest] = spawned(cli);
    assert.deepEqual([first?.id, second?.id], ['php-fpm', 'nginx']);
    assert.deepEqual(rest.map((s) => s.id).sort(), ['worker_00', 'worker_01']);
    // startsecs=1 became startDelay 1: nginx's group waited for php-fpm's
    const gap = (second?.time ?? 0) - (first?.time ?? 0);
    assert.ok(gap >= 1000, `nginx started ${gap} ms after php-fpm`);
    // the programs ran, with the arguments and environment supervisord would have given them
    assert.deepEqual(names(found).sort(), ['nginx', 'php-fpm', 'worker_00', 'worker_01']);
    const ran = (name: string) => found.find((s) => s.name === name);
    assert.equal(ran('nginx')?.args, '-g daemon off;');
    assert.equal(ran('worker_01')?.args, '--queue=emails');
    // [supervisord] environment= reaches every program
    assert.ok(
      found.every((s) => s.greeting === 'hello from supervisord'),
      JSON.stringify(found),
    );
    assert.equal(await stop(cli), 0);
    assert.deepEqual(names(starts(record)).sort(), ['nginx', 'php-fpm', 'worker_00', 'worker_01']);
  });

  test('Procfile: web and worker start together with PORT set as foreman would; release is not run', async () => {
    const { dir, registry, record } = await prepare('Procfile');
    const cli = await supervise(dir, registry, record, { PORT: '' });
    const found = await waitForStarts(cli, record, 2);
    assert.deepEqual(names(found).sort(), ['web', 'worker']);
    const web = found.find((s) => s.name === 'web');
    assert.equal(web?.port, '5000');
    assert.equal(web?.args, '--port 5000');
    assert.equal(await stop(cli), 0);
    assert.deepEqual(names(starts(record)).sort(), ['web', 'worker']);
  });

  test('process-compose.yaml: db and cache, then web once db is healthy, then worker', async () => {
    const { dir, registry, record } = await prepare('process-compose.yaml');
    const cli = await supervise(dir, registry, record);
    const found = await waitForStarts(cli, record, 4);
    const order = spawned(cli);
    assert.deepEqual(
      order
        .slice(0, 2)
        .map((s) => s.id)
        .sort(),
      ['cache', 'db'],
    );
    assert.deepEqual(
      order.slice(2).map((s) => s.id),
      ['web', 'worker'],
    );
    assert.deepEqual(names(found).sort(), ['cache', 'db', 'web', 'worker']);
    assert.equal(found.find((s) => s.name === 'web')?.args, '--port 8080');
    // web waited for db's readiness check, which passes once db has written db.ready
    const ready = await cli.waitForRecord(
      (r) => r.msg === 'state change' && r.component === 'db' && r.to === 'running',
    );
    assert.ok((order[2]?.time ?? 0) >= Number(ready.time), 'web started before db was ready');
    assert.equal(await stop(cli), 0);
  });
});
