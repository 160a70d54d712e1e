// `s7supervisor logs` through the real CLI and the real control socket of a real `run`: the last
// lines of each component in time order, json and raw components alike, `-f` across a kill -9
// and restart of a component, Ctrl-C, and the exit code of an unknown id.
import assert from 'node:assert/strict';
import { after, afterEach, test } from 'node:test';
import type { LogLine } from '../../src/log/buffer.js';
import { killAllStarted, type RunningCli, runCli } from '../helpers/processes.js';
import type { TestServer } from '../helpers/registry.js';
import { waitFor } from '../helpers/wait.js';
import { cli, socketRequest, supervise } from './harness.js';

afterEach(() => killAllStarted());
after(() => killAllStarted());

/**
 * A component that prints 20 numbered lines 20 ms apart, each with its own clock in ns, says
 * when it starts (with its pid) and answers SIGUSR1 with a line. `stderr`: every third line goes
 * to stderr.
 */
function printer(id: string, output: 'json' | 'raw'): TestServer {
  const script = [
    `echo "${id} started $$"`,
    `trap 'echo "${id} got usr1 $$"' USR1`,
    'i=0',
    'while [ $i -lt 20 ]; do',
    '  i=$((i+1))',
    `  if [ $((i % 3)) -eq 0 ]; then echo "${id} $i $(date +%s%N)" >&2; else echo "${id} $i $(date +%s%N)"; fi`,
    '  sleep 0.02',
    'done',
    'while :; do sleep 0.05; done',
  ].join('\n');
  return {
    id,
    command: 'sh',
    args: ['-c', script],
    stopTimeout: 2,
    extra: `<output>${output}</output><restart backoffInitial="0.1" backoffMax="0.5"/>`,
  };
}

const env = { S7SUPERVISOR_SOCKET: '', S7SUPERVISOR_REGISTRY: '', S7SUPERVISOR_HOME: '' };

/** every line both components printed at start is in the buffer */
async function printedAll(socket: string, ids: string[]): Promise<LogLine[]> {
  return waitFor(
    async () => {
      const { status, body } = await socketRequest(socket, '/api/v1/logs?tail=all');
      if (status !== 200) return undefined;
      const lines = body
        .split('\n')
        .filter(Boolean)
        .map((row) => JSON.parse(row) as LogLine);
      return ids.every((id) => lines.some((l) => l.msg.startsWith(`${id} 20 `))) ? lines : undefined;
    },
    { timeout: 20_000, message: `${ids.join(', ')} to print their 20 lines` },
  );
}

test('logs -n 5 is svg: the last 5 lines of each (json and raw), interleaved in time order, prefixed by id', async () => {
  const sup = await supervise([printer('is', 'json'), printer('svg', 'raw')]);
  await printedAll(sup.socket, ['is', 'svg']);
  const { code, stdout, stderr } = await sup.ctl(['logs', '-n', '5', 'is', 'svg']);
  assert.equal(code, 0, stderr);
  const rows = stdout.split('\n');
  assert.equal(rows.length, 10, stdout);
  const parsed = rows.map((row) => {
    const match = /^(is |svg) \| (is|svg) (\d+) (\d+)$/.exec(row);
    assert.ok(match, `a prefixed line: ${JSON.stringify(row)}`);
    assert.equal(match[1]!.trim(), match[2]);
    return { id: match[2]!, n: Number(match[3]), ns: BigInt(match[4]!) };
  });
  for (const id of ['is', 'svg'])
    assert.deepEqual(
      parsed.filter((p) => p.id === id).map((p) => p.n),
      [16, 17, 18, 19, 20],
      `the last 5 of ${id}, stdout and stderr alike`,
    );
  // in the order they were printed (the components' own clocks). Two pipes are read as their
  // data arrives: on a loaded machine one may be read some milliseconds after the other, so lines
  // printed within 15 ms of each other may swap; a merge by component would be off by 400 ms
  for (let i = 1; i < parsed.length; i++)
    assert.ok(
      parsed[i]!.ns + 15_000_000n >= parsed[i - 1]!.ns,
      `line ${i} printed before line ${i - 1}:\n${stdout}`,
    );
  assert.ok(
    parsed.some((p, i) => i > 0 && p.id !== parsed[i - 1]!.id),
    'the two components interleave',
  );

  // --json: the records, with stream and the pid of the run
  const json = await sup.ctl(['logs', '-n', '3', '--json', 'svg']);
  assert.equal(json.code, 0, json.stderr);
  const records = json.stdout.split('\n').map((row) => JSON.parse(row) as LogLine);
  const pid = (await sup.pids()).svg;
  assert.deepEqual(
    records.map((r) => [r.component, r.stream, r.pid, r.msg.split(' ').slice(0, 2).join(' ')]),
    [
      ['svg', 'stderr', pid, 'svg 18'],
      ['svg', 'stdout', pid, 'svg 19'],
      ['svg', 'stdout', pid, 'svg 20'],
    ],
  );
  assert.ok(records.every((r) => typeof r.seq === 'number' && typeof r.time === 'number'));

  // no id: every component; -n 0: nothing; a coloured prefix when asked for
  const all = await sup.ctl(['logs', '-n', '1']);
  assert.deepEqual(
    all.stdout
      .split('\n')
      .map((row) => row.split(' | ')[0])
      .sort(),
    ['is ', 'svg'],
  );
  assert.equal((await sup.ctl(['logs', '-n', '0'])).stdout, '');
  const coloured = await sup.ctl(['logs', '-n', '1', 'is', 'svg'], { FORCE_COLOR: '1' });
  // the escape character written out, as the lint rule wants no control character in a regex
  const esc = coloured.stdout.replaceAll('\x1b', 'ESC');
  assert.match(esc, /^ESC\[\d+mis {2}\| ESC\[0mis 20 \d+$/m);
  assert.match(esc, /^ESC\[\d+msvg \| ESC\[0msvg 20 \d+$/m);
  assert.notEqual(/ESC\[(\d+)mis/.exec(esc)?.[1], /ESC\[(\d+)msvg/.exec(esc)?.[1], 'a colour each');
  assert.equal(await sup.stop(), 0);
});

test('logs with an unknown id exits 4 and names the components; bad -n exits 2; no supervisor exits 3', async () => {
  const sup = await supervise([printer('is', 'json'), printer('svg', 'raw')]);
  const unknown = await sup.ctl(['logs', 'is', 'nope']);
  assert.equal(unknown.code, 4);
  assert.match(unknown.stderr, /no component "nope" \(the components are: is, svg\)/);
  assert.equal(unknown.stdout, '');
  const follow = await sup.ctl(['logs', '-f', 'nope']);
  assert.equal(follow.code, 4);
  const bad = await sup.ctl(['logs', '-n', 'ten']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /-n must be a whole number of lines or "all"/);
  assert.equal(await sup.stop(), 0);
  const gone = await cli(['logs', '--socket', sup.socket]);
  assert.equal(gone.code, 3);
  assert.match(gone.stderr, /no supervisor is running/);
});

test('logs -f sees lines printed after it started, across a kill -9 and restart (new pid), raw and json; Ctrl-C ends it (130)', async () => {
  const sup = await supervise([printer('is', 'json'), printer('svg', 'raw')]);
  await printedAll(sup.socket, ['is', 'svg']);
  const before = await sup.pids();
  const follow: RunningCli = runCli(
    ['logs', '-f', '-n', '2', '--json', 'is', 'svg', '--socket', sup.socket],
    {
      env,
    },
  );
  const lines = () => follow.stdout.filter(Boolean).map((row) => JSON.parse(row) as LogLine);
  const seen = (predicate: (line: LogLine) => boolean, message: string) =>
    waitFor(() => lines().find(predicate), { timeout: 20_000, message });
  await waitFor(() => lines().length >= 4, { message: 'the backlog: 2 lines of each' });
  assert.deepEqual(
    lines()
      .slice(0, 4)
      .map((l) => l.msg.split(' ').slice(0, 2).join(' '))
      .sort(),
    ['is 19', 'is 20', 'svg 19', 'svg 20'],
  );

  // printed after the follow began, by the running process (raw mode)
  process.kill(before.svg!, 'SIGUSR1');
  await seen((l) => l.msg === `svg got usr1 ${before.svg}` && l.pid === before.svg, 'svg answering USR1');

  // kill -9: the supervisor restarts is; the follow goes on with the new run
  process.kill(before.is!, 'SIGKILL');
  const restarted = await seen(
    (l) => l.component === 'is' && l.msg.startsWith('is started ') && l.pid !== before.is,
    'the new run of is saying it started',
  );
  assert.equal(restarted.msg, `is started ${restarted.pid}`);
  const now = await sup.component('is');
  assert.equal(now?.pid, restarted.pid);
  assert.equal(now?.restarts, 1);
  await seen((l) => l.msg === 'is 20' || l.msg.startsWith('is 20 '), 'the new run printing its lines');
  process.kill(restarted.pid, 'SIGUSR1');
  await seen((l) => l.msg === `is got usr1 ${restarted.pid}`, 'the new run answering USR1');
  // in arrival order throughout
  const seqs = lines().map((l) => l.seq);
  assert.deepEqual(
    seqs,
    [...seqs].sort((a, b) => a - b),
  );
  assert.equal(new Set(seqs).size, seqs.length, 'no line twice');

  process.kill(follow.pid, 'SIGINT');
  assert.equal(await follow.exited, 130, 'dies of the SIGINT, as tail -f does');
  assert.equal(follow.stderr.join('\n'), '');
  // and leaves nothing behind in the supervisor
  const debug = await socketRequest(sup.socket, '/api/v1/debug/listeners');
  await waitFor(
    async () => {
      const now = JSON.parse((await socketRequest(sup.socket, '/api/v1/debug/listeners')).body) as {
        logs: { followers: number };
        streams: { open: number };
      };
      return now.logs.followers === 0 && now.streams.open === 0;
    },
    { message: `the follower gone (${debug.body})` },
  );
  assert.equal(await sup.stop(), 0);
});

test('logs -f ends with 0 when the supervisor stops', async () => {
  const sup = await supervise([printer('is', 'json')]);
  const follow = runCli(['logs', '-f', '-n', '1', '--socket', sup.socket], { env });
  await waitFor(() => follow.stdout.length >= 1, { message: 'the first line' });
  assert.equal(await sup.stop(), 0);
  assert.equal(await waitFor(() => follow.exitCode(), { message: 'logs -f to end' }), 0);
  assert.match(follow.stderr.join('\n'), /the supervisor stopped: end of its output/);
});

test("a reload: a removed component's buffer is freed (logs ID then exits 4), a new <logBuffer lines> applies at once", async () => {
  const sup = await supervise([printer('is', 'json'), printer('svg', 'raw')]);
  await printedAll(sup.socket, ['is', 'svg']);
  const buffers = async () =>
    (
      JSON.parse((await socketRequest(sup.socket, '/api/v1/debug/listeners')).body) as {
        logs: { buffers: number };
      }
    ).logs.buffers;
  assert.equal(await buffers(), 2);
  sup.rewrite([printer('is', 'json')], '<logBuffer lines="5"/>');
  const reload = await sup.ctl(['reload']);
  assert.equal(reload.code, 0, reload.stderr);
  await waitFor(async () => (await buffers()) === 1, { message: "svg's buffer freed" });
  const gone = await sup.ctl(['logs', 'svg']);
  assert.equal(gone.code, 4);
  assert.match(gone.stderr, /no component "svg" \(the components are: is\)/);
  const kept = await sup.ctl(['logs', '-n', 'all', 'is']);
  assert.deepEqual(
    kept.stdout.split('\n').map((row) => row.split(' ')[3]),
    ['16', '17', '18', '19', '20'],
  );
  assert.equal(await sup.stop(), 0);
});
