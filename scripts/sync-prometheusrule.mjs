#!/usr/bin/env node
// Writes deploy/kubernetes/prometheusrule.yaml from deploy/prometheus/alerts.yml, so that the
// Prometheus operator loads the very rules that promtool tests. test/deploy/kubernetes.test.ts
// fails when the two differ: run `node scripts/sync-prometheusrule.mjs` after editing alerts.yml.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const alerts = parse(readFileSync(join(root, 'deploy/prometheus/alerts.yml'), 'utf8'));
const rule = {
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'PrometheusRule',
  metadata: { name: 's7supervisor', labels: { 'app.kubernetes.io/name': 's7supervisor' } },
  spec: { groups: alerts.groups },
};
const header = [
  '# GENERATED from deploy/prometheus/alerts.yml by `node scripts/sync-prometheusrule.mjs`: edit',
  '# alerts.yml (where promtool unit-tests every alert) and run the script; a test keeps them equal.',
  '# Your Prometheus resource must select it (ruleSelector), often by a label such as release: <name>.',
  '',
].join('\n');
writeFileSync(
  join(root, 'deploy/kubernetes/prometheusrule.yaml'),
  header + stringify(rule, { lineWidth: 0 }),
);
