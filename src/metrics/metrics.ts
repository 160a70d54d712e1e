// The metrics of design.md §6 in a registry of our own (not prom-client's global one), plus
// prom-client's default metrics. Component gauges and counters are filled from one snapshot of
// the supervisor and one /proc pass per scrape, so a scrape is consistent and costs nothing
// between scrapes; probe results, reaped orphans and reloads arrive as events.
import {
  Counter,
  type CounterConfiguration,
  collectDefaultMetrics,
  Gauge,
  type GaugeConfiguration,
  Histogram,
  Registry,
  type RegistryContentType,
} from 'prom-client';
import type { GroupStats } from '../process/procfs.js';
import {
  type ComponentStatus,
  componentStates,
  exitReasons,
  type SupervisorView,
} from '../supervisor/status.js';
import { sampleLoopTurn, withLoopDelayHistogram } from './loop-delay.js';
import { type ExpositionFormat, negotiateFormat } from './negotiate.js';
import { componentResources } from './resources.js';

export interface MetricsOptions {
  version: string;
  /** whether the supervisor runs as PID 1 (label of s7supervisor_info) */
  pid1: boolean;
  /** prom-client's process and Node.js metrics; on unless false */
  defaultMetrics?: boolean;
}

export interface RenderedMetrics {
  contentType: string;
  body: string;
}

export interface SupervisorMetrics {
  readonly registry: Registry<RegistryContentType>;
  /** one scrape, in the format the Accept header asks for */
  render(accept?: string): Promise<RenderedMetrics>;
  /** stops listening to the supervisor's events */
  close(): void;
}

interface Scrape {
  components: ComponentStatus[];
  resources: Map<string, GroupStats>;
}

interface Sample {
  labels: Record<string, string | number>;
  value: number;
}

/** A gauge whose series are computed when the registry renders it (prom-client calls get()). */
class SnapshotGauge extends Gauge {
  constructor(
    config: GaugeConfiguration<string>,
    private readonly samples: () => Sample[],
  ) {
    super(config);
  }

  override async get() {
    return { ...(await super.get()), values: this.samples() };
  }
}

/** A counter whose series are computed when the registry renders it, from cumulative counts. */
class SnapshotCounter extends Counter {
  constructor(
    config: CounterConfiguration<string>,
    private readonly samples: () => Sample[],
  ) {
    super(config);
  }

  override async get() {
    return { ...(await super.get()), values: this.samples() };
  }
}

/** seconds: probes range from a loopback TCP connect to a slow exec hitting its timeout */
const checkBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(view: SupervisorView, options: MetricsOptions): SupervisorMetrics {
  const registry = new Registry<RegistryContentType>();
  const registers = [registry];
  // prom-client samples event-loop delay with a timer every 10 ms by default: 100 wake-ups a
  // second in an otherwise idle supervisor. Its nodejs_eventloop_lag_* metrics read our
  // histogram instead, fed by the check timers and the scrapes (loop-delay.ts): no timer.
  if (options.defaultMetrics !== false)
    withLoopDelayHistogram(() => collectDefaultMetrics({ register: registry }));

  // The component metrics are computed from the scrape's snapshot when the registry asks for
  // them: no per-series bookkeeping between scrapes, and a component removed by a reload simply
  // is not there any more.
  let scrape: Scrape = { components: [], resources: new Map() };
  const perComponent =
    (value: (c: ComponentStatus, group: GroupStats | undefined) => number | undefined) => () => {
      const samples: Sample[] = [];
      for (const c of scrape.components) {
        const v = value(c, scrape.resources.get(c.id));
        if (v !== undefined) samples.push({ labels: { component: c.id }, value: v });
      }
      return samples;
    };

  new SnapshotGauge(
    {
      name: 's7supervisor_component_up',
      help: "1 while the component's process runs",
      labelNames: ['component'],
      registers,
    },
    perComponent((c) => (c.pid !== undefined ? 1 : 0)),
  );
  new SnapshotGauge(
    {
      name: 's7supervisor_component_ready',
      help: '1 while the component is ready',
      labelNames: ['component'],
      registers,
    },
    perComponent((c) => (c.ready ? 1 : 0)),
  );
  new SnapshotGauge(
    {
      name: 's7supervisor_component_state',
      help: '1 for the current state of the component, 0 for the others',
      labelNames: ['component', 'state'],
      registers,
    },
    () =>
      scrape.components.flatMap((c) =>
        componentStates.map((state) => ({
          labels: { component: c.id, state },
          value: state === c.state ? 1 : 0,
        })),
      ),
  );
  // the snapshot's counts are cumulative over the supervisor's life: the counters show them as they are
  new SnapshotCounter(
    {
      name: 's7supervisor_component_restarts_total',
      help: 'Restarts of the component',
      labelNames: ['component'],
      registers,
    },
    perComponent((c) => c.restarts),
  );
  new SnapshotCounter(
    {
      name: 's7supervisor_component_exits_total',
      help: 'Exits of the component, by reason',
      labelNames: ['component', 'reason'],
      registers,
    },
    () =>
      scrape.components.flatMap((c) =>
        exitReasons.map((reason) => ({ labels: { component: c.id, reason }, value: c.exits[reason] })),
      ),
  );
  new SnapshotGauge(
    {
      name: 's7supervisor_component_last_exit_code',
      help: 'Exit code of the last run of the component (128+N when signal N ended it)',
      labelNames: ['component'],
      registers,
    },
    perComponent((c) => c.lastExit?.code),
  );
  new SnapshotGauge(
    {
      name: 's7supervisor_component_start_time_seconds',
      help: 'Unix time of the last start of the component',
      labelNames: ['component'],
      registers,
    },
    perComponent((c) => (c.startedAt === undefined ? undefined : c.startedAt / 1000)),
  );
  new SnapshotGauge(
    {
      name: 's7supervisor_component_resident_memory_bytes',
      help: "Resident memory of the component's whole process group",
      labelNames: ['component'],
      registers,
    },
    perComponent((_c, group) => group?.rssBytes),
  );
  new SnapshotCounter(
    {
      name: 's7supervisor_component_cpu_seconds_total',
      help: "CPU time (user and system) of the component's process group in its current run",
      labelNames: ['component'],
      registers,
    },
    perComponent((_c, group) => group?.cpuSeconds),
  );
  const checkDuration = new Histogram({
    name: 's7supervisor_check_duration_seconds',
    help: 'Duration of readiness and liveness probes',
    labelNames: ['component', 'check'],
    buckets: checkBuckets,
    registers,
  });
  const checkFailures = new Counter({
    name: 's7supervisor_check_failures_total',
    help: 'Failed readiness and liveness probes',
    labelNames: ['component', 'check'],
    registers,
  });
  const zombies = new Counter({
    name: 's7supervisor_zombies_reaped_total',
    help: 'Orphaned processes (not components) reaped by the supervisor',
    registers,
  });
  const reloads = new Counter({
    name: 's7supervisor_reloads_total',
    help: 'Registry reloads, by result',
    labelNames: ['result'],
    registers,
  });
  const info = new Gauge({
    name: 's7supervisor_info',
    help: 'Always 1: the version of s7supervisor and whether it runs as PID 1',
    labelNames: ['version', 'pid1'],
    registers,
  });
  info.set({ version: options.version, pid1: String(options.pid1) }, 1);
  zombies.inc(0);
  reloads.inc({ result: 'success' }, 0);
  reloads.inc({ result: 'failure' }, 0);

  // component → checks seen, to drop their series when a reload removes the component
  const checkSeries = new Map<string, Set<string>>();
  const onCheck = (component: string, kind: string, ok: boolean, durationSeconds: number) => {
    const labels = { component, check: kind };
    checkDuration.observe(labels, durationSeconds);
    checkFailures.inc(labels, ok ? 0 : 1);
    const kinds = checkSeries.get(component) ?? new Set<string>();
    kinds.add(kind);
    checkSeries.set(component, kinds);
  };
  const onReaped = (count: number) => zombies.inc(count);
  const onReload = (result: 'success' | 'failure') => reloads.inc({ result });
  view.on('check', onCheck);
  view.on('reaped', onReaped);
  view.on('reload', onReload);

  const takeSnapshot = () => {
    const components = view.components();
    scrape = { components, resources: componentResources(components) };
    const present = new Set(components.map((c) => c.id));
    for (const [component, kinds] of checkSeries) {
      if (present.has(component)) continue;
      for (const check of kinds) {
        checkDuration.remove({ component, check });
        checkFailures.remove({ component, check });
      }
      checkSeries.delete(component);
    }
  };

  // prom-client renames counters in place (drops `_total`) when it renders OpenMetrics, and
  // never renames them back: remember the names, and render one scrape at a time.
  // (getMetricsAsArray hands out the metric objects themselves, whose `name` prom-client mutates)
  const counterNames = new Map<{ name: string }, string>();
  const rememberCounters = () => {
    for (const metric of registry.getMetricsAsArray()) {
      if (metric instanceof Counter && !counterNames.has(metric)) counterNames.set(metric, metric.name);
    }
  };
  rememberCounters();
  let queue: Promise<unknown> = Promise.resolve();
  const inFlight = new Map<ExpositionFormat, Promise<RenderedMetrics>>();

  const renderNow = async (format: ExpositionFormat): Promise<RenderedMetrics> => {
    // a scrape is a moment the loop works anyway: one sample of its delay
    await sampleLoopTurn();
    takeSnapshot();
    if (format === 'prometheus') return { contentType: registry.contentType, body: await registry.metrics() };
    rememberCounters();
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    try {
      return { contentType: registry.contentType, body: await registry.metrics() };
    } finally {
      registry.setContentType(Registry.PROMETHEUS_CONTENT_TYPE);
      for (const [metric, name] of counterNames) metric.name = name;
    }
  };

  return {
    registry,
    render(accept?: string) {
      const format = negotiateFormat(accept);
      // scrapes that arrive while one of the same format is pending share its result
      const pending = inFlight.get(format);
      if (pending) return pending;
      const result = queue.then(() => renderNow(format));
      inFlight.set(format, result);
      queue = result.then(
        () => inFlight.delete(format),
        () => inFlight.delete(format),
      );
      return result;
    },
    close() {
      view.off('check', onCheck);
      view.off('reaped', onReaped);
      view.off('reload', onReload);
    },
  };
}
