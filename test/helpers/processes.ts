// Running the real CLI in tests, and making sure nothing a test started outlives it.
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { cliPath } from './paths.js';
import { waitFor } from './wait.js';

export interface RunningCli {
  child: ChildProcess;
  pid: number;
  /** every stdout line so far */
  stdout: string[];
  /** every stderr line so far */
  stderr: string[];
  /** resolves with the exit code (or 128+signal) */
  exited: Promise<number>;
  exitCode(): number | undefined;
  /** stdout lines parsed as JSON records (non-JSON lines skipped) */
  records(): Array<Record<string, unknown>>;
  waitForRecord(
    predicate: (r: Record<string, unknown>) => boolean,
    timeout?: number,
  ): Promise<Record<string, unknown>>;
  /** SIGKILL the CLI's process group and the process group of every component it logged as started */
  kill(): void;
}

const started = new Set<RunningCli>();

/**
 * Starts `node dist/src/cli/main.cjs ARGS` in its own process group.
 * `prefix` runs it under another program (e.g. ['unshare', '--pid', '--fork', '--mount-proc']).
 */
export function runCli(
  args: string[],
  options: {
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    prefix?: string[];
    asInstalled?: boolean;
    /** an installed copy's main.cjs to run, as installed, instead of the checkout's */
    bin?: string;
  } = {},
): RunningCli {
  // asInstalled: through the bin's shell line, as users and the image run it
  const program = options.bin ? [options.bin] : options.asInstalled ? [cliPath] : [process.execPath, cliPath];
  const command = [...(options.prefix ?? []), ...program, ...args];
  const child = spawn(command[0]!, command.slice(1), {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  collectLines(child.stdout!, stdout);
  collectLines(child.stderr!, stderr);
  let code: number | undefined;
  const exited = new Promise<number>((resolve) => {
    child.once('close', (exitCode, signal) => {
      code = exitCode ?? 128 + signalNumber(signal);
      resolve(code);
    });
  });
  const handle: RunningCli = {
    child,
    pid: child.pid!,
    stdout,
    stderr,
    exited,
    exitCode: () => code,
    records: () => parseRecords(stdout),
    waitForRecord: (predicate, timeout = 10_000) =>
      waitFor(() => parseRecords(stdout).find(predicate), {
        timeout,
        message: `a log record matching ${predicate.toString()}`,
      }),
    kill: () => {
      // components run in process groups of their own, each led by a child of the supervisor: kill
      // the groups of its children as they are now. Not by the pids its log once named: after a
      // crash loop those numbers belong to someone else (pid_max is 32768). If the supervisor is
      // already gone, its parent-death watchdog (or, as PID 1, the kernel) took them with it.
      for (const pid of childrenOf(child.pid!)) killGroup(pid);
      killGroup(child.pid!);
      started.delete(handle);
    },
  };
  started.add(handle);
  return handle;
}

/** Kills every CLI started by runCli that a test left behind (call in an after() hook). */
export function killAllStarted(): void {
  for (const handle of started) handle.kill();
}

export function killGroup(pgid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

/** the live children of `parent`, from /proc */
export function childrenOf(parent: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent)
        children.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return children;
}

/** the state letter of /proc/PID/stat (R, S, D, Z…), or undefined when there is no such process */
export function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2];
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const state = processState(pid);
  return state !== undefined && state !== 'Z';
}

/** pids of live (non-zombie) processes whose process group is `pgid` */
export function processGroupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') members.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return members;
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal ? constants.signals[signal] : 0;
}

/** appends each line of `stream` to `into` as it arrives */
export function collectLines(stream: NodeJS.ReadableStream, into: string[]): void {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    into.push(...parts);
  });
  stream.on('end', () => {
    if (partial) into.push(partial);
  });
}

/** the lines that are JSON objects, parsed (log records) */
export function parseRecords(lines: string[]): Array<Record<string, unknown>> {
  const records: Array<Record<string, unknown>> = [];
  for (const line of lines) {
    if (!line.startsWith('{')) continue;
    try {
      records.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a raw line that happens to start with a brace
    }
  }
  return records;
}
