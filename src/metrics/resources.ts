// Memory and CPU of each running component, summed over its process group (the main process's
// pid is the group id: every component runs in a group of its own).
import { type GroupStats, processGroupStats } from '../process/procfs.js';
import type { ComponentStatus } from '../supervisor/status.js';

/** component id → its group's resources, for the components that have a process */
export function componentResources(statuses: readonly ComponentStatus[]): Map<string, GroupStats> {
  const byGroup = new Map<number, string>();
  for (const status of statuses) if (status.pid !== undefined) byGroup.set(status.pid, status.id);
  const result = new Map<string, GroupStats>();
  if (byGroup.size === 0) return result;
  for (const [pgid, stats] of processGroupStats(byGroup.keys())) {
    const id = byGroup.get(pgid);
    if (id !== undefined) result.set(id, stats);
  }
  return result;
}
