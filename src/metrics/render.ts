// One scrape at a time, in the format the scraper asked for, with prom-client's OpenMetrics quirk
// undone: it renames counters in place (drops `_total`) when it renders OpenMetrics, and never
// renames them back, so the names are remembered and restored after each OpenMetrics render.
import { Counter, Registry, type RegistryContentType } from 'prom-client';
import { sampleLoopTurn } from './loop-delay.js';
import { type ExpositionFormat, negotiateFormat } from './negotiate.js';

export interface RenderedMetrics {
  contentType: string;
  body: string;
}

/**
 * Renders `registry`, calling `beforeRender` (the snapshot the series are computed from) first.
 * Scrapes that arrive while one of the same format is pending share its result.
 */
export function metricsRenderer(
  registry: Registry<RegistryContentType>,
  beforeRender: () => void,
): (accept?: string) => Promise<RenderedMetrics> {
  // getMetricsAsArray hands out the metric objects themselves, whose `name` prom-client mutates
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
    beforeRender();
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

  return (accept?: string) => {
    const format = negotiateFormat(accept);
    const pending = inFlight.get(format);
    if (pending) return pending;
    const result = queue.then(() => renderNow(format));
    inFlight.set(format, result);
    queue = result.then(
      () => inFlight.delete(format),
      () => inFlight.delete(format),
    );
    return result;
  };
}
