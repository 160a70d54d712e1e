// Running a program as PID 1 of a new PID namespace (unshare --pid --fork --mount-proc, root),
// the orphan-storm fixture, and looking into the namespace from outside.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.js';
import { collectLines, killGroup, parseRecords } from './processes.js';
import { waitFor } from './wait.js';

export const reaperHostPath = join(repoRoot, 'dist/test/fixtures/reaper-host.js');

/** argv that runs the reaper-host fixture under this Node */
export function reaperHost(flags: string[], command: string[]): string[] {
  return [process.execPath, reaperHostPath, ...flags, '--', ...command];
}

/**
 * Compiles test/fixtures/orphan-storm.c (once; again when the source is newer) and returns the
 * binary's path. Written under a temporary name and renamed, so concurrent test files agree.
 */
export function orphanStormPath(): string {
  const source = join(repoRoot, 'test/fixtures/orphan-storm.c');
  const binary = join(repoRoot, 'dist/test/fixtures/orphan-storm');
  if (existsSync(binary) && statSync(binary).mtimeMs >= statSync(source).mtimeMs) return binary;
  const temporary = `${binary}.${process.pid}.tmp`;
  execFileSync('cc', ['-O2', '-Wall', '-o', temporary, source], { stdio: 'inherit' });
  renameSync(temporary, binary);
  return binary;
}

export interface NamespaceRun {
  child: ChildProcess;
  /** pid of the unshare process (outside the namespace); its child is the namespace's PID 1 */
  pid: number;
  stdout: string[];
  stderr: string[];
  exited: Promise<number>;
  records(): Array<Record<string, unknown>>;
  waitForRecord(
    predicate: (r: Record<string, unknown>) => boolean,
    timeout?: number,
    message?: string,
  ): Promise<Record<string, unknown>>;
  /** writes one line to the namespace PID 1's stdin (which the storm shares) */
  send(line: string): void;
  kill(): void;
}

const running = new Set<NamespaceRun>();

/** Starts `command` as PID 1 of a fresh PID namespace, in a process group of its own. */
export function startInNamespace(command: string[]): NamespaceRun {
  const child = spawn('unshare', ['--pid', '--fork', '--mount-proc', ...command], {
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  collectLines(child.stdout!, stdout);
  collectLines(child.stderr!, stderr);
  const exited = new Promise<number>((resolve) => {
    child.once('close', (code, signal) => resolve(code ?? (signal ? 128 : 0)));
  });
  child.stdin!.on('error', () => {
    // the namespace ended before it read everything: nothing to tell
  });
  const records = () => parseRecords(stdout);
  const run: NamespaceRun = {
    child,
    pid: child.pid!,
    stdout,
    stderr,
    exited,
    records,
    waitForRecord: (predicate, timeout = 30_000, message) =>
      waitFor(() => records().find(predicate), {
        timeout,
        message: `${message ?? predicate.toString()}\nstdout:\n${stdout.join('\n')}\nstderr:\n${stderr.join('\n')}`,
      }),
    send: (line) => {
      child.stdin!.write(`${line}\n`);
    },
    // SIGKILL to the group reaches unshare and the namespace's PID 1, and the kernel then
    // kills everything else in the namespace.
    kill: () => {
      killGroup(child.pid!);
      running.delete(run);
    },
  };
  running.add(run);
  return run;
}

export function killAllNamespaces(): void {
  for (const run of running) run.kill();
}

interface ProcEntry {
  pid: number;
  ppid: number;
  state: string;
}

function processTable(): ProcEntry[] {
  const table: ProcEntry[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      table.push({ pid: Number(entry), state: fields[0] ?? '', ppid: Number(fields[1]) });
    } catch {
      // exited while we looked
    }
  }
  return table;
}

/**
 * Every process below `rootPid` (from this, the outer, namespace): all of a PID namespace when
 * rootPid is the unshare that made it, since orphans there are reparented inside it.
 */
export function descendants(rootPid: number): ProcEntry[] {
  const table = processTable();
  const byParent = new Map<number, ProcEntry[]>();
  for (const entry of table) {
    const list = byParent.get(entry.ppid) ?? [];
    list.push(entry);
    byParent.set(entry.ppid, list);
  }
  const found: ProcEntry[] = [];
  const queue = [rootPid];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    for (const entry of byParent.get(pid) ?? []) {
      found.push(entry);
      queue.push(entry.pid);
    }
  }
  return found;
}

/** the namespace's PID 1 as seen from outside (the one child of unshare), once it exists */
export function namespacePid1(unsharePid: number): number | undefined {
  return descendants(unsharePid)[0]?.pid;
}

/** zombies in the namespace that `unsharePid` made */
export function namespaceZombies(unsharePid: number): number {
  return descendants(unsharePid).filter((entry) => entry.state === 'Z').length;
}
