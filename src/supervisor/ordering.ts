// Priority groups: lower startPriority starts first; equal priorities start together.

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

/** Shutdown order (design.md §3): the priority groups in descending priority. */
export function stopOrder<T extends { spec: { startPriority: number } }>(
  items: Iterable<T>,
): PriorityGroup<T>[] {
  return priorityGroups(items).reverse();
}
