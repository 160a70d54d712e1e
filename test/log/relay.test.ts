// Raw output through the relay threads (src/log/relay.ts, native/relay.c), with the real CLI:
// whole lines on a stdout shared with other relays and with the supervisor's own records, the
// in-memory buffer after a burst it never saw whole, a follower that sees every line, and our
// stdout grown when a burst fills it.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, createReadStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, test } from 'node:test';
import type { LogLine } from '../../src/log/buffer.js';
import { loadNative } from '../../src/process/native.js';
import { socketRequest, supervise } from '../control/harness.js';
import { cliPath, makeTempDir, repoRoot } from '../helpers/paths.js';
import { childrenOf, collectLines, killAllStarted, killGroup, runCli } from '../helpers/processes.js';
import { promptScript } from '../helpers/prompt.js';
import { type TestServer, writeRegistry } from '../helpers/registry.js';
import { waitFor } from '../helpers/wait.js';

afterEach(() => killAllStarted());
after(() => killAllStarted());

const numberedLines = join(repoRoot, 'dist/test/fixtures/numbered-lines.js');
const env = { S7SUPERVISOR_SOCKET: '', S7SUPERVISOR_REGISTRY: '', S7SUPERVISOR_HOME: '' };

/**
 * `count` lines "<tag><n, 6 digits><tag × size>", written in pieces of 7,919 bytes that end
 * anywhere in a line, then it sleeps (so it stays running)
 */
function tagged(tag: string, count: number, size: number, output: 'raw' | 'json'): TestServer {
  const script = [
    `let s = ''; for (let i = 0; i < ${count}; i++) s += '${tag}' + String(i).padStart(6, '0') + '${tag}'.repeat(${size}) + '\\n';`,
    `const all = Buffer.from(s); let at = 0;`,
    `while (at < all.length) at += require('node:fs').writeSync(1, all, at, Math.min(7919, all.length - at));`,
    'setInterval(() => {}, 1000);',
  ].join('\n');
  return {
    id: tag.toLowerCase(),
    command: process.execPath,
    args: ['-e', script],
    stopTimeout: 2,
    extra: `<output>${output}</output><restart policy="never"/>`,
  };
}

test('two raw components, a json one and the supervisor itself share stdout line by line: nothing interleaves, nothing is lost', async () => {
  const count = 30_000;
  const sup = await supervise([
    tagged('A', count, 10, 'raw'),
    tagged('B', count, 200, 'raw'),
    tagged('C', count, 50, 'json'),
  ]);
  const stdout = sup.run.stdout;
  const seen = { A: 0, B: 0, C: 0 };
  let checked = 0;
  let records = 0;
  // every line is a whole record or a whole line of A or B, each component's in order
  const check = () => {
    for (; checked < stdout.length; checked++) {
      const line = stdout[checked]!;
      let tag: 'A' | 'B' | 'C';
      let text = line;
      if (line.startsWith('{')) {
        const record = JSON.parse(line) as { component?: string; msg?: string };
        records++;
        if (record.component !== 'c' || !record.msg?.startsWith('C')) continue;
        tag = 'C';
        text = record.msg;
      } else {
        tag = line[0] as 'A' | 'B';
        assert.ok(
          tag === 'A' || tag === 'B',
          `a line that is neither a record nor A's or B's: ${line.slice(0, 80)}`,
        );
      }
      const size = { A: 10, B: 200, C: 50 }[tag];
      assert.equal(text, `${tag}${String(seen[tag]).padStart(6, '0')}${tag.repeat(size)}`);
      seen[tag]++;
    }
    return seen.A === count && seen.B === count && seen.C === count;
  };
  await waitFor(check, {
    timeout: 60_000,
    message: `${count} lines of each (so far ${JSON.stringify(seen)})`,
  });
  assert.ok(records > count, 'the supervisor records and C were there too');
  process.kill(sup.run.pid, 'SIGTERM');
  assert.equal(await sup.run.exited, 0);
  check();
  assert.deepEqual(seen, { A: count, B: count, C: count });
});

test('after a burst the buffer holds exactly the last <logBuffer lines> of a raw component, and stdout every line', async () => {
  const count = 200_000;
  const sup = await supervise(
    [
      {
        id: 'burst',
        command: 'sh',
        args: ['-c', `"${process.execPath}" ${numberedLines} --count ${count} --size 60; exec sleep 1000`],
        stopTimeout: 2,
        extra: '<output>raw</output>',
      },
    ],
    { config: '<logBuffer lines="100"/>' },
  );
  const last = `line ${String(count).padStart(7, '0')}`;
  const lines = await waitFor(
    async () => {
      const { status, body } = await socketRequest(sup.socket, '/api/v1/logs?tail=all&component=burst');
      if (status !== 200) return undefined;
      const rows = body
        .split('\n')
        .filter(Boolean)
        .map((row) => JSON.parse(row) as LogLine)
        .filter((l) => l.component === 'burst');
      return rows.at(-1)?.msg.startsWith(last) ? rows : undefined;
    },
    { timeout: 30_000, message: 'the last line of the burst in the buffer' },
  );
  assert.deepEqual(
    lines.map((l) => l.msg.slice(0, 12)),
    Array.from({ length: 100 }, (_, i) => `line ${String(count - 99 + i).padStart(7, '0')}`),
  );
  const seqs = lines.map((l) => l.seq);
  assert.deepEqual(
    seqs,
    [...seqs].sort((a, b) => a - b),
    'in arrival order',
  );
  const printed = await waitFor(
    () => {
      const got = sup.run.stdout.filter((l) => l.startsWith('line '));
      return got.length >= count ? got : undefined;
    },
    { timeout: 30_000, message: 'every line on stdout' },
  );
  assert.equal(printed.length, count);
  printed.forEach((line, i) => {
    if (!line.startsWith(`line ${String(i + 1).padStart(7, '0')}`))
      assert.fail(`line ${i + 1}: ${line.slice(0, 40)}`);
  });
});

test('a follower sees every line of a raw burst, in order, while the buffer keeps only its last lines', async () => {
  // 180 KB, more than a take of 100 lines, and less than the 1 MiB a follower may leave unread
  // before it is dropped (to resume from what the buffer keeps: src/http/sse.ts)
  const count = 3_000;
  const go = join(makeTempDir(), 'go');
  const sup = await supervise(
    [
      {
        id: 'burst',
        command: 'sh',
        args: [
          '-c',
          `while [ ! -e ${go} ]; do sleep 0.02; done; "${process.execPath}" ${numberedLines} --count ${count} --size 60; exec sleep 1000`,
        ],
        stopTimeout: 2,
        extra: '<output>raw</output>',
      },
    ],
    { config: '<logBuffer lines="100"/>' },
  );
  const component = await sup.component('burst');
  assert.ok(component?.pid);
  const follow = runCli(['logs', '-f', '-n', '0', '--json', 'burst', '--socket', sup.socket], { env });
  await waitFor(
    async () => {
      const body = (await socketRequest(sup.socket, '/api/v1/debug/listeners')).body;
      return (JSON.parse(body) as { logs: { followers: number } }).logs.followers === 1;
    },
    { message: 'the follower connected' },
  );
  writeFileSync(go, '');
  const got = await waitFor(
    () => {
      const rows = follow.stdout.filter(Boolean).map((row) => JSON.parse(row) as LogLine);
      return rows.length >= count ? rows : undefined;
    },
    { timeout: 60_000, message: `${count} lines to the follower` },
  );
  assert.equal(got.length, count);
  got.forEach((line, i) => {
    if (!line.msg.startsWith(`line ${String(i + 1).padStart(7, '0')}`))
      assert.fail(`line ${i + 1}: ${line.msg.slice(0, 40)}`);
  });
  process.kill(follow.pid, 'SIGINT');
  assert.equal(await follow.exited, 130);
});

test('a raw partial line left waiting (a prompt) goes out after a second, without tearing a character', async () => {
  const flag = join(makeTempDir(), 'go-on');
  const script = promptScript(flag);
  const sup = await supervise([
    { id: 'prompt', command: process.execPath, args: ['-e', script], extra: '<output>raw</output>' },
  ]);
  const tail = async () =>
    (await socketRequest(sup.socket, '/api/v1/logs?tail=all')).body
      .split('\n')
      .filter(Boolean)
      .map((row) => JSON.parse(row) as LogLine);
  // the tap hears of the idle second when the relay has let the prompt out
  await waitFor(async () => (await tail()).some((l) => l.msg === 'Password: c' && l.partial), {
    message: 'the prompt in the buffer, as a partial line',
  });
  // a record of the supervisor's own right after it: the held byte of é would show between them
  process.kill(sup.run.pid, 'SIGHUP');
  const line = await waitFor(() => sup.run.stdout.find((l) => l.includes('SIGHUP received')), {
    message: 'the SIGHUP record',
  });
  assert.ok(line.startsWith('Password: c{"level":30'), `the prompt, then the record: ${line.slice(0, 40)}`);
  writeFileSync(flag, '');
  await waitFor(() => sup.run.stdout.includes('é'), { message: 'é on stdout, whole' });
  assert.ok(!sup.run.stdout.some((l) => l.includes('\uFFFD')), 'no character torn on stdout');
  await waitFor(async () => (await tail()).some((l) => l.msg === 'é'), { message: 'é in the buffer' });
});

test('what a raw component prints as it stops is on stdout before the supervisor exits', async () => {
  // 5,000 lines of 100 bytes on SIGTERM, then exit: they reach the relay as the run ends. Written
  // with writeSync to a descriptor Node leaves blocking (console.log would make it non-blocking,
  // and a full pipe would then take only part of the write)
  const script = `
    const { writeSync } = require('node:fs');
    process.on('SIGTERM', () => {
      let s = '';
      for (let i = 0; i < 5000; i++) s += 'bye ' + String(i).padStart(6, '0') + ' ' + 'z'.repeat(88) + '\\n';
      const bytes = Buffer.from(s);
      for (let at = 0; at < bytes.length; ) at += writeSync(1, bytes, at);
      process.exit(0);
    });
    writeSync(1, 'leaving: ready\\n');
    setInterval(() => {}, 1000);`;
  const sup = await supervise([
    { id: 'leaving', command: process.execPath, args: ['-e', script], extra: '<output>raw</output>' },
  ]);
  await waitFor(() => sup.run.stdout.includes('leaving: ready'), { message: 'its SIGTERM handler in' });
  // a reader that is slow just then: 500 KB do not fit in its socket, so the relay is still
  // writing when the component is gone, and the supervisor must wait for it
  const stdout = sup.run.child.stdout!;
  stdout.pause();
  process.kill(sup.run.pid, 'SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 300));
  stdout.resume();
  assert.equal(await sup.run.exited, 0);
  const byes = sup.run.stdout.filter((l) => l.startsWith('bye '));
  assert.equal(byes.length, 5000);
  assert.equal(byes.at(-1), `bye 004999 ${'z'.repeat(88)}`);
  const exiting = sup.run.stdout.findIndex((l) => l.includes('"supervisor exiting"'));
  assert.ok(exiting > sup.run.stdout.lastIndexOf(byes.at(-1)!), 'before the last record');
});

test('a follower that connects in the middle of a raw burst: output goes on, and the follower gets lines', async () => {
  // 100 batches of 4,000 numbered lines (240 KB) 10 ms apart: a burst of a second or more
  const script = `
    const { writeSync } = require('node:fs');
    let n = 0;
    const batch = () => {
      let s = '';
      for (let i = 0; i < 4000; i++) s += 'line ' + String(++n).padStart(7, '0') + ' ' + 'x'.repeat(46) + '\\n';
      const bytes = Buffer.from(s);
      for (let at = 0; at < bytes.length; ) at += writeSync(1, bytes, at);
      if (n < 400000) setTimeout(batch, 10);
    };
    batch();
    setInterval(() => {}, 1000);`;
  const sup = await supervise([
    { id: 'burst', command: process.execPath, args: ['-e', script], extra: '<output>raw</output>' },
  ]);
  await waitFor(() => sup.run.stdout.some((l) => l.startsWith('line ')), { message: 'the burst begun' });
  const follow = runCli(['logs', '-f', '-n', '0', '--json', 'burst', '--socket', sup.socket], { env });
  await waitFor(() => follow.stdout.length > 0, { timeout: 20_000, message: 'lines to the follower' });
  // a relay waiting for a take nobody was told of would hold stdout (and the component) for good
  await waitFor(() => sup.run.stdout.some((l) => l.startsWith('line 0400000')), {
    timeout: 60_000,
    message: 'the last line of the burst on stdout',
  });
  assert.equal(sup.run.stdout.filter((l) => l.startsWith('line ')).length, 400_000);
  process.kill(follow.pid, 'SIGINT');
  assert.equal(await follow.exited, 130);
});

/** a pipe's capacity: F_GETPIPE_SZ (1032) through perl, which every Debian has (perl-base) */
function pipeCapacity(readFd: number): number {
  const perl = spawnSync('perl', ['-e', 'print fcntl(STDIN, 1032, 0)'], {
    stdio: [readFd, 'pipe', 'inherit'],
  });
  return Number(perl.stdout.toString());
}

/**
 * The CLI with its stdout on a real pipe, as a container runtime gives it (runCli's is a socket:
 * Node's child_process makes one for 'pipe'); its lines collected as they are read
 */
function runOnPipe(servers: TestServer[]) {
  const [readFd, writeFd] = loadNative().makePipe();
  const run = spawn(process.execPath, [cliPath, 'run', '--home', writeRegistry(servers), '--port', '0'], {
    detached: true,
    env: { ...process.env, ...env },
    stdio: ['ignore', writeFd, 'inherit'],
  });
  closeSync(writeFd);
  const exited = new Promise<number | null>((resolve) => run.once('exit', resolve));
  onPipe.add(run.pid!);
  const lines: string[] = [];
  let reading = false;
  return {
    readFd,
    lines,
    exited,
    /** reads the pipe from now on (until the CLI and its components closed it) */
    read() {
      if (reading) return;
      reading = true;
      collectLines(createReadStream('', { fd: readFd }), lines);
    },
    stop() {
      process.kill(run.pid!, 'SIGTERM');
    },
  };
}
const onPipe = new Set<number>();
after(() => {
  for (const pid of onPipe) {
    for (const child of childrenOf(pid)) killGroup(child);
    killGroup(pid);
  }
});

// raw: a relay finds our stdout full (native/relay.c); json: the supervisor's own writer does
// (src/log/batch-writer.ts). Either grows it.
for (const output of ['raw', 'json'] as const) {
  test(`our stdout, a pipe that a ${output} burst fills, grows to 256 KiB, and nothing is lost; a pipe that never filled keeps its 64 KiB`, async () => {
    const quiet = runOnPipe([
      {
        id: 'quiet',
        command: '/bin/echo',
        args: ['one line'],
        extra: `<output>${output}</output><restart policy="never"/>`,
      },
    ]);
    quiet.read();
    await waitFor(() => quiet.lines.some((line) => line.includes('one line')), { message: 'the quiet line' });
    assert.equal(pipeCapacity(quiet.readFd), 64 * 1024);

    // 2 MB at once, and nobody reads yet
    const burst = runOnPipe([
      {
        id: 'burst',
        command: process.execPath,
        args: [numberedLines, '--count', '20000', '--size', '100'],
        extra: `<output>${output}</output><restart policy="never"/>`,
      },
    ]);
    await waitFor(() => pipeCapacity(burst.readFd) === 256 * 1024, { message: 'stdout grown to 256 KiB' });
    burst.read();
    const text = (line: string) =>
      output === 'raw'
        ? line
        : line.includes('"component":"burst"')
          ? String((JSON.parse(line) as { msg?: unknown }).msg)
          : '';
    const last = `line 0020000 ${'x'.repeat(86)}`;
    await waitFor(() => burst.lines.some((line) => text(line) === last), { message: 'the last line' });
    const numbered = burst.lines.map(text).filter((line) => line.startsWith('line '));
    assert.equal(numbered.length, 20_000);
    const outOfOrder = numbered.findIndex((line, i) => line.slice(5, 12) !== String(i + 1).padStart(7, '0'));
    assert.equal(outOfOrder, -1, 'every line once, in order');

    quiet.stop();
    burst.stop();
    assert.deepEqual(await Promise.all([quiet.exited, burst.exited]), [0, 0]);
  });
}
