// The other supervisors the benchmarks measure beside s7supervisor, in the same run on the same
// machine (installed from Debian by scripts/install-bench-deps.sh): tini, s6 (s6-svscan and one
// s6-supervise per service), runit (runsvdir and one runsv per service) and supervisord. Each is
// started supervising N copies of one command; `supervisionPids` tells which processes are the
// supervisor's (their CPU, memory and wake-ups are what is compared), as opposed to its children.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '../test/helpers/paths.js';

export type Baseline = 'tini' | 's6' | 'runit' | 'supervisord';
export const baselines: Baseline[] = ['tini', 's6', 'runit', 'supervisord'];

const programs: Record<Baseline, string> = {
  tini: 'tini',
  s6: 's6-svscan',
  runit: 'runsvdir',
  supervisord: 'supervisord',
};

/** the baselines whose program is installed here (the others are reported as missing) */
export function installedBaselines(): Baseline[] {
  return baselines.filter((b) => {
    try {
      execFileSync('sh', ['-c', `command -v ${programs[b]}`], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  });
}

export interface RunningBaseline {
  name: Baseline;
  /** the top process (in a process group of its own) */
  child: ChildProcess;
  /** pids of the supervisor's own processes now (not its children) */
  supervisionPids(): number[];
  stop(): Promise<void>;
}

const shQuote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** a service directory's run script: `exec` the command, as s6 and runit expect */
function runScript(command: string[]): string {
  return `#!/bin/sh\nexec ${command.map(shQuote).join(' ')}\n`;
}

/**
 * Starts `name` supervising `count` copies of `command` (tini takes one: it supervises a single
 * child). `prefix` runs the supervisor under another program (lifetime exec, for a start-up clock).
 */
export function startBaseline(
  name: Baseline,
  count: number,
  command: string[],
  prefix: string[] = [],
): RunningBaseline {
  const dir = makeTempDir(`s7sup-bench-${name}-`);
  let argv: string[];
  switch (name) {
    case 'tini':
      argv = ['tini', '-s', '--', ...command];
      break;
    case 's6':
    case 'runit':
      for (let i = 0; i < count; i++) {
        mkdirSync(join(dir, `s${i}`));
        writeFileSync(join(dir, `s${i}`, 'run'), runScript(command));
        chmodSync(join(dir, `s${i}`, 'run'), 0o755);
      }
      argv = name === 's6' ? ['s6-svscan', dir] : ['runsvdir', '-P', dir];
      break;
    case 'supervisord': {
      const conf = join(dir, 'supervisord.conf');
      const programsConf = Array.from(
        { length: count },
        (_, i) =>
          `[program:s${i}]\ncommand=${command.map(shQuote).join(' ')}\nautorestart=true\nstartsecs=0\n` +
          'stdout_logfile=NONE\nstderr_logfile=NONE\n',
      ).join('\n');
      writeFileSync(
        conf,
        `[supervisord]\nnodaemon=true\nlogfile=${join(dir, 'supervisord.log')}\npidfile=${join(dir, 'supervisord.pid')}\n` +
          `childlogdir=${dir}\nloglevel=warn\n\n${programsConf}`,
      );
      argv = ['supervisord', '-n', '-c', conf];
      break;
    }
  }
  const full = [...prefix, ...argv];
  const child = spawn(full[0]!, full.slice(1), { detached: true, stdio: 'ignore', cwd: dir });
  const ownComms = new Set(
    name === 's6' ? ['s6-svscan', 's6-supervise'] : name === 'runit' ? ['runsvdir', 'runsv'] : [],
  );
  return {
    name,
    child,
    supervisionPids() {
      const top = child.pid!;
      // tini and supervisord are one process; s6 and runit have one more per service
      if (ownComms.size === 0) return [top];
      return [top, ...descendants(top).filter((pid) => ownComms.has(comm(pid)))];
    },
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      // s6-svscan and runsvdir take their services down on SIGTERM/SIGHUP; anything left goes with the group
      try {
        process.kill(child.pid!, name === 'runit' ? 'SIGHUP' : 'SIGTERM');
      } catch {
        // already gone
      }
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      killTree(child.pid!);
    },
  };
}

export function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

function parentOf(pid: string): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** every live descendant of `pid` */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const parent = parentOf(entry);
    if (parent === undefined) continue;
    children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** SIGKILL a process, its process group and every descendant (services start groups of their own) */
export function killTree(pid: number): void {
  for (const target of [...descendants(pid).reverse(), pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // gone
    }
  }
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // gone
  }
}

export interface ProcSample {
  /** user + system CPU seconds */
  cpuSeconds: number;
  /** resident memory, bytes */
  rssBytes: number;
  /** voluntary context switches of the main thread: each is the thread going to sleep, so one wake-up */
  wakeups: number;
}

/** CPU, resident memory and main-thread wake-ups of some processes, summed */
export function sampleProcesses(pids: number[]): ProcSample {
  const total: ProcSample = { cpuSeconds: 0, rssBytes: 0, wakeups: 0 };
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total.cpuSeconds += (Number(fields[11]) + Number(fields[12])) / 100;
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      total.rssBytes += Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
      // the main thread only: libuv's and V8's worker threads are not the event loop
      const main = readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8');
      total.wakeups += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(main)?.[1] ?? 0);
    } catch {
      // exited meanwhile
    }
  }
  return total;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
