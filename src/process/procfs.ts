// Resource use per process group, read from /proc: one pass over /proc/[pid]/stat per call (the
// process group and CPU times), plus /proc/[pid]/statm for the members of the wanted groups only
// (no /proc/[pid]/status, which is much larger to format). A scrape with 100 components costs one
// directory listing and one or two small reads per process; procfs lives in memory, no disk I/O.
import { closeSync, openSync, readdirSync, readSync } from 'node:fs';

export interface GroupStats {
  /** resident memory of every process of the group */
  rssBytes: number;
  /**
   * CPU time (user + system) of the group's live processes, plus that of their children which
   * they have already waited for (cutime/cstime): a worker that exits and is reaped by its parent
   * in the group keeps counting, so the sum does not drop while the group lives.
   */
  cpuSeconds: number;
  /** live (non-zombie) processes; 0 when only zombies are left */
  processes: number;
}

/**
 * USER_HZ, the unit of the times in /proc/[pid]/stat. It is part of Linux's user-space ABI
 * (sysconf(_SC_CLK_TCK)) and 100 on every architecture Linux supports, whatever the kernel's HZ.
 */
export const CLOCK_TICKS_PER_SECOND = 100;

/** one buffer for every read: a stat line is a few hundred bytes, statm less than a hundred */
const buffer = Buffer.alloc(4096);

/**
 * Reads a small /proc file with open/read/close (readFileSync adds an fstat and a second read per
 * file, which doubles the cost of a pass); undefined when the process is gone.
 */
function readSmall(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const length = readSync(fd, buffer, 0, buffer.length, 0);
    return buffer.toString('latin1', 0, length);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

let pageSizeCache: number | undefined;

/** the kernel's page size (the unit of rss in stat): the first mapping's KernelPageSize in smaps */
export function pageSize(): number {
  if (pageSizeCache !== undefined) return pageSizeCache;
  // the first mapping's entry is well within the first 4 KiB of smaps
  const match = /KernelPageSize:\s+(\d+) kB/.exec(readSmall('/proc/self/smaps') ?? '');
  // no smaps (a restricted /proc): 4 KiB is the page size of every common Linux platform
  pageSizeCache = match?.[1] ? Number(match[1]) * 1024 : 4096;
  return pageSizeCache;
}

// fields of /proc/[pid]/stat after "pid (comm) ", counted from 0 (field 3, state, is index 0)
const STATE = 0;
const UTIME = 11;
const STIME = 12;
const CUTIME = 13;
const CSTIME = 14;

/**
 * Resident pages from statm: since Linux 6.2 the rss field of stat is a per-CPU counter read
 * without summing (it can be off by hundreds of pages), while statm sums it exactly.
 */
function residentPages(statmPath: string): number {
  const statm = readSmall(statmPath);
  if (statm === undefined) return 0; // exited between the two reads
  const start = statm.indexOf(' ') + 1;
  return Number(statm.slice(start, statm.indexOf(' ', start)));
}

/**
 * Sums memory and CPU per process group for the groups asked for. A group with no process at
 * all is absent from the result.
 */
export function processGroupStats(pgids: Iterable<number>, procRoot = '/proc'): Map<number, GroupStats> {
  const wanted = new Set(pgids);
  const result = new Map<number, GroupStats>();
  if (wanted.size === 0) return result;
  const page = pageSize();
  let entries: string[];
  try {
    entries = readdirSync(procRoot);
  } catch {
    return result;
  }
  for (const entry of entries) {
    const first = entry.charCodeAt(0);
    if (first < 48 || first > 57) continue; // not a pid
    const stat = readSmall(`${procRoot}/${entry}/stat`);
    if (stat === undefined) continue; // exited while we looked
    // comm may hold spaces and parentheses: the fields start after the last ')'. The group id
    // (the third of them) is read first: most processes on the machine are not ours.
    const fieldsStart = stat.lastIndexOf(')') + 2;
    const afterState = stat.indexOf(' ', fieldsStart);
    const afterParent = stat.indexOf(' ', afterState + 1);
    const pgid = Number(stat.slice(afterParent + 1, stat.indexOf(' ', afterParent + 1)));
    if (!wanted.has(pgid)) continue;
    const fields = stat.slice(fieldsStart).split(' ');
    const ticks =
      Number(fields[UTIME]) + Number(fields[STIME]) + Number(fields[CUTIME]) + Number(fields[CSTIME]);
    let stats = result.get(pgid);
    if (!stats) {
      stats = { rssBytes: 0, cpuSeconds: 0, processes: 0 };
      result.set(pgid, stats);
    }
    // a zombie's time still counts (it moves to its parent's cutime once reaped); its rss is 0
    stats.rssBytes += residentPages(`${procRoot}/${entry}/statm`) * page;
    stats.cpuSeconds += ticks / CLOCK_TICKS_PER_SECOND;
    if (fields[STATE] !== 'Z') stats.processes += 1;
  }
  return result;
}
