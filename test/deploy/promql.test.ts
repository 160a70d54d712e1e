import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isKnownMetric, metricNames } from './promql.js';

test('metricNames finds the metrics of an expression and nothing else', () => {
  const expr = `histogram_quantile(0.95, sum by (le, component) (rate(s7supervisor_check_duration_seconds_bucket{component=~"$component", check="readiness"}[$__rate_interval])))
    / on (instance) group_left (version) s7supervisor_info or up{job="s7supervisor"} == bool 0 offset 5m
    unless ignoring (state) (time() - process_start_time_seconds > 1e3)`;
  assert.deepEqual(metricNames(expr).sort(), [
    'process_start_time_seconds',
    's7supervisor_check_duration_seconds_bucket',
    's7supervisor_info',
    'up',
  ]);
});

test('isKnownMetric accepts design.md §6 names, histogram series and prom-client defaults only', () => {
  assert.ok(isKnownMetric('s7supervisor_component_restarts_total'));
  assert.ok(isKnownMetric('s7supervisor_check_duration_seconds_bucket'));
  assert.ok(isKnownMetric('process_resident_memory_bytes'));
  assert.ok(isKnownMetric('up'));
  assert.ok(!isKnownMetric('s7supervisor_check_duration_seconds'), 'a histogram is read by its series');
  assert.ok(!isKnownMetric('s7supervisor_component_restarts'));
  assert.ok(!isKnownMetric('kube_pod_container_status_restarts_total'));
});
