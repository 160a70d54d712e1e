// Event-loop delay without a sampler timer: prom-client's nodejs_eventloop_lag_* metrics read the
// samples that check timers and scrapes record, and no monitorEventLoopDelay timer is started.
import assert from 'node:assert/strict';
import perfHooks from 'node:perf_hooks';
import { test } from 'node:test';
import { delaySampledTimeout, recordLoopDelay } from '../../src/metrics/loop-delay.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { metricTypes, sampleValue } from '../helpers/exposition.js';
import { FakeView } from '../helpers/fake-view.js';

test('no event-loop sampler: monitorEventLoopDelay is never called, and is left as it was', () => {
  const original = perfHooks.monitorEventLoopDelay;
  let calls = 0;
  perfHooks.monitorEventLoopDelay = ((...args: Parameters<typeof original>) => {
    calls++;
    return original(...args);
  }) as typeof original;
  try {
    const metrics = createMetrics(new FakeView([]), { version: '1.0.0', pid1: false });
    metrics.close();
    assert.equal(calls, 0, 'prom-client did not start its own sampler');
  } finally {
    perfHooks.monitorEventLoopDelay = original;
  }
  const metrics = createMetrics(new FakeView([]), { version: '1.0.0', pid1: false });
  metrics.close();
  assert.equal(perfHooks.monitorEventLoopDelay, original);
});

test("prom-client's lag metrics show the samples: a stalled check timer, then nothing (0, not NaN)", async () => {
  const metrics = createMetrics(new FakeView([]), { version: '1.0.0', pid1: false });
  try {
    // a scrape resets the histogram, as prom-client does with its own
    await metrics.render();
    // a check timer that fires 200 ms late because the loop was blocked
    const fired = new Promise<void>((resolve) => delaySampledTimeout(resolve, 10));
    const until = Date.now() + 210;
    while (Date.now() < until);
    await fired;
    recordLoopDelay(0.5);
    const { body } = await metrics.render();
    const types = metricTypes(body);
    for (const name of ['min', 'max', 'mean', 'stddev', 'p50', 'p90', 'p99'])
      assert.equal(types.get(`nodejs_eventloop_lag_${name}_seconds`), 'gauge', name);
    const max = sampleValue(body, 'nodejs_eventloop_lag_max_seconds');
    assert.ok(max !== undefined && max >= 0.19 && max < 5, `max ${max}`);
    const min = sampleValue(body, 'nodejs_eventloop_lag_min_seconds');
    assert.ok(min !== undefined && min < 0.1, `min ${min}`);

    // nothing recorded since but the scrape's own turn of the loop: small, finite figures
    const next = (await metrics.render()).body;
    for (const name of ['min', 'max', 'mean', 'stddev', 'p99']) {
      const value = sampleValue(next, `nodejs_eventloop_lag_${name}_seconds`);
      assert.ok(value !== undefined && Number.isFinite(value) && value < 0.1, `${name} ${value}`);
    }
  } finally {
    metrics.close();
  }
});
