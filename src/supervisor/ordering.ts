// Start and stop order (design.md §3), decided here only: the supervisor's ordered start,
// shutdown and restart of everything, and the plan `check` prints all use these two functions.
// Lower startPriority starts first; equal priorities start together; shutdown is the reverse,
// with dependents stopped before what they depend on (rev. 2).
import { stopWaves } from './dependencies.js';

export interface PriorityGroup<T> {
  priority: number;
  members: T[];
}

/** a server (its startPriority) or a component (its spec's) */
export type Prioritized = { startPriority: number } | { spec: { startPriority: number } };

function priorityOf(item: Prioritized): number {
  return 'spec' in item ? item.spec.startPriority : item.startPriority;
}

/** The priority groups in start order, ascending; members keep their registry order. */
export function startOrder<T extends Prioritized>(items: Iterable<T>): PriorityGroup<T>[] {
  const byPriority = new Map<number, T[]>();
  for (const item of items) {
    const members = byPriority.get(priorityOf(item)) ?? [];
    members.push(item);
    byPriority.set(priorityOf(item), members);
  }
  return [...byPriority.entries()]
    .sort(([a], [b]) => a - b)
    .map(([priority, members]) => ({ priority, members }));
}

interface Ordered {
  id: string;
  startPriority: number;
  dependsOn?: ReadonlyArray<{ server: string }>;
}

/** a server, or a component (its spec) */
type Orderable = Ordered | { spec: Ordered };

const specOf = (item: Orderable): Ordered => ('spec' in item ? item.spec : item);

/**
 * Shutdown order: the priority groups in descending priority, each split into waves so that
 * dependents stop before what they depend on. A group without dependencies inside it is one
 * wave, as before; so a priority may come in several waves in a row.
 */
export function stopOrder<T extends Orderable>(items: Iterable<T>): PriorityGroup<T>[] {
  return stopWaves(items, (item) => {
    const spec = specOf(item);
    return { id: spec.id, startPriority: spec.startPriority, dependsOn: spec.dependsOn ?? [] };
  });
}
