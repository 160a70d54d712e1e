// The metrics of design.md §6 in a registry of our own (not prom-client's global one), plus
// prom-client's default metrics. Component gauges and counters are filled from one snapshot of
// the supervisor and one /proc pass per scrape, so a scrape is consistent and costs nothing
// between scrapes; probe results, reaped orphans and reloads arrive as events.
import {
  Counter,
  collectDefaultMetrics,
  Gauge,
  Histogram,
  type Metric,
  Registry,
  type RegistryContentType,
} from 'prom-client';
import {
  type ComponentStatus,
  componentStates,
  exitReasons,
  type SupervisorView,
} from '../supervisor/status.js';
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

/** seconds: probes range from a loopback TCP connect to a slow exec hitting its timeout */
const checkBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(view: SupervisorView, options: MetricsOptions): SupervisorMetrics {
  const registry = new Registry<RegistryContentType>();
  const registers = [registry];
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

  const up = new Gauge({
    name: 's7supervisor_component_up',
    help: "1 while the component's process runs",
    labelNames: ['component'],
    registers,
  });
  const ready = new Gauge({
    name: 's7supervisor_component_ready',
    help: '1 while the component is ready',
    labelNames: ['component'],
    registers,
  });
  const state = new Gauge({
    name: 's7supervisor_component_state',
    help: '1 for the current state of the component, 0 for the others',
    labelNames: ['component', 'state'],
    registers,
  });
  const restarts = new Counter({
    name: 's7supervisor_component_restarts_total',
    help: 'Restarts of the component',
    labelNames: ['component'],
    registers,
  });
  const exits = new Counter({
    name: 's7supervisor_component_exits_total',
    help: 'Exits of the component, by reason',
    labelNames: ['component', 'reason'],
    registers,
  });
  const lastExitCode = new Gauge({
    name: 's7supervisor_component_last_exit_code',
    help: 'Exit code of the last run of the component (128+N when signal N ended it)',
    labelNames: ['component'],
    registers,
  });
  const startTime = new Gauge({
    name: 's7supervisor_component_start_time_seconds',
    help: 'Unix time of the last start of the component',
    labelNames: ['component'],
    registers,
  });
  const memory = new Gauge({
    name: 's7supervisor_component_resident_memory_bytes',
    help: "Resident memory of the component's whole process group",
    labelNames: ['component'],
    registers,
  });
  const cpu = new Counter({
    name: 's7supervisor_component_cpu_seconds_total',
    help: "CPU time (user and system) of the component's process group in its current run",
    labelNames: ['component'],
    registers,
  });
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

  const snapshotted: Metric[] = [up, ready, state, restarts, exits, lastExitCode, startTime, memory, cpu];
  const fillFromSnapshot = (components: ComponentStatus[]) => {
    for (const metric of snapshotted) metric.reset();
    const resources = componentResources(components);
    for (const c of components) {
      const component = c.id;
      up.set({ component }, c.pid !== undefined ? 1 : 0);
      ready.set({ component }, c.ready ? 1 : 0);
      for (const s of componentStates) state.set({ component, state: s }, s === c.state ? 1 : 0);
      // the snapshot's counts are cumulative over the supervisor's life: the counters show them
      restarts.inc({ component }, c.restarts);
      for (const reason of exitReasons) exits.inc({ component, reason }, c.exits[reason]);
      if (c.lastExit) lastExitCode.set({ component }, c.lastExit.code);
      if (c.startedAt !== undefined) startTime.set({ component }, c.startedAt / 1000);
      const group = resources.get(component);
      if (group) {
        memory.set({ component }, group.rssBytes);
        cpu.inc({ component }, group.cpuSeconds);
      }
    }
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

  const renderNow = async (format: ExpositionFormat): Promise<RenderedMetrics> => {
    fillFromSnapshot(view.components());
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
      const result = queue.then(() => renderNow(format));
      queue = result.catch(() => {});
      return result;
    },
    close() {
      view.off('check', onCheck);
      view.off('reaped', onReaped);
      view.off('reload', onReload);
    },
  };
}
