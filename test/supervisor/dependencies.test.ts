// src/supervisor/dependencies.ts: who may start, why the others wait, the stop waves; with a
// fast-check simulation of ordered starts over random graphs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { DependencyCondition, DependencySpec, ServerKind } from '../../src/registry/model.js';
import {
  type DependencyNode,
  dependencyProblems,
  findCycles,
  type ServerProgress,
  StartPlan,
  stopWaves,
  waitingFor,
} from '../../src/supervisor/dependencies.js';
import { startOrder, stopOrder } from '../../src/supervisor/ordering.js';

const node = (
  id: string,
  dependsOn: Array<[string, DependencyCondition]> = [],
  startPriority = 1,
  kind: ServerKind = 'longrun',
): DependencyNode => ({
  id,
  startPriority,
  kind,
  dependsOn: dependsOn.map(([server, condition]) => ({ server, condition })),
});

const queued: ServerProgress = {
  phase: 'queued',
  state: 'stopped',
  spawned: false,
  ready: false,
  settled: true,
};
const starting: ServerProgress = {
  phase: 'started',
  state: 'starting',
  spawned: true,
  ready: false,
  settled: false,
};
const running: ServerProgress = {
  phase: 'started',
  state: 'running',
  spawned: true,
  ready: true,
  settled: false,
};
const completed: ServerProgress = {
  phase: 'started',
  state: 'completed',
  spawned: true,
  ready: true,
  settled: true,
  lastExitCode: 0,
};
const failed: ServerProgress = {
  phase: 'started',
  state: 'backoff',
  spawned: true,
  ready: false,
  settled: false,
  lastExitCode: 1,
};
const fatal: ServerProgress = { ...failed, state: 'fatal', settled: true };

const of = (progress: Record<string, ServerProgress>) => (id: string) => progress[id];

test('each condition: started, ready, completed, succeeded', () => {
  const nodes = [
    node('db'),
    node('migrate', [], 1, 'oneshot'),
    node('a', [['db', 'started']]),
    node('b', [['db', 'ready']]),
    node('c', [['migrate', 'completed']]),
    node('d', [['migrate', 'succeeded']]),
  ];
  const rest = { a: queued, b: queued, c: queued, d: queued };
  const startable = (db: ServerProgress, migrate: ServerProgress) =>
    new StartPlan(nodes, of({ db, migrate, ...rest })).startable();
  assert.deepEqual(startable(starting, starting), ['a']);
  assert.deepEqual(startable(running, starting), ['a', 'b']);
  assert.deepEqual(startable(running, failed), ['a', 'b', 'c']);
  assert.deepEqual(startable(running, completed), ['a', 'b', 'c', 'd']);
  // db and migrate themselves, queued, have no dependency: they start first
  assert.deepEqual(new StartPlan(nodes, of({ db: queued, migrate: queued, ...rest })).startable(), [
    'db',
    'migrate',
  ]);
});

test('waitingFor says what a server waits for, and when it will not come', () => {
  const nodes = [
    node('cache'),
    node('migrate', [], 1, 'oneshot'),
    node('ps', [
      ['cache', 'ready'],
      ['migrate', 'succeeded'],
    ]),
    node('web', [['ps', 'started']]),
    node('late', [], 2),
  ];
  const progress = { cache: starting, migrate: starting, ps: queued, web: queued, late: queued };
  assert.equal(waitingFor('ps', nodes, of(progress)), 'waiting for cache (ready), migrate (succeeded)');
  assert.equal(waitingFor('web', nodes, of(progress)), 'waiting for ps (started)');
  assert.equal(waitingFor('late', nodes, of(progress)), 'waiting for priority 1: cache, migrate, ps, web');
  assert.equal(waitingFor('cache', nodes, of(progress)), undefined);

  const failedFatal = { ...progress, cache: running, migrate: fatal };
  assert.equal(waitingFor('ps', nodes, of(failedFatal)), 'waiting for migrate (succeeded): migrate is fatal');
  assert.equal(waitingFor('web', nodes, of(failedFatal)), 'waiting for ps (started): ps is held back');
  const plan = new StartPlan(nodes, of(failedFatal));
  assert.ok(plan.held('ps') && plan.held('web'));
  // held servers do not hold the next priority group back: a fatal server never did either
  assert.deepEqual(plan.startable(), ['late']);
});

test('priorities still apply: a lower group ready or settled first, as before', () => {
  const nodes = [node('is'), node('svg'), node('ps', [], 2), node('web', [['is', 'ready']], 3)];
  const plan = (progress: Record<string, ServerProgress>) => new StartPlan(nodes, of(progress)).startable();
  assert.deepEqual(plan({ is: queued, svg: queued, ps: queued, web: queued }), ['is', 'svg']);
  assert.deepEqual(plan({ is: running, svg: starting, ps: queued, web: queued }), []);
  assert.deepEqual(plan({ is: running, svg: fatal, ps: queued, web: queued }), ['ps']);
  assert.deepEqual(plan({ is: running, svg: running, ps: running, web: queued }), ['web']);
  // not part of this ordered start (running before, or stopped by an operator): no turn to wait for
  const outside: ServerProgress = { ...queued, phase: 'outside' };
  assert.deepEqual(plan({ is: { ...running, phase: 'outside' }, svg: outside, ps: queued, web: queued }), [
    'ps',
  ]);
});

test('a dependency outside the ordered start counts by its state: running holds, stopped does not', () => {
  const nodes = [node('cache'), node('is', [['cache', 'ready']])];
  const outsideRunning: ServerProgress = { ...running, phase: 'outside' };
  const stopped: ServerProgress = { ...queued, phase: 'outside', state: 'stopped' };
  assert.deepEqual(new StartPlan(nodes, of({ cache: outsideRunning, is: queued })).startable(), ['is']);
  assert.equal(
    waitingFor('is', nodes, of({ cache: stopped, is: queued })),
    'waiting for cache (ready): cache is stopped',
  );
});

test('validation: unknown, condition on a longrun, a later priority, cycles', () => {
  const problems = dependencyProblems([
    node('a', [['ghost', 'ready']]),
    node('b', [['a', 'succeeded']]),
    node('c', [['d', 'ready']]),
    node('d', [], 2),
    node('x', [['y', 'ready']]),
    node('y', [['z', 'started']]),
    node('z', [['x', 'ready']]),
  ]);
  assert.deepEqual(
    problems.map((p) => p.type),
    ['unknown', 'condition', 'priority', 'cycle'],
  );
  assert.deepEqual(problems.at(-1), { type: 'cycle', servers: ['x', 'y', 'z'], path: ['x', 'y', 'z', 'x'] });
});

test('findCycles: a strongly connected part with two cycles is named once, with every server', () => {
  const cycles = findCycles([
    node('a', [['b', 'ready']]),
    node('b', [
      ['a', 'ready'],
      ['c', 'ready'],
    ]),
    node('c', [['b', 'ready']]),
    node('d', [['a', 'ready']]),
  ]);
  assert.deepEqual(cycles, [{ servers: ['a', 'b', 'c'], path: ['a', 'b', 'a'] }]);
  // a chain far longer than any stack would allow recursion for
  const chain = Array.from({ length: 50_000 }, (_, i) =>
    node(`s${i}`, i > 0 ? [[`s${i - 1}`, 'ready']] : []),
  );
  assert.deepEqual(findCycles(chain), []);
});

test('stop waves: dependents first within a group; without dependencies the groups as before', () => {
  const items = [
    node('cache'),
    node('is', [['cache', 'ready']]),
    node('svg', [['cache', 'ready']]),
    node('ps', [['is', 'ready']], 2),
    node('web', [['ps', 'ready']], 2),
  ];
  assert.deepEqual(
    stopWaves(items, (n) => n).map((w) => `${w.priority}:${w.members.map((m) => m.id).join(',')}`),
    ['2:web', '2:ps', '1:is,svg', '1:cache'],
  );
  const plain = [
    { spec: { id: 'a', startPriority: 1 } },
    { spec: { id: 'b', startPriority: 2 } },
    { spec: { id: 'c', startPriority: 1 } },
  ];
  assert.deepEqual(stopOrder(plain), startOrder(plain).reverse());
});

// ---- property --------------------------------------------------------------------------------

interface Graph {
  nodes: DependencyNode[];
  /** oneshots that exit 1 for good (fatal) */
  failing: Set<string>;
}

const graphs: fc.Arbitrary<Graph> = fc
  .integer({ min: 1, max: 30 })
  .chain((n) =>
    fc.record({
      priorities: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: n, maxLength: n }),
      kinds: fc.array(fc.constantFrom<ServerKind>('longrun', 'oneshot'), { minLength: n, maxLength: n }),
      failing: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
      // for each server, candidate dependencies among the servers before it (so: acyclic)
      edges: fc.array(
        fc.array(
          fc.record({
            to: fc.nat(),
            condition: fc.constantFrom<DependencyCondition>('started', 'ready', 'completed', 'succeeded'),
          }),
          {
            maxLength: 4,
          },
        ),
        { minLength: n, maxLength: n },
      ),
    }),
  )
  .map(({ priorities, kinds, failing, edges }) => {
    const nodes: DependencyNode[] = priorities.map((startPriority, i) => {
      const seen = new Set<string>();
      const dependsOn: DependencySpec[] = [];
      for (const { to, condition } of i > 0 ? (edges[i] ?? []) : []) {
        const j = to % i;
        const target = `s${j}`;
        // what the registry would refuse is left out: a later priority, completed/succeeded on a longrun
        if ((priorities[j] ?? 0) > startPriority || seen.has(target)) continue;
        const onLongrun = kinds[j] === 'longrun' && (condition === 'completed' || condition === 'succeeded');
        seen.add(target);
        dependsOn.push({ server: target, condition: onLongrun ? 'ready' : condition });
      }
      return { id: `s${i}`, startPriority, kind: kinds[i] ?? 'longrun', dependsOn };
    });
    return {
      nodes,
      failing: new Set(nodes.filter((n, i) => n.kind === 'oneshot' && failing[i]).map((n) => n.id)),
    };
  });

/** the conditions as the design states them, written again independently of the module */
function holds(condition: DependencyCondition, p: ServerProgress): boolean {
  if (condition === 'started') return p.spawned;
  if (condition === 'ready') return p.ready;
  if (condition === 'completed') return p.lastExitCode !== undefined;
  return p.lastExitCode === 0;
}

test('property: simulated ordered starts never start a server before its dependencies hold or its turn has come; the stop order is the reverse', () => {
  fc.assert(
    fc.property(
      graphs,
      fc.array(fc.nat(), { minLength: 200, maxLength: 200 }),
      ({ nodes, failing }, choices) => {
        assert.deepEqual(dependencyProblems(nodes), []);
        const progress = new Map<string, ServerProgress>(nodes.map((n) => [n.id, { ...queued }]));
        const get = (id: string) => progress.get(id) as ServerProgress;
        const byId = new Map(nodes.map((n) => [n.id, n]));
        const startOrder: string[] = [];
        let step = 0;
        for (;;) {
          const plan = new StartPlan(nodes, (id) => progress.get(id));
          const startable = plan.startable();
          // what can move on: a startable server starts, or a started one gets further
          const advancing = nodes.filter((n) => {
            const p = get(n.id);
            return p.phase === 'started' && !p.settled && !(n.kind === 'longrun' && p.ready);
          });
          const actions = [
            ...startable.map((id) => ({ start: id })),
            ...advancing.map((n) => ({ advance: n.id })),
          ];
          if (actions.length === 0) break;
          const action = actions[(choices[step++ % choices.length] ?? 0) % actions.length];
          if (action && 'start' in action) {
            const server = byId.get(action.start) as DependencyNode;
            for (const d of server.dependsOn)
              assert.ok(
                holds(d.condition, get(d.server)),
                `${server.id} started before ${d.server} was ${d.condition}`,
              );
            for (const other of nodes) {
              if (other.startPriority >= server.startPriority) continue;
              const p = get(other.id);
              assert.ok(
                (p.phase === 'started' && (p.ready || p.settled)) ||
                  (p.phase === 'queued' && plan.held(other.id)),
                `${server.id} (priority ${server.startPriority}) started while ${other.id} (priority ${other.startPriority}) was not up`,
              );
            }
            startOrder.push(server.id);
            progress.set(server.id, { ...starting });
          } else if (action) {
            const id = action.advance;
            const p = get(id);
            const kind = byId.get(id)?.kind;
            if (!p.spawned) progress.set(id, { ...starting });
            else if (kind === 'longrun') progress.set(id, { ...running });
            else if (failing.has(id)) progress.set(id, { ...fatal });
            else progress.set(id, { ...completed });
          }
        }
        // nothing is left waiting but what a fatal oneshot holds back, and those say so
        for (const n of nodes) {
          if (get(n.id).phase !== 'queued') continue;
          const plan = new StartPlan(nodes, (id) => progress.get(id));
          assert.ok(plan.held(n.id), `${n.id} never started and is not held back`);
          assert.match(waitingFor(n.id, nodes, (id) => progress.get(id)) ?? '', /: .* is (fatal|held back)/);
        }
        if (failing.size === 0) assert.equal(startOrder.length, nodes.length);

        // stop waves: every dependent stops in an earlier wave than what it depends on, and the
        // priorities descend; so against the start order (dependencies first) it is the reverse
        const waves = stopWaves(nodes, (n) => n);
        const wave = new Map<string, number>();
        waves.forEach((w, index) => {
          for (const m of w.members) wave.set(m.id, index);
        });
        assert.equal(wave.size, nodes.length);
        for (let i = 1; i < waves.length; i++)
          assert.ok((waves[i - 1]?.priority ?? 0) >= (waves[i]?.priority ?? 0), 'priorities descend');
        const started = new Map(startOrder.map((id, index) => [id, index]));
        for (const n of nodes)
          for (const d of n.dependsOn) {
            assert.ok((wave.get(n.id) ?? 0) < (wave.get(d.server) ?? 0), `${n.id} stops before ${d.server}`);
            const a = started.get(n.id);
            const b = started.get(d.server);
            if (a !== undefined) assert.ok(b !== undefined && b < a, `${d.server} started before ${n.id}`);
          }
      },
    ),
    { numRuns: 300 },
  );
});
