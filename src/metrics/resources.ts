// Memory and CPU of each running component, summed over its process group (the main process's
// pid is the group id: every component runs in a group of its own).
//
// One reader is shared by every consumer (/metrics, the status page, the JSON API on the TCP port
// and on the control socket, the stats log). A /proc pass reads the stat file of every process on
// the machine, so it is made on demand and at most once per `maxAgeMs` (1 s): requests that come
// in the meantime, however many, get the same reading. The one exception is a group the last
// reading did not cover (a component that has just (re)started): it is read again, but never
// sooner than `newGroupIntervalMs` (250 ms) after the last pass, so even a crash loop under a
// request storm cannot make passes more frequent than that. Until then the new group's
// resources are simply absent, as they are while a component has no process.
import { performance } from 'node:perf_hooks';
import { type GroupStats, processGroupStats } from '../process/procfs.js';
import type { ComponentStatus } from '../supervisor/status.js';

export interface ResourceReaderOptions {
  /** a reading is reused for this long (ms) */
  maxAgeMs?: number;
  /** a group the reading does not cover is read again at most this often (ms) */
  newGroupIntervalMs?: number;
  /** monotonic clock in ms (performance.now) */
  now?: () => number;
  procRoot?: string;
}

export interface ResourceReader {
  /**
   * component id → its group's resources, for the components that have a process; do not modify.
   * `maxAgeMs`: a caller that needs a fresher figure than the reader's own reuse (the memory
   * limits) makes a pass sooner; never a reuse longer than the reader's.
   */
  read(statuses: readonly ComponentStatus[], maxAgeMs?: number): ReadonlyMap<string, Readonly<GroupStats>>;
  /** /proc passes made so far: what the bound is about (tests and benchmarks read it) */
  readonly scans: number;
}

interface Reading {
  at: number;
  /** the groups that were asked for (a group without processes is absent from stats) */
  groups: ReadonlySet<number>;
  stats: Map<number, GroupStats>;
}

export function createResourceReader(options: ResourceReaderOptions = {}): ResourceReader {
  const maxAge = options.maxAgeMs ?? 1000;
  const newGroupInterval = options.newGroupIntervalMs ?? 250;
  const now = options.now ?? (() => performance.now());
  const procRoot = options.procRoot ?? '/proc';
  let reading: Reading | undefined;
  let scans = 0;

  const fresh = (wanted: ReadonlyMap<number, string>, at: number, ageLimit: number): Reading | undefined => {
    if (!reading) return undefined;
    const age = at - reading.at;
    if (age >= ageLimit) return undefined;
    for (const pgid of wanted.keys()) {
      if (!reading.groups.has(pgid)) return age >= newGroupInterval ? undefined : reading;
    }
    return reading;
  };

  return {
    get scans() {
      return scans;
    },
    read(statuses, maxAgeMs) {
      const byGroup = new Map<number, string>();
      for (const status of statuses) if (status.pid !== undefined) byGroup.set(status.pid, status.id);
      const result = new Map<string, GroupStats>();
      if (byGroup.size === 0) return result;
      const at = now();
      let current = fresh(byGroup, at, Math.min(maxAge, maxAgeMs ?? maxAge));
      if (!current) {
        // every consumer asks for the groups of all components (the API's single component too,
        // through the shared snapshot), so one reading serves them all
        const groups = new Set(byGroup.keys());
        current = { at, groups, stats: processGroupStats(groups, procRoot) };
        reading = current;
        scans += 1;
      }
      for (const [pgid, id] of byGroup) {
        const stats = current.stats.get(pgid);
        if (stats) result.set(id, stats);
      }
      return result;
    },
  };
}
