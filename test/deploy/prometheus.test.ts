// deploy/prometheus: the scrape config and alert rules pass promtool, and every alert is unit-tested
// (alerts.test.yml) both firing and staying silent.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { before, test } from 'node:test';
import { at, demoRegistryTimes, type Json, readYaml, runTool } from './files.js';
import { isKnownMetric, metricNames } from './promql.js';

const dir = 'deploy/prometheus';

interface AlertRule {
  alert: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

function alertRules(): AlertRule[] {
  const groups = at(readYaml(`${dir}/alerts.yml`), 'groups') as Array<{ rules: Json[] }>;
  return groups.flatMap((group) => group.rules).filter((rule) => 'alert' in rule) as unknown as AlertRule[];
}

before(() => {
  const probe = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  if (probe.error) {
    throw new Error(
      "promtool is not installed: it comes with Debian's prometheus package (bash scripts/install-system-deps.sh)",
    );
  }
});

test('promtool check config accepts prometheus.yml (and the rule files it loads)', () => {
  const run = runTool('promtool', ['check', 'config', `${dir}/prometheus.yml`]);
  assert.equal(run.status, 0, run.output);
  assert.match(run.output, /SUCCESS: \d+ rules found/);
});

test('promtool check rules accepts alerts.yml', () => {
  const run = runTool('promtool', ['check', 'rules', `${dir}/alerts.yml`]);
  assert.equal(run.status, 0, run.output);
  assert.match(run.output, new RegExp(`SUCCESS: ${alertRules().length} rules found`));
});

test('promtool test rules: every unit test in alerts.test.yml passes', () => {
  const run = runTool('promtool', ['test', 'rules', `${dir}/alerts.test.yml`]);
  assert.equal(run.status, 0, run.output);
  assert.match(run.output, /SUCCESS/);
});

test('every alert has a unit test where it fires and one where it does not', () => {
  const tests = at(readYaml(`${dir}/alerts.test.yml`), 'tests') as Json[];
  const cases = tests.flatMap(
    (t) => (t.alert_rule_test ?? []) as Array<{ alertname: string; exp_alerts?: unknown[] }>,
  );
  const rules = alertRules();
  assert.ok(rules.length >= 6, 'the alerts of issue 7 are all there');
  for (const { alert } of rules) {
    const own = cases.filter((c) => c.alertname === alert);
    assert.ok(
      own.some((c) => (c.exp_alerts ?? []).length > 0),
      `${alert} has no test case in which it fires`,
    );
    assert.ok(
      own.some((c) => (c.exp_alerts ?? []).length === 0),
      `${alert} has no test case in which it stays silent`,
    );
  }
  const known = new Set(rules.map((r) => r.alert));
  for (const c of cases)
    assert.ok(known.has(c.alertname), `a test names an alert that does not exist: ${c.alertname}`);
});

test('the alerts cover what issue 7 asks for, on the metric names of design.md §6', () => {
  const rules = alertRules();
  const uses = (metric: string) =>
    rules.filter((r) => metricNames(r.expr).includes(metric)).map((r) => r.alert);
  // component down, excluding deliberately stopped components
  assert.ok(
    rules.some((r) => /s7supervisor_component_up\b[\s\S]*state="stopped"/.test(r.expr)),
    'component down excludes the stopped state',
  );
  assert.ok(uses('s7supervisor_component_ready').length > 0, 'not ready for long');
  assert.ok(uses('s7supervisor_component_restarts_total').length >= 2, 'crash looping and gave up');
  assert.ok(uses('s7supervisor_zombies_reaped_total').length > 0, 'zombies accumulating');
  assert.ok(
    rules.some((r) => /^up\{job="s7supervisor"\} == 0$/.test(r.expr.trim())),
    'scrape failing: up{job="s7supervisor"} == 0',
  );
  for (const rule of rules) {
    for (const metric of metricNames(rule.expr)) {
      assert.ok(
        isKnownMetric(metric),
        `${rule.alert} reads ${metric}, which is not a metric of design.md §6`,
      );
    }
    assert.match(rule.labels?.severity ?? '', /^(critical|warning|info)$/, `${rule.alert} severity`);
    assert.ok(
      rule.annotations?.summary && rule.annotations.description,
      `${rule.alert} summary and description`,
    );
  }
});

test('prometheus.yml scrapes job s7supervisor on the registry port and loads alerts.yml', () => {
  const config = readYaml(`${dir}/prometheus.yml`);
  assert.deepEqual(at(config, 'rule_files'), ['alerts.yml']);
  const jobs = at(config, 'scrape_configs') as Json[];
  const job = jobs.find((j) => j.job_name === 's7supervisor');
  assert.ok(job, 'a scrape job named s7supervisor (the alert rules select it)');
  assert.equal(job.metrics_path ?? '/metrics', '/metrics');
  const targets = (job.static_configs as Array<{ targets: string[] }>).flatMap((s) => s.targets);
  assert.deepEqual(
    targets,
    [`supervisor:${demoRegistryTimes().tcpport}`],
    'the compose service on the registry port',
  );
});
