// Components' stdout and stderr (src/process/output-pipe.ts): large pipes read into one shared
// buffer. Real children, real pipes: each pipe's handler gets exactly its own bytes although
// they share the buffer, a child can print a whole read's worth before anyone reads, and pausing
// holds the child back.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
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

/** where in the kernel the process sleeps */
const wchan = (pid: number) => readFileSync(`/proc/${pid}/wchan`, 'utf8');

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

test('a child prints a whole read (256 KiB) before anyone reads, and a paused pipe holds it back', async () => {
  // nobody reads yet: with the kernel's 64 KiB pipe, head would block and never exit
  const child = await start({ file: '/usr/bin/head', args: ['-c', String(OUTPUT_READ_SIZE), '/dev/zero'] });
  let status: unknown;
  void child.exited.then((exit) => {
    status = exit;
  });
  await waitFor(() => status !== undefined, { timeout: 10_000, message: 'it wrote everything and exited' });
  assert.deepEqual(status, { code: 0, signal: null });
  const bytes = await collect(child.pipes.get(1) as OutputPipe);
  assert.equal(bytes.length, OUTPUT_READ_SIZE);

  // paused: the child blocks on a full pipe, and resumes when we read again
  const writer = await start({
    file: '/usr/bin/head',
    args: ['-c', String(4 * OUTPUT_READ_SIZE), '/dev/zero'],
  });
  const pipe = writer.pipes.get(1) as OutputPipe;
  let received = 0;
  pipe.onChunk((chunk) => {
    received += chunk.length;
    pipe.pause();
  });
  await waitFor(() => received > 0, { message: 'a first chunk' });
  const held = received;
  // the child fills the pipe and sleeps in the kernel's pipe write until we read again
  await waitFor(() => /pipe_write/.test(wchan(writer.pid)), {
    message: 'the child blocked on the full pipe',
  });
  assert.equal(received, held, 'nothing read while paused');
  const done = new Promise((resolve) => pipe.once('close', resolve));
  pipe.onChunk((chunk) => {
    received += chunk.length;
  });
  pipe.resume();
  await done;
  assert.equal(received, 4 * OUTPUT_READ_SIZE);
  assert.deepEqual(await writer.exited, { code: 0, signal: null });
});
