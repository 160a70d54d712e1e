// Resource use per process group, read from /proc: one pass over /proc/[pid]/stat per call (the
// process group and CPU times), plus /proc/[pid]/statm for the members of the wanted groups only
// (no /proc/[pid]/status, which is much larger to format). A scrape with 100 components costs one
// directory listing and one or two small reads per process; procfs lives in memory, no disk I/O.
import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';

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

let pageSizeCache: number | undefined;

/** the kernel's page size (the unit of rss in stat): the first mapping's KernelPageSize in smaps */
export function pageSize(): number {
  if (pageSizeCache !== undefined) return pageSizeCache;
  pageSizeCache = 4096;
  try {
    const fd = openSync('/proc/self/smaps', 'r');
    try {
      const buffer = Buffer.alloc(4096);
      const length = readSync(fd, buffer, 0, buffer.length, 0);
      const match = /KernelPageSize:\s+(\d+) kB/.exec(buffer.toString('latin1', 0, length));
      if (match?.[1]) pageSizeCache = Number(match[1]) * 1024;
    } finally {
      closeSync(fd);
    }
  } catch {
    // no smaps (a restricted /proc): 4 KiB is the page size of every common Linux platform
  }
  return pageSizeCache;
}

// fields of /proc/[pid]/stat after "pid (comm) ", counted from 0 (field 3, state, is index 0)
const STATE = 0;
const PGRP = 2;
const UTIME = 11;
const STIME = 12;
const CUTIME = 13;
const CSTIME = 14;

/**
 * Resident pages from statm: since Linux 6.2 the rss field of stat is a per-CPU counter read
 * without summing (it can be off by hundreds of pages), while statm sums it exactly.
 */
function residentPages(statmPath: string): number {
  try {
    const statm = readFileSync(statmPath, 'latin1');
    const start = statm.indexOf(' ') + 1;
    return Number(statm.slice(start, statm.indexOf(' ', start)));
  } catch {
    return 0; // exited between the two reads
  }
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
    let stat: string;
    try {
      stat = readFileSync(`${procRoot}/${entry}/stat`, 'latin1');
    } catch {
      continue; // exited while we looked
    }
    // comm may hold spaces and parentheses: the fields start after the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pgid = Number(fields[PGRP]);
    if (!wanted.has(pgid)) continue;
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
