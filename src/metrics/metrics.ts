// The metrics of design.md §6 in a registry of our own (not prom-client's global one), plus
// prom-client's default metrics. Component gauges and counters are filled from one snapshot of
// the supervisor and the shared /proc reading (resources.ts) per scrape, so a scrape is consistent
// and costs nothing between scrapes; probe results, reaped orphans and reloads arrive as events.
import { collectDefaultMetrics, Registry, type RegistryContentType } from 'prom-client';
import type { SupervisorView } from '../supervisor/status.js';
import { defineMetrics } from './definitions.js';
import { withLoopDelayHistogram } from './loop-delay.js';
import { metricsRenderer, type RenderedMetrics } from './render.js';
import { createResourceReader, type ResourceReader } from './resources.js';
import { followSupervisor } from './series.js';

export type { RenderedMetrics } from './render.js';

export interface MetricsOptions {
  version: string;
  /** whether the supervisor runs as PID 1 (label of s7supervisor_info) */
  pid1: boolean;
  /** prom-client's process and Node.js metrics; on unless false */
  defaultMetrics?: boolean;
  /** the shared, rate-bounded /proc reading (one of its own unless given) */
  resources?: ResourceReader;
}

export interface SupervisorMetrics {
  readonly registry: Registry<RegistryContentType>;
  /** one scrape, in the format the Accept header asks for */
  render(accept?: string): Promise<RenderedMetrics>;
  /** stops listening to the supervisor's events */
  close(): void;
}

export function createMetrics(view: SupervisorView, options: MetricsOptions): SupervisorMetrics {
  const registry = new Registry<RegistryContentType>();
  // prom-client samples event-loop delay with a timer every 10 ms by default: 100 wake-ups a
  // second in an otherwise idle supervisor. Its nodejs_eventloop_lag_* metrics read our
  // histogram instead, fed by the check timers and the scrapes (loop-delay.ts): no timer.
  if (options.defaultMetrics !== false)
    withLoopDelayHistogram(() => collectDefaultMetrics({ register: registry }));
  // the component series read the snapshot that the renderer has the series take before each scrape
  const events = defineMetrics(registry, () => series.current(), options);
  const series = followSupervisor(view, events, options.resources ?? createResourceReader());
  return {
    registry,
    render: metricsRenderer(registry, () => series.takeSnapshot()),
    close: () => series.close(),
  };
}
