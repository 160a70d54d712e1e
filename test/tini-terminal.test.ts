// Tini mode on a terminal (design.md §5 rev. 2): when stdin is the supervisor's controlling
// terminal, the command gets it as its controlling terminal and runs as its foreground process
// group, so an interactive shell has job control: `tty` names the terminal, Ctrl-Z stops a job,
// `fg` and Ctrl-C end it, `exit 7` is the exit code. Driven through a real pseudo-terminal
// (test/fixtures/pty-run.py, Python's pty module, as `docker run -it` gives one), and the same
// session is run under Debian's tini as the baseline. Without a terminal nothing changes.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { cliPath, repoRoot } from './helpers/paths.js';
import { killAllStarted, runCli } from './helpers/processes.js';
import { waitFor } from './helpers/wait.js';

const driver = join(repoRoot, 'test/fixtures/pty-run.py');
const TINI = '/usr/bin/tini';

/** /proc/PID/stat after the command name: state, ppid, pgrp, session, tty_nr, tpgid... */
function stat(
  pid: number,
): { state: string; ppid: number; pgrp: number; session: number; tpgid: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return {
      state: f[0]!,
      ppid: Number(f[1]),
      pgrp: Number(f[2]),
      session: Number(f[3]),
      tpgid: Number(f[5]),
    };
  } catch {
    return undefined;
  }
}

/** every live process of session `sid` */
function sessionMembers(sid: number): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter((pid) => {
      const s = stat(pid);
      return s !== undefined && s.session === sid && s.state !== 'Z';
    });
}

/** children of `parent` running `comm` */
function childrenNamed(parent: number, comm: string): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter((pid) => {
      try {
        return stat(pid)?.ppid === parent && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm;
      } catch {
        return false;
      }
    });
}

interface Terminal {
  child: ChildProcess;
  /** pid of the program run on the terminal (the session leader) */
  leader: number;
  output(): string;
  /** waits until the output after `from` matches */
  expect(pattern: RegExp, from?: number, timeout?: number): Promise<RegExpMatchArray>;
  type(keys: string): void;
  exited: Promise<number>;
}

const terminals: Terminal[] = [];

/** pids whose parent is `parent` */
function childrenOf(parent: number): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter((pid) => stat(pid)?.ppid === parent);
}

afterEach(() => {
  // everything on the pseudo-terminal is in the leader's session, or (setsid --ctty) in the
  // session its child leads: kill each by pid
  for (const t of terminals.splice(0)) {
    const sessions = [t.leader, ...childrenOf(t.leader)];
    for (const pid of sessions.flatMap(sessionMembers)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    t.child.kill('SIGKILL');
  }
  killAllStarted();
});

async function onTerminal(command: string[]): Promise<Terminal> {
  const child = spawn('python3', [driver, ...command], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, TERM: 'dumb', PS1: 'PROMPT$ ', S7SUPERVISOR_CONTROL_TOKEN: '' },
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<number>((resolve) => child.once('close', (code) => resolve(code ?? -1)));
  const leader = await waitFor(() => Number(/pid (\d+)/.exec(err)?.[1]) || undefined, {
    message: 'the driver to start the command',
  });
  const terminal: Terminal = {
    child,
    leader,
    output: () => out,
    expect: async (pattern, from = 0, timeout = 15_000) => {
      try {
        return await waitFor(() => out.slice(from).match(pattern) ?? undefined, {
          timeout,
          message: `${pattern} on the terminal`,
        });
      } catch (error) {
        const said = error instanceof Error ? error.message : String(error);
        throw new Error(`${said}; it shows:\n${out.slice(from)}\n(the driver's stderr: ${err})`);
      }
    },
    type: (keys) => child.stdin!.write(keys),
    exited,
  };
  terminals.push(terminal);
  return terminal;
}

/**
 * The interactive session both tini and we must pass: returns the bash pid. `leader` is the
 * program on the terminal (the supervisor, or tini): bash must be in its session, lead its own
 * process group, and be the terminal's foreground group.
 */
async function jobControlSession(t: Terminal, options: { namespace?: boolean } = {}): Promise<void> {
  // a prompt of our own, told apart from the echo of the line that sets it
  t.type("PS1='READY''> '\n");
  const prompt = /READY> /;
  await t.expect(prompt);
  let mark = t.output().length;
  t.type('tty\n');
  await t.expect(/\/dev\/pts\/\d+/, mark);

  mark = t.output().length;
  t.type('read -r s < /proc/$$/stat; echo "STAT $$ $s"\n');
  // bash's own view (in a PID namespace: its pids): pid (comm) state ppid pgrp session tty tpgid
  const [, seen, ppid, pgrp, session, tpgid] = await t.expect(
    /STAT (\d+) \d+ \(bash\) \S (\d+) (\d+) (\d+) \d+ (-?\d+)/,
    mark,
  );
  assert.equal(pgrp, seen, 'bash leads its own process group');
  assert.equal(tpgid, seen, "bash's group is the terminal's foreground group");
  assert.notEqual(session, seen, 'not a session of its own (no setsid)');
  // the same from outside: in the session of the program on the terminal
  // the supervisor: the program on the terminal, or (PID 1 of a namespace) the child of unshare
  const supervisor = options.namespace ? childrenOf(t.leader)[0]! : t.leader;
  const [bash] = sessionMembers(supervisor).filter(
    (pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'bash',
  );
  assert.ok(bash, "bash is in the supervisor's session");
  assert.equal(stat(bash)?.pgrp, bash);
  if (!options.namespace) {
    assert.equal(Number(seen), bash);
    assert.equal(Number(ppid), t.leader, 'a child of the program on the terminal');
  }
  await t.expect(prompt, mark);

  // a job, stopped with Ctrl-Z
  mark = t.output().length;
  t.type('sleep 100\n');
  const [sleep] = await waitFor(
    () => {
      const found = childrenNamed(bash, 'sleep');
      return found.length === 1 && stat(found[0]!)?.tpgid === stat(found[0]!)?.pgrp ? found : undefined;
    },
    { message: 'sleep 100 in the foreground' },
  );
  t.type('\x1a');
  await t.expect(/Stopped\s+sleep 100/, mark);
  assert.equal(stat(sleep!)?.state, 'T', 'the job is stopped');
  await t.expect(prompt, mark);
  assert.equal(stat(bash)?.tpgid, bash, 'the terminal is back with the shell');

  // fg, then Ctrl-C ends it
  mark = t.output().length;
  t.type('fg\n');
  await t.expect(/sleep 100/, mark);
  await waitFor(() => stat(sleep!)?.state === 'S' && stat(sleep!)?.tpgid === sleep, {
    message: 'sleep running in the foreground again',
  });
  t.type('\x03');
  await waitFor(() => stat(sleep!) === undefined || stat(sleep!)?.state === 'Z', {
    message: 'sleep ended by Ctrl-C',
  });
  await t.expect(prompt, mark + 1);

  const text = t.output();
  assert.doesNotMatch(text, /no job control/);
  assert.doesNotMatch(text, /cannot set terminal process group/);
  t.type('exit 7\n');
}

test('run -- bash -i on a terminal: tty, job control (Ctrl-Z, fg, Ctrl-C), exit 7', async () => {
  const t = await onTerminal([
    process.execPath,
    cliPath,
    'run',
    '--port',
    '0',
    '--log-level',
    'debug',
    '--',
    'bash',
    '--norc',
    '--noprofile',
    '-i',
  ]);
  await jobControlSession(t);
  assert.equal(await t.exited, 7);
  // the terminal came back to the supervisor before it exited
  assert.match(t.output(), /the terminal is ours again/);
  assert.deepEqual(sessionMembers(t.leader), [], 'nothing is left on the terminal');
});

test('as PID 1 of its own PID namespace (docker run -it): the same session', async () => {
  // as runc does for `docker run -it`: PID 1 leads its own session, the terminal its controlling one
  const t = await onTerminal([
    'unshare',
    '--pid',
    '--fork',
    '--mount-proc',
    'setsid',
    '--ctty',
    process.execPath,
    cliPath,
    'run',
    '--port',
    '0',
    '--log-level',
    'debug',
    '--',
    'bash',
    '--norc',
    '--noprofile',
    '-i',
  ]);
  await t.expect(/running as PID 1/);
  await jobControlSession(t, { namespace: true });
  assert.equal(await t.exited, 7);
  assert.match(t.output(), /the terminal is ours again/);
});

test('on a terminal, a command that does not exist exits 127, one killed by a signal 128+N', async () => {
  const missing = await onTerminal([
    process.execPath,
    cliPath,
    'run',
    '--port',
    '0',
    '--',
    'no-such-command-s7',
  ]);
  assert.equal(await missing.exited, 127);
  assert.match(missing.output(), /cannot start component/);
  const killed = await onTerminal([
    process.execPath,
    cliPath,
    'run',
    '--port',
    '0',
    '--',
    'sh',
    '-c',
    'kill -TERM $$',
  ]);
  assert.equal(await killed.exited, 143);
});

test('the baseline: the same session under tini -- bash -i', {
  skip: !existsSync(TINI) && 'no tini',
}, async () => {
  const t = await onTerminal([TINI, '-s', '--', 'bash', '--norc', '--noprofile', '-i']);
  await jobControlSession(t);
  assert.equal(await t.exited, 7);
});

test('the command reads the terminal; the supervisor, in the background, writes to it without stopping', async () => {
  // `stty tostop`: a background process that writes to the terminal gets SIGTTOU, which would stop
  // it. The supervisor logs to the terminal (here: passing a USR1 on, at debug level) while the
  // command holds the terminal: it must not stop.
  const t = await onTerminal([
    process.execPath,
    cliPath,
    'run',
    '--port',
    '0',
    '--log-level',
    'debug',
    '--',
    'bash',
    '-c',
    'stty tostop; trap "echo GOT-USR1" USR1; echo READY; while :; do if read -r line; then echo "GOT $line"; [ "$line" = bye ] && break; fi; done',
  ]);
  // at the start of a line: the pretty log of the start shows the command, READY included
  await t.expect(/^READY\r?$/m);
  const mark = t.output().length;
  process.kill(t.leader, 'SIGUSR1');
  await t.expect(/GOT-USR1/, mark);
  await t.expect(/passing signal on/, mark);
  assert.notEqual(stat(t.leader)?.state, 'T', 'the supervisor is not stopped');
  t.type('hello\n');
  await t.expect(/GOT hello/, mark);
  t.type('bye\n');
  await t.expect(/GOT bye/, mark);
  assert.equal(await t.exited, 0);
});

test('without a terminal nothing changes: the command gets a session of its own', async () => {
  const run = runCli(['run', '--port', '0', '--', 'sh', '-c', 'cat /proc/$$/stat; sleep 100']);
  const line = await waitFor(() => run.stdout.find((l) => /^\d+ \(sh\)/.test(l)), {
    message: 'the stat line',
  });
  const fields = line.slice(line.lastIndexOf(')') + 2).split(' ');
  const pid = Number(line.split(' ')[0]);
  assert.equal(Number(fields[3]), pid, 'session of its own (setsid)');
  assert.equal(Number(fields[2]), pid, 'group of its own');
  process.kill(run.pid, 'SIGTERM');
  assert.equal(await run.exited, 143);
});
