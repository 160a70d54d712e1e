// One snapshot of the supervisor for every reading request: GET /, /api/v1/components[/ID] and
// /metrics read it, and what is derived from it (the JSON bodies, the metrics text) is computed
// once per snapshot, not once per request. So a storm of requests costs
// what a probe costs, whatever the number of components, and does not multiply /proc passes or
// renders (nor the garbage they leave, which is what made the heap and the RSS grow).
//
// A snapshot is replaced as soon as the supervisor says something changed (any event of its view:
// a state change, a probe result, a reaped orphan, a reload), when the phase changes, and in any
// case after `maxAgeMs` (1 s: uptimes and resources move on). So what a reader sees is never
// older than the last change, and at most 1 s old otherwise.
import { performance } from 'node:perf_hooks';
import type { ExpositionFormat } from '../metrics/negotiate.js';
import type { ResourceReader } from '../metrics/resources.js';
import type { SupervisorPhase, SupervisorView } from '../supervisor/status.js';
import { type ComponentJson, toJson } from '../view/component-json.js';

/** a /metrics answer, encoded once */
export interface EncodedMetrics {
  contentType: string;
  body: Buffer;
}

/** what the reading requests derive from one snapshot, each computed on first use */
export interface Derived {
  /** the body of GET /api/v1/components */
  list?: Buffer;
  /** the body of GET /api/v1/components/ID, by id (undefined: no such component) */
  one: Map<string, Buffer | undefined>;
  /** /metrics, by exposition format */
  metrics: Map<ExpositionFormat, Promise<EncodedMetrics>>;
}

export interface Snapshot {
  readonly phase: SupervisorPhase;
  readonly components: readonly ComponentJson[];
  readonly derived: Derived;
}

export interface SnapshotCacheOptions {
  maxAgeMs?: number;
  /** monotonic clock in ms */
  now?: () => number;
}

export class SnapshotCache {
  private generation = 0;
  private current: { generation: number; at: number; snapshot: Snapshot } | undefined;
  private readonly maxAgeMs: number;
  private readonly now: () => number;
  private readonly changed = () => {
    this.generation += 1;
  };
  /** snapshots taken so far (for tests) */
  builds = 0;

  constructor(
    private readonly view: SupervisorView,
    readonly resources: ResourceReader,
    options: SnapshotCacheOptions = {},
  ) {
    this.maxAgeMs = options.maxAgeMs ?? 1000;
    this.now = options.now ?? (() => performance.now());
    view.on('state', this.changed);
    view.on('check', this.changed);
    view.on('reaped', this.changed);
    view.on('reload', this.changed);
  }

  get(): Snapshot {
    const at = this.now();
    const current = this.current;
    if (
      current &&
      current.generation === this.generation &&
      current.snapshot.phase === this.view.phase &&
      at - current.at < this.maxAgeMs
    )
      return current.snapshot;
    const snapshot = this.take();
    this.current = { generation: this.generation, at, snapshot };
    return snapshot;
  }

  /** stops listening to the supervisor */
  close(): void {
    this.view.off('state', this.changed);
    this.view.off('check', this.changed);
    this.view.off('reaped', this.changed);
    this.view.off('reload', this.changed);
  }

  private take(): Snapshot {
    this.builds += 1;
    return {
      phase: this.view.phase,
      components: toJson(this.view.components(), this.resources),
      derived: { one: new Map(), metrics: new Map() },
    };
  }
}
