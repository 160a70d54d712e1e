// Components' stdout and stderr (src/process/output-pipe.ts): pipes read into one shared buffer.
// Real children, real pipes: each pipe's handler gets exactly its own bytes although they share
// the buffer, so does a pipe read as a plain stream, a pipe its component fills grows, and pausing
// holds the child back.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { after, test } from 'node:test';
import { OUTPUT_READ_SIZE, OutputPipe } from '../../src/process/output-pipe.js';
import { type SpawnSpec, spawnProcess } from '../../src/process/spawn.js';
import { killGroup } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
const groups: number[] = [];
after(() => {
  for (const pgid of groups) killGroup(pgid);
});

async function start(spec: Partial<SpawnSpec> & { file: string }) {
  const spawned = await spawnProcess({
    args: [],
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    newGroup: true,
    ...spec,
  });
  groups.push(spawned.pid);
  return spawned;
}

/** everything a pipe's handler is given, copied as the handler must (the buffer is lent) */
function collect(pipe: OutputPipe): Promise<Buffer> {
  const chunks: Buffer[] = [];
  pipe.onChunk((bytes) => chunks.push(Buffer.from(bytes)));
  return new Promise((resolve) => pipe.once('close', () => resolve(Buffer.concat(chunks))));
}

/**
 * the process sleeps writing into a full pipe: its wait channel, where the kernel shows it (a
 * hardened kernel shows "0": then, asleep in write(2), system call 1 on x86-64 and 64 on arm64)
 */
function blockedOnPipe(pid: number): boolean {
  const wchan = readFileSync(`/proc/${pid}/wchan`, 'utf8');
  if (wchan !== '0' && wchan !== '') return /pipe_write/.test(wchan);
  const call = readFileSync(`/proc/${pid}/syscall`, 'utf8').split(' ')[0];
  return call === (process.arch === 'arm64' ? '64' : '1');
}

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

test('stdout and stderr of two children at once: each handler gets exactly its own bytes, through one shared buffer', async () => {
  // four streams of different bytes, several megabytes each, read interleaved
  const script = (seed: number) =>
    `for i in $(seq 1 40000); do echo "${seed} $i abcdefghijklmnopqrstuvwxyz"; echo "${seed} err $i" >&2; done`;
  const children = await Promise.all(
    [1, 2].map((seed) => start({ file: '/bin/sh', args: ['-c', script(seed)] })),
  );
  const pipes = children.flatMap((child) => [child.pipes.get(1), child.pipes.get(2)]);
  assert.ok(pipes.every((pipe) => pipe instanceof OutputPipe));
  const outputs = await Promise.all(pipes.map((pipe) => collect(pipe as OutputPipe)));
  for (const [i, seed] of [1, 2].entries()) {
    let out = '';
    let err = '';
    for (let n = 1; n <= 40000; n++) {
      out += `${seed} ${n} abcdefghijklmnopqrstuvwxyz\n`;
      err += `${seed} err ${n}\n`;
    }
    assert.equal(sha(outputs[2 * i]!), sha(Buffer.from(out)), `child ${seed}'s stdout`);
    assert.equal(sha(outputs[2 * i + 1]!), sha(Buffer.from(err)), `child ${seed}'s stderr`);
  }
  for (const child of children) assert.deepEqual(await child.exited, { code: 0, signal: null });
});

test('without a handler each pipe is an ordinary stream: two read at once through the shared buffer arrive intact', async () => {
  const script = (seed: number) =>
    `for i in $(seq 1 30000); do echo "${seed} $i ${'q'.repeat(seed * 7)}"; done`;
  const children = await Promise.all(
    [1, 2].map((seed) => start({ file: '/bin/sh', args: ['-c', script(seed)] })),
  );
  const read = async (stream: Readable | undefined) => {
    const chunks: Buffer[] = [];
    for await (const chunk of stream!) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  const outputs = await Promise.all(children.map((child) => read(child.pipes.get(1))));
  for (const [i, seed] of [1, 2].entries()) {
    let expected = '';
    for (let n = 1; n <= 30000; n++) expected += `${seed} ${n} ${'q'.repeat(seed * 7)}\n`;
    assert.equal(sha(outputs[i]!), sha(Buffer.from(expected)), `child ${seed}`);
  }
});

test('a pipe its component fills grows to a whole read (256 KiB); a paused pipe holds the child back', async () => {
  const writer = await start({
    file: '/usr/bin/head',
    args: ['-c', String(8 * OUTPUT_READ_SIZE), '/dev/zero'],
  });
  const pipe = writer.pipes.get(1) as OutputPipe;
  const sizes: number[] = [];
  let received = 0;
  pipe.onChunk((chunk) => {
    sizes.push(chunk.length);
    received += chunk.length;
    pipe.pause();
  });
  // each time: the child fills the pipe and sleeps in the kernel's pipe write until we read again
  const blocked = () => blockedOnPipe(writer.pid);
  for (let round = 0; round < 3; round++) {
    await waitFor(() => sizes.length === round + 1, { message: `read ${round + 1}` });
    await waitFor(blocked, { message: `the child blocked on the full pipe (${round + 1})` });
    assert.equal(sizes.length, round + 1, 'nothing read while paused');
    pipe.resume();
  }
  // the kernel's 64 KiB first; once it was full, the pipe holds (and a read takes) 256 KiB
  assert.equal(sizes[0], 64 * 1024);
  assert.equal(sizes[2], OUTPUT_READ_SIZE);
  const done = new Promise((resolve) => pipe.once('close', resolve));
  pipe.onChunk((chunk) => {
    received += chunk.length;
  });
  pipe.resume();
  await done;
  assert.equal(received, 8 * OUTPUT_READ_SIZE);
  assert.deepEqual(await writer.exited, { code: 0, signal: null });
});
