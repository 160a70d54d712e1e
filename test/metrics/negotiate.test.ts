import assert from 'node:assert/strict';
import { test } from 'node:test';
import { negotiateFormat } from '../../src/metrics/negotiate.js';

test('OpenMetrics only when the scraper prefers it explicitly', () => {
  // Prometheus 2.x
  assert.equal(
    negotiateFormat(
      'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
    ),
    'openmetrics',
  );
  assert.equal(negotiateFormat('application/openmetrics-text; version=1.0.0; charset=utf-8'), 'openmetrics');
  // curl, browsers, old scrapers
  assert.equal(negotiateFormat(undefined), 'prometheus');
  assert.equal(negotiateFormat(''), 'prometheus');
  assert.equal(negotiateFormat('*/*'), 'prometheus');
  assert.equal(negotiateFormat('text/plain;version=0.0.4'), 'prometheus');
  assert.equal(negotiateFormat('text/html,application/xhtml+xml,*/*;q=0.8'), 'prometheus');
  // a tie or a lower weight keeps the classic format
  assert.equal(negotiateFormat('application/openmetrics-text;q=0.5,text/plain;q=0.5'), 'prometheus');
  assert.equal(negotiateFormat('text/plain,application/openmetrics-text;q=0.9'), 'prometheus');
  assert.equal(negotiateFormat('application/openmetrics-text;q=0'), 'prometheus');
  assert.equal(negotiateFormat('application/openmetrics-text;q=0.2,*/*;q=0.1'), 'openmetrics');
});
