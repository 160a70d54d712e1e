// Priority groups: lower startPriority starts first; equal priorities start together.
import { stopWaves } from './dependencies.js';

export interface PriorityGroup<T> {
  priority: number;
  members: T[];
}

/** Groups by spec.startPriority, ascending; members keep their registry order. */
export function priorityGroups<T extends { spec: { startPriority: number } }>(
  items: Iterable<T>,
): PriorityGroup<T>[] {
  const byPriority = new Map<number, T[]>();
  for (const item of items) {
    const members = byPriority.get(item.spec.startPriority) ?? [];
    members.push(item);
    byPriority.set(item.spec.startPriority, members);
  }
  return [...byPriority.entries()]
    .sort(([a], [b]) => a - b)
    .map(([priority, members]) => ({ priority, members }));
}

interface Ordered {
  spec: { id: string; startPriority: number; dependsOn?: ReadonlyArray<{ server: string }> };
}

/**
 * Shutdown order (design.md §3): the priority groups in descending priority, each split into
 * waves so that dependents stop before what they depend on (rev. 2). A group without dependencies
 * inside it is one wave, as before; so a priority may come in several waves in a row.
 */
export function stopOrder<T extends Ordered>(items: Iterable<T>): PriorityGroup<T>[] {
  return stopWaves(items, ({ spec }) => ({
    id: spec.id,
    startPriority: spec.startPriority,
    dependsOn: spec.dependsOn ?? [],
  }));
}
