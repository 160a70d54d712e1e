// Dependencies combined with priorities (design.md §3 rev. 2), as pure functions of the servers and
// of what each has reached: which may start now, why the others wait, in which order they stop.
// No clock, no process, no I/O: the lifecycle asks, this answers, and the tests can try thousands
// of graphs. Registry validation uses the same graph checks, so `check` and `run` cannot disagree.
import type { DependencyCondition, DependencySpec, ServerKind } from '../registry/model.js';

export interface DependencyNode {
  id: string;
  startPriority: number;
  kind: ServerKind;
  dependsOn: readonly DependencySpec[];
}

// ---- validation ------------------------------------------------------------------------------

export type DependencyProblem =
  /** depends on a server that is not in the registry */
  | { type: 'unknown'; server: string; dependency: string }
  /** `completed` or `succeeded` on a longrun, which never completes */
  | { type: 'condition'; server: string; dependency: string; condition: DependencyCondition }
  /**
   * depends on a server of a later priority group: the priority says "after me", the dependency
   * "before me", so neither could ever start
   */
  | { type: 'priority'; server: string; dependency: string; priority: number; dependencyPriority: number }
  /** every server of one strongly connected part of the graph; `path` is one cycle through them */
  | { type: 'cycle'; servers: string[]; path: string[] };

/** Everything that makes the graph unusable; empty when every server could start. */
export function dependencyProblems(nodes: readonly DependencyNode[]): DependencyProblem[] {
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const problems: DependencyProblem[] = [];
  for (const node of nodes) {
    for (const { server: dependency, condition } of node.dependsOn) {
      const target = byId.get(dependency);
      if (!target) {
        problems.push({ type: 'unknown', server: node.id, dependency });
        continue;
      }
      if ((condition === 'completed' || condition === 'succeeded') && target.kind !== 'oneshot')
        problems.push({ type: 'condition', server: node.id, dependency, condition });
      if (target.startPriority > node.startPriority)
        problems.push({
          type: 'priority',
          server: node.id,
          dependency,
          priority: node.startPriority,
          dependencyPriority: target.startPriority,
        });
    }
  }
  for (const cycle of findCycles(nodes)) problems.push({ type: 'cycle', ...cycle });
  return problems;
}

/**
 * The dependency cycles: one entry per strongly connected part with a cycle in it (Tarjan's
 * algorithm, iterative so that a long generated chain cannot exhaust the stack), its servers in
 * registry order, and one cycle through the first of them, ending where it began (a -> b -> a).
 */
export function findCycles(nodes: readonly DependencyNode[]): Array<{ servers: string[]; path: string[] }> {
  const order = new Map(nodes.map((node, index) => [node.id, index]));
  const edges = new Map(
    nodes.map((node) => [node.id, node.dependsOn.map((d) => d.server).filter((id) => order.has(id))]),
  );
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const parts: string[][] = [];
  let counter = 0;
  for (const root of nodes) {
    if (index.has(root.id)) continue;
    const work: Array<{ id: string; next: number }> = [{ id: root.id, next: 0 }];
    index.set(root.id, counter);
    low.set(root.id, counter++);
    stack.push(root.id);
    onStack.add(root.id);
    while (work.length > 0) {
      const frame = work[work.length - 1] as { id: string; next: number };
      const out = edges.get(frame.id) ?? [];
      if (frame.next < out.length) {
        const to = out[frame.next++] as string;
        if (!index.has(to)) {
          index.set(to, counter);
          low.set(to, counter++);
          stack.push(to);
          onStack.add(to);
          work.push({ id: to, next: 0 });
        } else if (onStack.has(to)) {
          low.set(frame.id, Math.min(low.get(frame.id) ?? 0, index.get(to) ?? 0));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.id, Math.min(low.get(parent.id) ?? 0, low.get(frame.id) ?? 0));
      if (low.get(frame.id) === index.get(frame.id)) {
        const part: string[] = [];
        for (;;) {
          const id = stack.pop() as string;
          onStack.delete(id);
          part.push(id);
          if (id === frame.id) break;
        }
        const selfLoop = part.length === 1 && (edges.get(frame.id) ?? []).includes(frame.id);
        if (part.length > 1 || selfLoop) parts.push(part);
      }
    }
  }
  return parts
    .map((part) => part.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0)))
    .sort((a, b) => (order.get(a[0] ?? '') ?? 0) - (order.get(b[0] ?? '') ?? 0))
    .map((servers) => ({ servers, path: shortestCycle(servers, edges) }));
}

/** breadth first from the first server back to it, inside its part */
function shortestCycle(servers: string[], edges: Map<string, string[]>): string[] {
  const start = servers[0] as string;
  const inside = new Set(servers);
  const previous = new Map<string, string>();
  const queue = [start];
  for (let at = 0; at < queue.length; at++) {
    const id = queue[at] as string;
    for (const to of edges.get(id) ?? []) {
      if (!inside.has(to)) continue;
      if (to === start) {
        const path = [start];
        for (
          let back: string | undefined = id;
          back !== undefined && back !== start;
          back = previous.get(back)
        )
          path.splice(1, 0, back);
        return [...path, start];
      }
      if (!previous.has(to)) {
        previous.set(to, id);
        queue.push(to);
      }
    }
  }
  return [...servers, start];
}

// ---- starting --------------------------------------------------------------------------------

/**
 * Where a server is in the current ordered start (start-up, a restart of everything, a reload's
 * additions): `queued` its turn has not come yet, `started` its turn came and it was started,
 * `outside` it is not part of this ordered start (it was running already, or an operator stopped it).
 */
export type StartPhase = 'queued' | 'started' | 'outside';

/** What the lifecycle knows of one server, as far as starting others depends on it. */
export interface ServerProgress {
  phase: StartPhase;
  /** its state as status shows it (`starting`, `fatal`, `completed`...), for the waiting reason */
  state: string;
  /** spawned since its turn came (or, outside an ordered start, running) */
  spawned: boolean;
  /** counts as ready now: a longrun ready and running, a oneshot completed */
  ready: boolean;
  /** a oneshot's exit code of its last run; undefined until it has exited once */
  lastExitCode?: number | undefined;
  /** not running and not going to run by itself: stopped, fatal, completed for good */
  settled: boolean;
}

export type ProgressOf = (id: string) => ServerProgress | undefined;

/** Whether `progress` satisfies `condition` (design.md §3 rev. 2). */
export function conditionHolds(
  condition: DependencyCondition,
  progress: ServerProgress | undefined,
): boolean {
  if (!progress) return false;
  switch (condition) {
    case 'started':
      return progress.spawned || progress.ready;
    case 'ready':
      return progress.ready;
    case 'completed':
      return progress.lastExitCode !== undefined;
    case 'succeeded':
      return progress.lastExitCode === 0;
  }
}

/** Why a server has not started yet: the dependencies that do not hold, or the priority turn. */
export type WaitReason =
  | {
      type: 'dependencies';
      /**
       * in registry order; `held`: it will not get there by itself (fatal, stopped, or itself
       * held back, which `queued` tells apart)
       */
      waiting: Array<{
        server: string;
        condition: DependencyCondition;
        state: string;
        held: boolean;
        queued: boolean;
      }>;
    }
  | { type: 'priority'; priority: number; servers: string[] };

/**
 * The ordered start's decisions for one moment. Priorities apply as they always did: a server's
 * turn comes when every server of a lower priority in this start is ready or settled (a server
 * that cannot come up does not hold the rest back). On top of that, each dependency must hold its
 * condition. A server whose dependency will not get there (fatal, stopped, itself held back) is
 * held: it does not start, says why, and does not hold later priority groups back either.
 */
export class StartPlan {
  private readonly byId: Map<string, DependencyNode>;
  private readonly heldMemo = new Map<string, boolean>();

  constructor(
    private readonly nodes: readonly DependencyNode[],
    private readonly progressOf: ProgressOf,
  ) {
    this.byId = new Map(nodes.map((node) => [node.id, node]));
  }

  /** The queued servers that may start now, in registry order. */
  startable(): string[] {
    return this.nodes
      .filter((node) => this.reason(node.id) === undefined && this.isQueued(node.id))
      .map((n) => n.id);
  }

  /** Why `id` waits, or undefined when it may start (or is not queued). */
  reason(id: string): WaitReason | undefined {
    const node = this.byId.get(id);
    if (!node || !this.isQueued(id)) return undefined;
    const waiting = node.dependsOn
      .filter((d) => !conditionHolds(d.condition, this.progressOf(d.server)))
      .map((d) => ({
        server: d.server,
        condition: d.condition,
        state: this.progressOf(d.server)?.state ?? 'unknown',
        held: this.wontHold(d.server),
        queued: this.isQueued(d.server),
      }));
    if (waiting.length > 0) return { type: 'dependencies', waiting };
    const blocking = this.nodes.filter(
      (other) => other.startPriority < node.startPriority && this.holdsTurn(other.id),
    );
    if (blocking.length === 0) return undefined;
    const priority = Math.min(...blocking.map((other) => other.startPriority));
    return {
      type: 'priority',
      priority,
      servers: blocking.filter((other) => other.startPriority === priority).map((other) => other.id),
    };
  }

  /** True when `id` waits for something that will not come by itself. */
  held(id: string): boolean {
    const memo = this.heldMemo.get(id);
    if (memo !== undefined) return memo;
    // a cycle (refused by the registry, so only from a caller's mistake) counts as held, not as a hang
    this.heldMemo.set(id, true);
    const node = this.byId.get(id);
    const held =
      node !== undefined &&
      this.isQueued(id) &&
      node.dependsOn.some(
        (d) => !conditionHolds(d.condition, this.progressOf(d.server)) && this.wontHold(d.server),
      );
    this.heldMemo.set(id, held);
    return held;
  }

  private wontHold(dependency: string): boolean {
    const progress = this.progressOf(dependency);
    if (!progress) return true;
    if (progress.phase === 'queued') return this.held(dependency);
    return progress.settled;
  }

  private isQueued(id: string): boolean {
    return this.progressOf(id)?.phase === 'queued';
  }

  /** whether `id`, of a lower priority, still keeps the next groups waiting */
  private holdsTurn(id: string): boolean {
    const progress = this.progressOf(id);
    if (!progress) return false;
    if (progress.phase === 'queued') return !this.held(id);
    if (progress.phase === 'started') return !(progress.ready || progress.settled);
    return false;
  }
}

/**
 * What status shows while a server waits: `waiting for cache (ready)`, `waiting for cache (ready),
 * migrate (succeeded): migrate is fatal`, `waiting for priority 1: is, svg`. Undefined when it
 * does not wait.
 */
export function waitingFor(
  id: string,
  nodes: readonly DependencyNode[],
  progressOf: ProgressOf,
): string | undefined {
  return describeWait(new StartPlan(nodes, progressOf).reason(id));
}

export function describeWait(reason: WaitReason | undefined): string | undefined {
  if (!reason) return undefined;
  if (reason.type === 'priority')
    return `waiting for priority ${reason.priority}: ${reason.servers.join(', ')}`;
  const list = reason.waiting.map((w) => `${w.server} (${w.condition})`).join(', ');
  const held = reason.waiting
    .filter((w) => w.held)
    .map((w) => `${w.server} is ${w.queued ? 'held back' : w.state}`);
  return `waiting for ${list}${held.length > 0 ? `: ${held.join(', ')}` : ''}`;
}

// ---- stopping --------------------------------------------------------------------------------

export interface StopWave<T> {
  priority: number;
  members: T[];
}

/**
 * Shutdown order: priority groups in descending priority, and inside each group the dependents
 * before what they depend on, as waves that stop together (design.md §3 rev. 2). Dependencies only
 * point at the same or a lower priority (the registry refuses the rest), so the groups alone order
 * everything across groups. Without dependencies a group is one wave, as before. Items keep
 * their given order inside a wave.
 */
export function stopWaves<T>(
  items: Iterable<T>,
  nodeOf: (item: T) => { id: string; startPriority: number; dependsOn: ReadonlyArray<{ server: string }> },
): StopWave<T>[] {
  const all = [...items];
  const byPriority = new Map<number, T[]>();
  for (const item of all) {
    const priority = nodeOf(item).startPriority;
    const members = byPriority.get(priority) ?? [];
    members.push(item);
    byPriority.set(priority, members);
  }
  const waves: StopWave<T>[] = [];
  for (const [priority, members] of [...byPriority.entries()].sort(([a], [b]) => b - a)) {
    let left = members;
    while (left.length > 0) {
      const ids = new Set(left.map((item) => nodeOf(item).id));
      // depended on by one still left in the group: it waits for a later wave
      const neededBy = new Set<string>();
      for (const item of left)
        for (const d of nodeOf(item).dependsOn)
          if (d.server !== nodeOf(item).id && ids.has(d.server)) neededBy.add(d.server);
      let wave = left.filter((item) => !neededBy.has(nodeOf(item).id));
      // a cycle (refused by the registry) must not stop the shutdown: the rest go together
      if (wave.length === 0) wave = left;
      waves.push({ priority, members: wave });
      const stopping = new Set(wave);
      left = left.filter((item) => !stopping.has(item));
    }
  }
  return waves;
}

/** The static start order the plan shows: waves that could start together, for `check`. */
export function startWaves(nodes: readonly DependencyNode[]): StopWave<DependencyNode>[] {
  return stopWaves(nodes, (node) => node).reverse();
}
