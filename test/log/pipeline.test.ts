// The whole output path with real processes: a host (test/fixtures/log-host.ts) builds the logger
// and the output capture on its own stdout, as the supervisor does, and runs a real command; we
// read the host's stdout as a user's log collector would.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, createReadStream, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { formatDay } from '../../src/log/daily-file.js';
import { MAX_LINE } from '../../src/log/output.js';
import { loadNative } from '../../src/process/native.js';
import { makeTempDir, repoRoot } from '../helpers/paths.js';
import { killGroup } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const host = join(repoRoot, 'dist/test/fixtures/log-host.js');
const numberedLines = join(repoRoot, 'dist/test/fixtures/numbered-lines.js');

type LogRecord = Record<string, unknown> & { msg?: string };

interface Host {
  child: ChildProcess;
  pid: number;
  exited: Promise<number | null>;
  /** highest VmRSS seen so far, in bytes */
  peakRss(): number;
}

const hosts: Host[] = [];
after(() => {
  for (const h of hosts) killGroup(h.pid);
});

/** `stdout`: a descriptor for the host's stdout (a real pipe, a file) instead of a socket */
function startHost(hostArgs: string[], command: string[], stdout: 'pipe' | number = 'pipe'): Host {
  const child = spawn(process.execPath, [host, ...hostArgs, '--', ...command], {
    detached: true,
    stdio: ['ignore', stdout, 'pipe'],
  });
  let peak = 0;
  const sample = () => {
    try {
      const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (match) peak = Math.max(peak, Number(match[1]) * 1024);
    } catch {
      // exited
    }
  };
  child.stderr!.resume();
  const sampler = setInterval(sample, 25);
  const handle: Host = {
    child,
    pid: child.pid!,
    exited: new Promise((resolve) =>
      child.once('close', (code) => {
        clearInterval(sampler);
        resolve(code);
      }),
    ),
    peakRss: () => peak,
  };
  hosts.push(handle);
  return handle;
}

/** everything a stream gives, as one buffer */
function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve) => stream.once('end', () => resolve(Buffer.concat(chunks))));
}

function records(output: Buffer): LogRecord[] {
  return output
    .toString('utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as LogRecord);
}

function numbered(n: number, size: number): string {
  const text = `line ${String(n).padStart(7, '0')}`;
  return size > text.length + 1 ? `${text} ${'x'.repeat(size - text.length - 2)}` : text;
}

/** the `demo` component's records are lines 1..count of `size` bytes, each once and in order */
function assertEveryLine(all: LogRecord[], count: number, size: number, where: string): void {
  const lines = all.filter((r) => r.component === 'demo');
  assert.equal(lines.length, count, where);
  lines.forEach((r, i) => {
    if (r.msg !== numbered(i + 1, size)) assert.fail(`${where}, record ${i}: ${JSON.stringify(r)}`);
  });
}

describe('component output through the log pipeline', () => {
  test('100,000 lines then a crash: every line once, in order, as a record; the last partial line too', async () => {
    const h = startHost(
      ['--component', 'is'],
      [
        process.execPath,
        numberedLines,
        '--count',
        '100000',
        '--size',
        '60',
        '--no-final-newline',
        '--exit-code',
        '1',
      ],
    );
    const [output, code] = await Promise.all([collect(h.child.stdout!), h.exited]);
    assert.equal(code, 0);
    const all = records(output);
    const lines = all.filter((r) => r.component === 'is');
    assert.equal(lines.length, 100000);
    lines.forEach((r, i) => {
      if (r.msg !== numbered(i + 1, 60) || r.stream !== 'stdout' || r.level !== 30) {
        assert.fail(`record ${i}: ${JSON.stringify(r)}`);
      }
    });
    const exit = all.at(-1)!;
    assert.equal(exit.msg, 'child exited', 'the host logged after the last line, and flushed before exit');
    assert.equal(exit.exitCode, 1);
  });

  test('stderr lines are records with stream "stderr"', async () => {
    const h = startHost(
      ['--component', 'svg'],
      ['sh', '-c', 'echo to-out; echo to-err >&2; printf "no newline at the end" >&2; exit 3'],
    );
    const [output] = await Promise.all([collect(h.child.stdout!), h.exited]);
    const lines = records(output).filter((r) => r.component === 'svg');
    assert.deepEqual(lines.map((r) => [r.stream, r.msg]).sort(), [
      ['stderr', 'no newline at the end'],
      ['stderr', 'to-err'],
      ['stdout', 'to-out'],
    ]);
  });

  test('a 1 MB line is split into pieces of at most 64 KiB, nothing lost', async () => {
    const size = 1024 * 1024;
    const h = startHost(
      [],
      [process.execPath, numberedLines, '--count', '2', '--size', '30', '--big-line', String(size)],
    );
    const [output] = await Promise.all([collect(h.child.stdout!), h.exited]);
    const lines = records(output).filter((r) => r.component === 'demo');
    assert.equal(lines[0]!.msg, numbered(1, 30));
    assert.equal(lines[1]!.msg, numbered(2, 30));
    const pieces = lines.slice(2);
    assert.ok(pieces.length >= 16, `${pieces.length} pieces`);
    for (const piece of pieces) assert.ok(Buffer.byteLength(piece.msg!) <= MAX_LINE);
    assert.ok(
      pieces.slice(0, -1).every((p) => p.partial === true),
      'every piece but the last is marked partial',
    );
    assert.equal(pieces.at(-1)!.partial, undefined);
    assert.equal(pieces.map((p) => p.msg).join(''), 'y'.repeat(size));
  });

  test('200 MB without a newline: the host stays small and every byte arrives', async () => {
    const size = 200 * 1000 * 1000;
    const h = startHost(
      [],
      [process.execPath, numberedLines, '--big-line', String(size), '--no-final-newline', '--exit-code', '1'],
    );
    let bytes = 0;
    let pieces = 0;
    let rest = '';
    h.child.stdout!.setEncoding('utf8');
    h.child.stdout!.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop()!;
      for (const line of lines) {
        const record = JSON.parse(line) as LogRecord;
        if (record.component !== 'demo') continue;
        assert.ok(Buffer.byteLength(record.msg!) <= MAX_LINE);
        bytes += record.msg!.length;
        pieces++;
      }
    });
    assert.equal(await h.exited, 0);
    assert.equal(bytes, size);
    assert.ok(pieces >= size / MAX_LINE);
    const peakMb = h.peakRss() / 1e6;
    assert.ok(peakMb > 0, 'RSS was sampled');
    assert.ok(peakMb < 200, `peak RSS ${peakMb.toFixed(0)} MB`);
  });

  test('a slow reader pauses the component instead of filling the host memory', async () => {
    const count = 1_000_000;
    const h = startHost([], [process.execPath, numberedLines, '--count', String(count), '--size', '100']);
    const stdout = h.child.stdout!;
    // read nothing for a while: the pipes fill and the child must wait
    stdout.pause();
    const rssWhilePaused: number[] = [];
    await waitFor(
      () => {
        rssWhilePaused.push(h.peakRss());
        return rssWhilePaused.length >= 40;
      },
      { interval: 50, message: '2 s of samples' },
    );
    const output = collect(stdout);
    stdout.resume();
    const [buffer, code] = await Promise.all([output, h.exited]);
    assert.equal(code, 0);
    const peakMb = Math.max(...rssWhilePaused) / 1e6;
    // 1,000,000 records held in memory would be over 200 MB
    assert.ok(peakMb < 150, `peak RSS while the reader was paused: ${peakMb.toFixed(0)} MB`);
    // the records wait in the host, uncopied, while the reader is paused: none may be overwritten
    assertEveryLine(records(buffer), count, 100, 'stdout');
  });

  test('a reader that stops and starts, and the <log> file: both get every record once, in order', async () => {
    const count = 300_000;
    const dir = makeTempDir();
    const configured = join(dir, 'logs/Supervisor.log');
    const h = startHost(
      ['--file', configured],
      [process.execPath, numberedLines, '--count', String(count), '--size', '100'],
    );
    const stdout = h.child.stdout!;
    // a collector that stalls for 20 ms after every 16 reads: the host's writes keep finding its
    // pipe full, so its records wait (kept, not copied) and their buffer is taken again after
    const chunks: Buffer[] = [];
    let reads = 0;
    stdout.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (++reads % 16 !== 0) return;
      stdout.pause();
      setTimeout(() => stdout.resume(), 20);
    });
    const ended = new Promise((resolve) => stdout.once('end', resolve));
    assert.equal(await h.exited, 0);
    await ended;
    assertEveryLine(records(Buffer.concat(chunks)), count, 100, 'stdout');
    const files = readdirSync(join(dir, 'logs'));
    assertEveryLine(
      files.flatMap((file) => records(readFileSync(join(dir, 'logs', file)))),
      count,
      100,
      'the file',
    );
  });

  test('raw mode passes the bytes through unchanged', async () => {
    const dir = makeTempDir();
    const payload = join(dir, 'payload.bin');
    // random bytes: newlines anywhere, invalid UTF-8, CRs, lines far over 64 KiB, no final newline
    const script = `
      const { randomBytes } = require('node:crypto');
      const parts = [randomBytes(300000), Buffer.from('\\n\\r\\n'), Buffer.alloc(200000, 0xe2), randomBytes(1000)];
      const all = Buffer.concat(parts);
      require('node:fs').writeFileSync(${JSON.stringify(payload)}, all);
      let at = 0;
      while (at < all.length) at += require('node:fs').writeSync(1, all, at, Math.min(7919, all.length - at));
    `;
    // --level warn: the host's own info records stay out of the byte stream
    const h = startHost(['--mode', 'raw', '--level', 'warn'], [process.execPath, '-e', script]);
    const [output, code] = await Promise.all([collect(h.child.stdout!), h.exited]);
    assert.equal(code, 0);
    const expected = readFileSync(payload);
    assert.equal(output.length, expected.length);
    assert.ok(output.equals(expected), 'byte-exact');
  });

  // A burst written at once fills the component's pipe: the relay then moves whole lines with
  // splice(2) and reads the bytes through tee(2) (native/relay.c), on each kind of stdout a host
  // may have. A file opened to append takes no splice (EINVAL): the relay writes instead.
  for (const destination of ['socket', 'pipe', 'file opened to append'] as const) {
    test(`raw mode, a burst on a ${destination}: the bytes pass unchanged`, async () => {
      const dir = makeTempDir();
      const payload = join(dir, 'payload.bin');
      // 8 MB: numbered lines, then random bytes (newlines anywhere, invalid UTF-8, lines far over
      // 64 KiB), written in one go; then a partial line, printed a moment later, with no newline
      const script = `
        const { randomBytes } = require('node:crypto');
        const { appendFileSync, writeFileSync, writeSync } = require('node:fs');
        let lines = '';
        for (let i = 0; i < 40000; i++) lines += 'line ' + String(i).padStart(7, '0') + ' ' + 'é'.repeat(40) + '\\n';
        const all = Buffer.concat([Buffer.from(lines), randomBytes(2500000), Buffer.alloc(300000, 0xe2), randomBytes(2500000)]);
        const last = Buffer.from('\\nthe end, without a newline');
        writeFileSync(${JSON.stringify(payload)}, Buffer.concat([all, last]));
        for (let at = 0; at < all.length; ) at += writeSync(1, all, at);
        setTimeout(() => { for (let at = 0; at < last.length; ) at += writeSync(1, last, at); }, 50);
      `;
      const command = [process.execPath, '-e', script];
      const hostArgs = ['--mode', 'raw', '--level', 'warn'];
      let output: Buffer;
      if (destination === 'socket') {
        const h = startHost(hostArgs, command);
        const [received, code] = await Promise.all([collect(h.child.stdout!), h.exited]);
        assert.equal(code, 0);
        output = received;
      } else if (destination === 'pipe') {
        const [readFd, writeFd] = loadNative().makePipe();
        const h = startHost(hostArgs, command, writeFd);
        closeSync(writeFd);
        const [received, code] = await Promise.all([collect(createReadStream('', { fd: readFd })), h.exited]);
        assert.equal(code, 0);
        output = received;
      } else {
        const file = join(dir, 'stdout.log');
        writeFileSync(file, 'before\n');
        const fd = openSync(file, 'a');
        const h = startHost(hostArgs, command, fd);
        closeSync(fd);
        assert.equal(await h.exited, 0);
        const all = readFileSync(file);
        assert.equal(all.subarray(0, 7).toString(), 'before\n');
        output = all.subarray(7);
      }
      const expected = readFileSync(payload);
      assert.equal(output.length, expected.length);
      assert.ok(output.equals(expected), 'byte-exact');
    });
  }

  test('<log> adds records to logs/Supervisor-YYYY-MM-DD.log', async () => {
    const dir = makeTempDir();
    const configured = join(dir, 'logs/Supervisor.log');
    const h = startHost(
      ['--file', configured, '--component', 'ps'],
      [process.execPath, numberedLines, '--count', '1000', '--size', '50'],
    );
    const [output] = await Promise.all([collect(h.child.stdout!), h.exited]);
    const today = `Supervisor-${formatDay(new Date())}.log`;
    const files = readdirSync(join(dir, 'logs'));
    // a run across midnight may have started yesterday's file as well
    assert.ok(files.includes(today), `files: ${files.join(', ')}`);
    const inFile = files.flatMap((file) => records(readFileSync(join(dir, 'logs', file))));
    assert.deepEqual(
      inFile.filter((r) => r.component === 'ps').map((r) => r.msg),
      Array.from({ length: 1000 }, (_, i) => numbered(i + 1, 50)),
    );
    assert.equal(inFile.at(-1)!.msg, 'child exited');
    assert.deepEqual(inFile, records(output), 'the file holds the same records as stdout');
  });

  // raw: 20 MB written at once fill the component's pipe, so the relay is splicing when the
  // reader goes (splice then fails with EPIPE, and what is left is read out of the pipe)
  for (const mode of ['json', 'raw'] as const) {
    test(`a reader that goes away does not take the host down (${mode})`, async () => {
      const h = startHost(
        ['--mode', mode],
        [process.execPath, numberedLines, '--count', '200000', '--size', '100'],
      );
      await new Promise((resolve) => h.child.stdout!.once('data', resolve));
      h.child.stdout!.destroy();
      assert.equal(await h.exited, 0);
    });
  }
});
