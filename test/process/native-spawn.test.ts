// Children started by the addon (native/spawn.c: vfork, then libuv's steps in the child), which
// spawnProcess uses while the reaper runs (it collects their exits): real processes, checked from
// /proc as a user would, and every way a start can fail (design.md §3 rev. 2).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { type Reaper, startReaper } from '../../src/process/reaper.js';
import { nodeOwnedPids, SpawnError, type SpawnSpec, spawnProcess } from '../../src/process/spawn.js';
import { makeTempDir, repoRoot } from '../helpers/paths.js';
import { killGroup } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const isRoot = process.getuid?.() === 0;
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
const groups: number[] = [];
let reaper: Reaper;

before(() => {
  reaper = startReaper();
});
after(() => {
  reaper.stop();
  for (const pgid of groups) killGroup(pgid);
});

function start(spec: Partial<SpawnSpec> & { file: string }) {
  return spawnProcess({ args: [], env, stdio: ['ignore', 'pipe', 'pipe'], newGroup: true, ...spec }).then(
    (spawned) => {
      groups.push(spawned.pid);
      return spawned;
    },
  );
}

async function text(stream: Readable | undefined): Promise<string> {
  assert.ok(stream, 'a pipe');
  let out = '';
  for await (const chunk of stream) out += String(chunk);
  return out;
}

/** rejects with the SpawnError */
async function failure(spec: Partial<SpawnSpec> & { file: string }): Promise<SpawnError> {
  const error = await start(spec).then(
    () => assert.fail(`${spec.file} started`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof SpawnError, String(error));
  return error;
}

const ownFds = () => readdirSync('/proc/self/fd').length;

/** children of ours that are zombies: an exit nobody collected */
function zombieChildren(): number[] {
  return readdirSync('/proc/self/task')
    .flatMap((task) => readFileSync(`/proc/self/task/${task}/children`, 'utf8').trim().split(/\s+/))
    .filter(Boolean)
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z');
      } catch {
        return false;
      }
    });
}

const statusField = (pid: number, name: string) =>
  new RegExp(`^${name}:[ \\t]*(.*)$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]?.trim();

/**
 * Our descriptors above 2 that are not close-on-exec: any program we execute gets them, whoever
 * starts it (what runs the tests may hand us one). Ours all are close-on-exec.
 */
function inheritable(): string[] {
  return readdirSync('/proc/self/fd').filter((fd) => {
    if (Number(fd) <= 2) return false;
    try {
      const flags = /^flags:\s*([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
      return flags !== undefined && (Number.parseInt(flags, 8) & 0o2000000) === 0;
    } catch {
      return false; // the directory listing's own descriptor, closed by now
    }
  });
}

describe('a child started by the addon', () => {
  test('leads a session of its own, in the given directory with exactly the given environment, writes to real pipes, and its exit comes once, not as an orphan', async () => {
    const dir = makeTempDir('s7sup-native-');
    const reapedBefore = reaper.total;
    const child = await start({
      file: '/bin/sh',
      args: [
        '-c',
        'read -r s < /proc/self/stat; echo "$s"; pwd -P; echo to-dev-stdout > /dev/stdout; echo oops >&2; exit 7',
      ],
      cwd: dir,
    });
    assert.equal(nodeOwnedPids().has(child.pid), false, 'libuv does not own it');
    const [out, err, status] = await Promise.all([
      text(child.pipes.get(1)),
      text(child.pipes.get(2)),
      child.exited,
    ]);
    const [statLine = '', cwd, devStdout] = out.trim().split('\n');
    const fields = statLine.slice(statLine.lastIndexOf(')') + 2).split(' ');
    assert.equal(Number(fields[1]), process.pid, 'our child');
    assert.equal(Number(fields[2]), child.pid, 'its own process group');
    assert.equal(Number(fields[3]), child.pid, 'its own session');
    assert.equal(cwd, realpathSync(dir));
    assert.equal(devStdout, 'to-dev-stdout', '/dev/stdout opens: a pipe, not a socket');
    assert.equal(err, 'oops\n');
    assert.deepEqual(status, { code: 7, signal: null });
    assert.equal(reaper.total, reapedBefore, 'its exit is not counted as an orphan');
    assert.deepEqual(zombieChildren(), []);

    const printed = await start({ file: '/usr/bin/env', env: { ...env, S7_ONE: 'a b', S7_GONE: undefined } });
    const lines = (await text(printed.pipes.get(1))).trim().split('\n').sort();
    assert.deepEqual(lines, [`PATH=${env.PATH}`, 'S7_ONE=a b']);
    assert.deepEqual(await printed.exited, { code: 0, signal: null });

    const killed = await start({ file: '/bin/sh', args: ['-c', 'kill -TERM $$'] });
    assert.deepEqual(await killed.exited, { code: null, signal: 'SIGTERM' });
  });

  test('a command without a slash is found in the PATH of its own environment', async () => {
    const dir = makeTempDir('s7sup-native-path-');
    writeFileSync(join(dir, 's7-native-hello'), '#!/bin/sh\necho hello from $0\n');
    chmodSync(join(dir, 's7-native-hello'), 0o755);
    const child = await start({ file: 's7-native-hello', env: { PATH: `/nonexistent:${dir}` } });
    assert.equal(await text(child.pipes.get(1)), `hello from ${join(dir, 's7-native-hello')}\n`);
    assert.deepEqual(await child.exited, { code: 0, signal: null });
  });

  test('has default signal dispositions, an empty mask, and no descriptor but its stdio and its readiness pipe', async () => {
    const fdsBefore = ownFds();
    // Node ignores SIGPIPE (and the test runner may block or catch others): none of it may reach it
    const child = await start({
      file: '/bin/sleep',
      args: ['30'],
      stdio: ['ignore', 'pipe', 'pipe', 'ignore', 'ignore', 'pipe'],
    });
    // asleep, not only executed: right after exec the dynamic loader still opens its libraries (as
    // fd 3, the lowest free one) and closes them again; it never waits interruptibly
    await waitFor(
      () => statusField(child.pid, 'Name') === 'sleep' && statusField(child.pid, 'State')?.startsWith('S'),
      { message: 'sleep executed and asleep' },
    );
    const passedOn = inheritable().filter((fd) => !['3', '4', '5'].includes(fd));
    assert.deepEqual(readdirSync(`/proc/${child.pid}/fd`).sort(), ['0', '1', '2', '5', ...passedOn].sort());
    assert.equal(readlinkSync(`/proc/${child.pid}/fd/0`), '/dev/null');
    assert.match(readlinkSync(`/proc/${child.pid}/fd/5`), /^pipe:/);
    assert.equal(statusField(child.pid, 'SigBlk'), '0000000000000000');
    assert.equal(statusField(child.pid, 'SigIgn'), '0000000000000000');
    assert.equal(statusField(child.pid, 'SigCgt'), '0000000000000000');
    // SCHED_OTHER (0), not the SCHED_BATCH we borrow while it starts (policy: field 41 of stat)
    const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
    assert.equal(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[38], '0', 'the usual scheduling policy');
    process.kill(child.pid, 'SIGKILL');
    assert.deepEqual(await child.exited, { code: null, signal: 'SIGKILL' });
    for (const pipe of child.pipes.values()) pipe.destroy();
    await waitFor(() => ownFds() === fdsBefore, { message: `${fdsBefore} descriptors again (${ownFds()})` });
  });

  test('a slot given as ignore is closed in the child, even where we hold a descriptor that is not close-on-exec', () => {
    // Node marks the low descriptors it inherits close-on-exec, not the others: a Node started by
    // a shell with fd 50 open holds it as a parent may hand s7supervisor one. It starts a child by
    // the addon with slots 3-50 ignored and 51 a pipe.
    const spawnModule = join(repoRoot, 'dist/src/process/spawn.js');
    const reaperModule = join(repoRoot, 'dist/src/process/reaper.js');
    const script = `
      const { readFileSync } = await import('node:fs');
      const { spawnProcess } = await import(${JSON.stringify(spawnModule)});
      const { startReaper } = await import(${JSON.stringify(reaperModule)});
      const reaper = startReaper();
      const flags = /^flags:\\s*([0-7]+)/m.exec(readFileSync('/proc/self/fdinfo/50', 'utf8'))[1];
      const stdio = Array.from({ length: 52 }, (_, fd) => (fd === 1 || fd === 51 ? 'pipe' : 'ignore'));
      const child = await spawnProcess({
        file: '/bin/sh',
        args: ['-c', 'ls /proc/self/fd'],
        env: { PATH: process.env.PATH },
        stdio,
        newGroup: true,
      });
      let out = '';
      for await (const chunk of child.pipes.get(1)) out += chunk;
      await child.exited;
      reaper.stop();
      process.stdout.write(JSON.stringify({ flags, fds: out.trim().split('\\n') }));
      process.exit(0);
    `;
    const out = execFileSync(
      'bash',
      ['-c', 'exec "$0" --input-type=module -e "$1" 50</dev/null', process.execPath, script],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    const { flags, fds } = JSON.parse(out) as { flags: string; fds: string[] };
    assert.equal(Number.parseInt(flags, 8) & 0o2000000, 0, 'the parent holds fd 50 without close-on-exec');
    assert.ok(
      ['0', '1', '2', '51'].every((fd) => fds.includes(fd)),
      `the child's fds: ${fds.join(' ')}`,
    );
    assert.ok(!fds.includes('50'), `fd 50 is not passed on: the child's fds are ${fds.join(' ')}`);
  });

  test('cannot start: a missing command, a directory of the PATH without it, a file that is not executable, one that is no program, a missing working directory: fatal, reaped, nothing left open', async () => {
    const fdsBefore = ownFds();
    const dir = makeTempDir('s7sup-native-fail-');
    const plain = join(dir, 'plain');
    writeFileSync(plain, '#!/bin/sh\nexit 0\n');
    chmodSync(plain, 0o644);
    const noProgram = join(dir, 'no-program');
    writeFileSync(noProgram, 'echo a shell script without its #! line\n');
    chmodSync(noProgram, 0o755);

    const missing = await failure({ file: '/nonexistent/s7/bin' });
    assert.equal(missing.code, 'ENOENT');
    assert.equal(missing.fatal, true);
    assert.equal(missing.message, 'spawn /nonexistent/s7/bin ENOENT', 'worded as child_process words it');

    const notInPath = await failure({ file: 's7-no-such-command', env: { PATH: dir } });
    assert.deepEqual([notInPath.code, notInPath.fatal], ['ENOENT', true]);

    // no x bit at all: EACCES even for root
    const denied = await failure({ file: plain });
    assert.deepEqual([denied.code, denied.fatal, denied.message], ['EACCES', true, `spawn ${plain} EACCES`]);

    const notAProgram = await failure({ file: noProgram });
    assert.deepEqual([notAProgram.code, notAProgram.fatal], ['ENOEXEC', true]);

    const noDir = await failure({ file: '/bin/true', cwd: join(dir, 'gone') });
    assert.deepEqual([noDir.code, noDir.fatal], ['ENOENT', true]);

    assert.deepEqual(zombieChildren(), [], 'each failed child was reaped at once');
    assert.equal(ownFds(), fdsBefore, 'no descriptor left open');
  });

  test('a <user>: the child switches to its uid and gid, without supplementary groups; the supervisor stays root', {
    skip: !isRoot && 'switching users needs root',
  }, async () => {
    const child = await start({ file: '/bin/sleep', args: ['30'], uid: 65534, gid: 65534 });
    await waitFor(() => statusField(child.pid, 'Name') === 'sleep', { message: 'sleep executed' });
    assert.equal(statusField(child.pid, 'Uid'), '65534\t65534\t65534\t65534');
    assert.equal(statusField(child.pid, 'Gid'), '65534\t65534\t65534\t65534');
    assert.equal(statusField(child.pid, 'Groups'), '');
    // the child shared our memory until it executed: a setuid() of the C library there would
    // have switched every thread of ours (it broadcasts to the threads it knows)
    for (const task of readdirSync('/proc/self/task'))
      assert.equal(statusField(Number(task), 'Uid'), '0\t0\t0\t0', `thread ${task} is still root`);
    assert.equal(process.getuid?.(), 0);
    process.kill(child.pid, 'SIGKILL');
    assert.deepEqual(await child.exited, { code: null, signal: 'SIGKILL' });
  });

  test('out of descriptors (RLIMIT_NOFILE lowered with prlimit): EMFILE, a shortage (not fatal), and nothing leaks', async () => {
    const fdsBefore = ownFds();
    const limit = Math.max(...readdirSync('/proc/self/fd').map(Number)) + 32;
    const soft = () =>
      Number(/^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1]);
    const original = soft();
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${limit}:`]);
    const fillers: number[] = [];
    const outcomes: string[] = [];
    try {
      assert.equal(soft(), limit);
      for (let free = 0; free <= 10; free++) {
        // every descriptor number below the limit in use, then `free` of them given back
        for (;;) {
          try {
            fillers.push(openSync('/dev/null', 'r'));
          } catch {
            break;
          }
        }
        for (let i = 0; i < free; i++) closeSync(fillers.pop()!);
        const outcome = await start({ file: '/bin/true' }).then(
          async (child) => {
            const status = await child.exited;
            for (const pipe of child.pipes.values()) pipe.destroy();
            return `started, exit ${status.code}`;
          },
          (error: SpawnError) => {
            assert.ok(error instanceof SpawnError, String(error));
            assert.equal(error.fatal, false, `${error.message}: a shortage`);
            return `${error.code}: ${error.message}`;
          },
        );
        outcomes.push(`${free} free: ${outcome}`);
        // the pipes of a run close on their own time: wait until they did before filling again
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      for (const fd of fillers.splice(0)) closeSync(fd);
      execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${original}:`]);
    }
    const report = outcomes.join('\n');
    assert.match(outcomes[0]!, /EMFILE/, report);
    // the addon's own steps run out too (its error pipe in the parent, /dev/null in the child):
    // said as child_process says it
    assert.ok(
      outcomes.some((o) => o.endsWith('EMFILE: spawn /bin/true EMFILE')),
      `an EMFILE from the addon itself\n${report}`,
    );
    assert.match(outcomes.at(-1)!, /started, exit 0/, report);
    await waitFor(() => ownFds() === fdsBefore, {
      message: `${fdsBefore} descriptors again (${ownFds()})\n${report}`,
    });
    assert.deepEqual(zombieChildren(), []);
  });

  test('where a seccomp policy refuses vfork (EPERM), the addon forks instead: the same start and errors', {
    skip: process.arch !== 'x64' && 'vfork is a system call of its own on x86-64 only',
  }, () => {
    const noVfork = join(makeTempDir('s7sup-no-vfork-'), 'no-vfork');
    execFileSync('cc', ['-O2', '-Wall', '-o', noVfork, join(repoRoot, 'test/fixtures/no-vfork.c')]);
    const script = `
      import { startReaper } from ${JSON.stringify(join(repoRoot, 'dist/src/process/reaper.js'))};
      import { nodeOwnedPids, spawnProcess } from ${JSON.stringify(join(repoRoot, 'dist/src/process/spawn.js'))};
      const reaper = startReaper();
      const spec = { args: ['-c', 'exit 5'], env: process.env, stdio: ['ignore', 'ignore', 'ignore'], newGroup: true };
      const child = await spawnProcess({ file: '/bin/sh', ...spec });
      const status = await child.exited;
      const failed = await spawnProcess({ file: '/nonexistent/s7', ...spec }).catch((e) => [e.code, e.fatal]);
      reaper.stop();
      console.log(JSON.stringify({ byTheAddon: !nodeOwnedPids().has(child.pid), status, failed }));`;
    const out = execFileSync(noVfork, [process.execPath, '--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    assert.deepEqual(JSON.parse(out), {
      byTheAddon: true,
      status: { code: 5, signal: null },
      failed: ['ENOENT', true],
    });
  });

  test('without the reaper, node:child_process starts it and libuv collects its exit', async () => {
    reaper.stop();
    try {
      const child = await start({ file: '/bin/sh', args: ['-c', 'exit 3'] });
      assert.equal(nodeOwnedPids().has(child.pid), true);
      assert.deepEqual(await child.exited, { code: 3, signal: null });
    } finally {
      reaper = startReaper();
    }
    const again = await start({ file: '/bin/sh', args: ['-c', 'exit 4'] });
    assert.equal(nodeOwnedPids().has(again.pid), false, 'the addon again once the reaper runs');
    assert.deepEqual(await again.exited, { code: 4, signal: null });
  });
});
