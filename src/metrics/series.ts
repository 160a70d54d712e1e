// The supervisor → series update: the snapshot each scrape is computed from, and the events that
// feed the counters. A component a reload removed takes its probe series with it.
import type { ReloadAttempt, SupervisorView } from '../supervisor/status.js';
import type { EventMetrics, Scrape } from './definitions.js';
import type { ResourceReader } from './resources.js';

export interface SupervisorSeries {
  /** what the component series are computed from (the last snapshot taken) */
  current(): Scrape;
  /** reads the supervisor and /proc now, for the scrape about to render */
  takeSnapshot(): void;
  /** stops listening to the supervisor's events */
  close(): void;
}

export function followSupervisor(
  view: SupervisorView,
  metrics: EventMetrics,
  resources: ResourceReader,
): SupervisorSeries {
  const { checkDuration, checkFailures, zombies, reloads } = metrics;
  let scrape: Scrape = { components: [], resources: new Map() };
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
  const onReload = ({ result }: ReloadAttempt) => reloads.inc({ result });
  view.on('check', onCheck);
  view.on('reaped', onReaped);
  view.on('reload', onReload);

  const takeSnapshot = () => {
    const components = view.components();
    scrape = { components, resources: resources.read(components) };
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

  return {
    current: () => scrape,
    takeSnapshot,
    close() {
      view.off('check', onCheck);
      view.off('reaped', onReaped);
      view.off('reload', onReload);
    },
  };
}
