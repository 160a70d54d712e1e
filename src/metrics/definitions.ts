// The metrics of design.md §6: names, help, types, labels and buckets, in one place. The component
// series are computed from the scrape's snapshot (series.ts) when the registry renders them: no
// per-series bookkeeping between scrapes, and a component removed by a reload simply is not there
// any more. Probe results, reaped orphans and reloads arrive as events and are counted as usual.
import {
  Counter,
  type CounterConfiguration,
  Gauge,
  type GaugeConfiguration,
  Histogram,
  type Registry,
  type RegistryContentType,
} from 'prom-client';
import type { GroupStats } from '../process/procfs.js';
import {
  type ComponentStatus,
  componentStates,
  exitReasons,
  type ScheduledRuns,
} from '../supervisor/status.js';

const scheduledRunResults: ReadonlyArray<keyof ScheduledRuns> = ['succeeded', 'failed', 'skipped'];

/** what one scrape reads its component series from */
export interface Scrape {
  components: ComponentStatus[];
  resources: ReadonlyMap<string, Readonly<GroupStats>>;
}

/** the metrics fed by events rather than by the snapshot */
export interface EventMetrics {
  checkDuration: Histogram<'component' | 'check'>;
  checkFailures: Counter<'component' | 'check'>;
  zombies: Counter;
  reloads: Counter<'result'>;
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

export function defineMetrics(
  registry: Registry<RegistryContentType>,
  scrape: () => Scrape,
  identity: { version: string; pid1: boolean },
): EventMetrics {
  const registers = [registry];
  const perComponent =
    (value: (c: ComponentStatus, group: Readonly<GroupStats> | undefined) => number | undefined) => () => {
      const samples: Sample[] = [];
      const { components, resources } = scrape();
      for (const c of components) {
        const v = value(c, resources.get(c.id));
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
      scrape().components.flatMap((c) =>
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
      scrape().components.flatMap((c) =>
        exitReasons.map((reason) => ({ labels: { component: c.id, reason }, value: c.exits[reason] })),
      ),
  );
  new SnapshotCounter(
    {
      name: 's7supervisor_component_scheduled_runs_total',
      help: 'Runs of a scheduled oneshot, by result (skipped: due while the last run still went on)',
      labelNames: ['component', 'result'],
      registers,
    },
    () =>
      scrape().components.flatMap((c) => {
        const runs = c.scheduledRuns;
        if (!runs) return [];
        return scheduledRunResults.map((result) => ({
          labels: { component: c.id, result },
          value: runs[result],
        }));
      }),
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
  new SnapshotGauge(
    {
      name: 's7supervisor_component_memory_limit_bytes',
      help: 'The <limits memory> of the component (only for components that have one)',
      labelNames: ['component'],
      registers,
    },
    perComponent((c) => c.memoryLimitBytes),
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
  info.set({ version: identity.version, pid1: String(identity.pid1) }, 1);
  zombies.inc(0);
  reloads.inc({ result: 'success' }, 0);
  reloads.inc({ result: 'failure' }, 0);

  return { checkDuration, checkFailures, zombies, reloads };
}
