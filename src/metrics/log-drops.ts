// s7supervisor_log_dropped_bytes_total (design.md §6 rev. 2): output bytes of each component that
// the log could not take (stdout gone, or held past its bound), as counted by the output buffers
// (src/log/buffer.ts). Computed at scrape time; every current component is present from 0, and a
// component a reload removed disappears with its count.
import { Counter, type Registry, type RegistryContentType } from 'prom-client';
import type { SupervisorView } from '../supervisor/status.js';

export interface DroppedBytesSource {
  droppedBytes(): ReadonlyMap<string, number>;
}

class DroppedBytesCounter extends Counter {
  constructor(
    registry: Registry<RegistryContentType>,
    private readonly view: SupervisorView,
    private readonly source: DroppedBytesSource,
  ) {
    super({
      name: 's7supervisor_log_dropped_bytes_total',
      help: 'Output bytes of the component dropped by the log (stdout gone, or a bound reached)',
      labelNames: ['component'],
      registers: [registry],
    });
  }

  override async get() {
    const dropped = this.source.droppedBytes();
    const values = this.view
      .components()
      .map((c) => ({ labels: { component: c.id }, value: dropped.get(c.id) ?? 0 }));
    return { ...(await super.get()), values };
  }
}

/** adds the counter to `registry` (the one createMetrics made) */
export function registerLogDropMetric(
  registry: Registry<RegistryContentType>,
  view: SupervisorView,
  source: DroppedBytesSource,
): void {
  new DroppedBytesCounter(registry, view, source);
}
