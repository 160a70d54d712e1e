// deploy/grafana: the dashboard is well-formed, covers what issue 7 asks for, reads only the
// metrics of design.md §6 (plus prom-client's defaults and `up`), and its PromQL parses (promtool).
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { stringify } from 'yaml';
import { makeTempDir } from '../helpers/paths.js';
import { repoFile, runTool } from './files.js';
import { isKnownMetric, metricNames } from './promql.js';

interface Target {
  expr?: string;
  refId?: string;
  datasource?: { uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title?: string;
  gridPos?: { h: number; w: number; x: number; y: number };
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query?: unknown; definition?: string }> };
}

const dashboard = JSON.parse(
  readFileSync(repoFile('deploy/grafana/s7supervisor-dashboard.json'), 'utf8'),
) as Dashboard;
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const graphs = panels.filter((p) => p.type !== 'row');
const exprs = graphs.flatMap((p) =>
  (p.targets ?? []).map((t) => ({ panel: p.title ?? '', expr: t.expr ?? '' })),
);

const temp = makeTempDir('s7sup-grafana-');
after(() => rmSync(temp, { recursive: true, force: true }));

test('the dashboard is well-formed: unique ids, titles, layout, the datasource variable', () => {
  assert.equal(dashboard.uid, 's7supervisor');
  assert.ok(dashboard.schemaVersion >= 36);
  const ids = panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  assert.ok(
    dashboard.templating.list.some((v) => v.name === 'datasource' && v.type === 'datasource'),
    'a datasource variable, so the dashboard imports into any Grafana',
  );
  for (const panel of graphs) {
    assert.ok(panel.title, `panel ${panel.id} has a title`);
    assert.ok(
      panel.gridPos && panel.gridPos.w > 0 && panel.gridPos.x + panel.gridPos.w <= 24,
      `${panel.title} layout`,
    );
    // Grafana's own variable syntax, not a template literal
    assert.equal(panel.datasource?.uid, `\${datasource}`, `${panel.title} uses the datasource variable`);
    assert.ok((panel.targets ?? []).length > 0, `${panel.title} has queries`);
    for (const target of panel.targets ?? [])
      assert.ok(target.expr?.trim(), `${panel.title} ${target.refId} has an expr`);
  }
});

test('every query reads only metrics of design.md §6, prom-client defaults or up', () => {
  const variableQueries = dashboard.templating.list.flatMap((v) => (v.definition ? [v.definition] : []));
  const all = [
    ...exprs,
    ...variableQueries.map((q) => ({
      panel: 'variable',
      expr: q.replace(/^label_values\((.*),\s*\w+\)$/, '$1'),
    })),
  ];
  for (const { panel, expr } of all) {
    const names = metricNames(expr);
    assert.ok(names.length > 0, `${panel}: ${expr} reads some metric`);
    for (const name of names)
      assert.ok(isKnownMetric(name), `${panel}: ${name} is not a metric of design.md §6`);
  }
});

test('the dashboard shows what issue 7 asks for', () => {
  const reading = (metric: string) => exprs.filter((e) => metricNames(e.expr).includes(metric));
  for (const metric of [
    's7supervisor_component_state',
    's7supervisor_component_restarts_total',
    's7supervisor_component_ready',
    's7supervisor_component_up',
    's7supervisor_component_resident_memory_bytes',
    's7supervisor_component_cpu_seconds_total',
    's7supervisor_zombies_reaped_total',
    's7supervisor_reloads_total',
  ]) {
    assert.ok(reading(metric).length > 0, `a panel shows ${metric}`);
  }
  assert.ok(
    reading('s7supervisor_component_restarts_total').some((e) => /\b(rate|increase)\(/.test(e.expr)),
    'restarts as a rate',
  );
  assert.ok(
    reading('s7supervisor_component_cpu_seconds_total').some((e) => /\brate\(/.test(e.expr)),
    'CPU as a rate',
  );
  assert.ok(
    reading('s7supervisor_check_duration_seconds_bucket').some((e) => /histogram_quantile\(/.test(e.expr)),
    'probe latency quantiles',
  );
});

test('every query is valid PromQL (promtool parses them as recording rules)', () => {
  // Grafana's variables become what they expand to: a range, or a regex matching every value
  const rules = exprs.map(({ expr }, i) => ({
    record: `grafana_panel_query_${i}`,
    expr: expr.replaceAll('$__rate_interval', '5m').replace(/\$\{?\w+\}?/g, '.+'),
  }));
  const file = join(temp, 'dashboard-queries.yml');
  writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules }] }));
  const run = runTool('promtool', ['check', 'rules', file]);
  assert.equal(run.status, 0, run.output);
  assert.match(run.output, new RegExp(`SUCCESS: ${rules.length} rules found`));
});
