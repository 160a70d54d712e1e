// Event-loop delay without a sampler that wakes an idle supervisor. prom-client's default metrics
// measure it with perf_hooks.monitorEventLoopDelay, a libuv timer firing every
// `eventLoopMonitoringPrecision` ms for the life of the process: 10 (or 100) wake-ups a second
// for a supervisor that otherwise has nothing to do. Here the delay is sampled where the loop
// works anyway: by how late each check's timer fires, and by one turn of the loop at each scrape.
// An idle loop has no delay to measure: nothing waits in it.
//
// prom-client's eventLoopLag metrics (nodejs_eventloop_lag_*_seconds: names, help, types) are kept
// as they are; only the histogram they read from is this one (see withLoopDelayHistogram).
import { createRequire } from 'node:module';
import type { IntervalHistogram, RecordableHistogram } from 'node:perf_hooks';

// node:perf_hooks is loaded with the first sample or the metrics, not with this module: `run`
// imports it before its first spawn, which needs neither
const loadPerfHooks = () =>
  createRequire(import.meta.url)('node:perf_hooks') as typeof import('node:perf_hooks');
let made: RecordableHistogram | undefined;
const samples = () => {
  made ??= loadPerfHooks().createHistogram();
  return made;
};

/** one sample of event-loop delay, in milliseconds (how late something ran) */
export function recordLoopDelay(ms: number): void {
  // the histogram counts whole nanoseconds from 1 up
  samples().record(Math.max(1, Math.round(ms * 1e6)));
}

/** a timer (setTimeout) that records how late it fired as a sample of event-loop delay */
export function delaySampledTimeout(callback: () => void, ms: number): NodeJS.Timeout {
  const due = performance.now() + ms;
  return setTimeout(() => {
    recordLoopDelay(Math.max(0, performance.now() - due));
    callback();
  }, ms);
}

/** resolves on the next turn of the loop, recording how long that took (prom-client's own lag measure) */
export function sampleLoopTurn(): Promise<void> {
  const start = performance.now();
  return new Promise((resolve) =>
    setImmediate(() => {
      recordLoopDelay(performance.now() - start);
      resolve();
    }),
  );
}

/**
 * What prom-client reads from monitorEventLoopDelay(), served from the samples above. With no
 * sample since the last scrape the figures are 0 (nothing waited), not a histogram's NaN and
 * 2^63 ns.
 */
const promClientView: LoopDelayView = {
  enable: () => true,
  disable: () => true,
  get min() {
    return samples().count === 0 ? 0 : samples().min;
  },
  get max() {
    return samples().max;
  },
  get mean() {
    return samples().count === 0 ? 0 : samples().mean;
  },
  get stddev() {
    return samples().count === 0 ? 0 : samples().stddev;
  },
  percentile: (p: number) => samples().percentile(p),
  reset: () => samples().reset(),
};

/** what prom-client reads of the histogram monitorEventLoopDelay() returns */
type LoopDelayView = Pick<
  IntervalHistogram,
  'enable' | 'disable' | 'min' | 'max' | 'mean' | 'stddev' | 'percentile' | 'reset'
>;

/**
 * Runs `register` (prom-client's collectDefaultMetrics) with monitorEventLoopDelay answering our
 * histogram instead of starting a timer. prom-client looks the function up on the perf_hooks
 * module when its eventLoopLag metric is created, so it is replaced for that call only.
 */
export function withLoopDelayHistogram<T>(register: () => T): T {
  // seen through the part prom-client uses, the module's function may be replaced by ours
  const hooks: { monitorEventLoopDelay: () => LoopDelayView } = loadPerfHooks();
  const original = hooks.monitorEventLoopDelay;
  hooks.monitorEventLoopDelay = () => promClientView;
  try {
    return register();
  } finally {
    hooks.monitorEventLoopDelay = original;
  }
}
