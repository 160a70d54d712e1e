// deploy/kubernetes: every manifest validates against the Kubernetes (and Prometheus operator)
// schemas, and its probes, ports and grace period agree with design.md and the demo registry.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Service } from 'kubernetes-models/v1/Service';
import {
  at,
  demoRegistryTimes,
  type Json,
  readYaml,
  readYamlDocuments,
  repoFile,
  shutdownBudget,
  stopBudget,
  sum,
} from './files.js';

const dir = 'deploy/kubernetes';
const validators: Record<string, (doc: Json) => void> = {
  // the models' constructors take their typed shape; validate() is what checks it at run time
  Deployment: (doc) => new Deployment(doc as ConstructorParameters<typeof Deployment>[0]).validate(),
  Service: (doc) => new Service(doc as ConstructorParameters<typeof Service>[0]).validate(),
  PodMonitor: (doc) => new PodMonitor(doc as ConstructorParameters<typeof PodMonitor>[0]).validate(),
  PrometheusRule: (doc) =>
    new PrometheusRule(doc as ConstructorParameters<typeof PrometheusRule>[0]).validate(),
};

function manifests(): Array<{ file: string; doc: Json }> {
  return readdirSync(repoFile(dir))
    .filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml')
    .sort()
    .flatMap((file) => readYamlDocuments(`${dir}/${file}`).map((doc) => ({ file, doc })));
}

function one(kind: string): Json {
  const found = manifests().filter(({ doc }) => doc.kind === kind);
  assert.equal(found.length, 1, `exactly one ${kind}`);
  return found[0]!.doc;
}

/**
 * Every field name the schemas of kubernetes-models know, read from its compiled validators. The
 * schemas accept unknown fields (as the API server does without strict validation), so without this
 * a misspelt `livenesProbe` would validate and be silently dropped.
 */
function knownFieldNames(): Set<string> {
  const names = new Set<string>();
  for (const pkg of [
    'kubernetes-models',
    '@kubernetes-models/prometheus-operator',
    '@kubernetes-models/apimachinery',
  ]) {
    const schemas = repoFile(`node_modules/${pkg}/_schemas`);
    for (const file of readdirSync(schemas).filter((f) => f.endsWith('.mjs'))) {
      const code = readFileSync(`${schemas}/${file}`, 'utf8');
      for (const m of code.matchAll(
        /parentDataProperty:"([^"]+)"|\bdata\d*\.([A-Za-z_$][\w$]*)|\bdata\d*\["([^"]+)"\]/g,
      )) {
        names.add(m[1] ?? m[2] ?? m[3] ?? '');
      }
    }
  }
  return names;
}

// maps whose keys are the user's own (label names, resource names): paths rooted at the kind
const freeForm = [
  /\.(labels|annotations|matchLabels|requests|limits|nodeSelector)$/,
  /^Service\.spec\.selector$/,
];

function unknownFields(value: unknown, known: Set<string>, path: string): string[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => unknownFields(item, known, `${path}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, child]) => [
    ...(known.has(key) ? [] : [`${path}.${key}`]),
    ...(freeForm.some((map) => map.test(`${path}.${key}`))
      ? []
      : unknownFields(child, known, `${path}.${key}`)),
  ]);
}

interface ContainerPort {
  name?: string;
  containerPort: number;
}
interface HttpProbe {
  httpGet?: { path?: string; port?: string | number };
  periodSeconds?: number;
  failureThreshold?: number;
}

function container(): Json {
  const containers = at(one('Deployment'), 'spec', 'template', 'spec', 'containers') as Json[];
  assert.equal(containers.length, 1, 'one container: the supervisor is its PID 1');
  return containers[0]!;
}

function portNumber(port: string | number | undefined): number | undefined {
  if (typeof port === 'number') return port;
  return (container().ports as ContainerPort[]).find((p) => p.name === port)?.containerPort;
}

test('every manifest validates against its Kubernetes schema', () => {
  const all = manifests();
  assert.ok(all.length >= 4, 'deployment, service, podmonitor, prometheusrule');
  for (const { file, doc } of all) {
    const validate = validators[String(doc.kind)];
    assert.ok(validate, `${file}: no schema for kind ${String(doc.kind)}`);
    assert.doesNotThrow(() => validate(doc), `${file} (${String(doc.kind)}) is valid`);
  }
});

test('the schema check itself rejects a broken manifest', () => {
  const broken = structuredClone(one('Deployment'));
  (at(broken, 'spec', 'template', 'spec', 'containers', 0, 'ports', 0) as Json).containerPort = 'http';
  assert.throws(() => new Deployment(broken).validate(), /containerPort must be integer/);
  const known = knownFieldNames();
  assert.deepEqual(unknownFields({ spec: { livenesProbe: {} } }, known, 'x'), ['x.spec.livenesProbe']);
});

test('no manifest has a field the schemas do not know (a typo would be dropped silently)', () => {
  const known = knownFieldNames();
  for (const { file, doc } of manifests()) {
    assert.deepEqual(unknownFields(doc, known, String(doc.kind)), [], `${file}: unknown fields`);
  }
});

test('terminationGracePeriodSeconds is above the demo registry stop timeouts and shutdown', () => {
  const times = demoRegistryTimes();
  assert.ok(times.stopTimeouts.size >= 6, 'cache, migrate, is, svg, ps and purge');
  const grace = at(one('Deployment'), 'spec', 'template', 'spec', 'terminationGracePeriodSeconds') as number;
  const stopTimeouts = sum(times.stopTimeouts.values());
  assert.ok(grace > stopTimeouts, `grace ${grace} s > sum of stopTimeouts ${stopTimeouts} s`);
  assert.ok(grace > shutdownBudget(times), `grace ${grace} s > shutdown ${shutdownBudget(times)} s`);
  // the drain comes first and the shutdownTimeout counts from its end: the grace covers both
  const delay = deployedShutdownDelay();
  assert.ok(grace > stopBudget(times, delay), `grace ${grace} s > drain ${delay} s + shutdown`);
});

/** the <shutdownDelay> the pod runs with: the registry's, through the variable the Deployment sets */
function deployedShutdownDelay(): number {
  const times = demoRegistryTimes();
  const env = (container().env ?? []) as Array<{ name: string; value?: string }>;
  const set = env.find((e) => e.name === times.shutdownDelayVariable)?.value;
  return set === undefined ? times.shutdownDelay : Number(set);
}

test('drain before stop through <shutdownDelay>, not a preStop sleep; long enough for the readiness probe', () => {
  const times = demoRegistryTimes();
  assert.ok(times.shutdownDelayVariable, 'the demo registry takes its <shutdownDelay> from a variable');
  const delay = deployedShutdownDelay();
  assert.ok(delay > 0, `the Deployment sets ${times.shutdownDelayVariable}`);
  assert.equal(at(container(), 'lifecycle', 'preStop'), undefined, 'no preStop hook: the supervisor drains');
  // /readyz is 503 from the SIGTERM on: the probe must fail failureThreshold times before the components stop
  const probe = container().readinessProbe as { periodSeconds: number; failureThreshold: number };
  assert.ok(
    delay >= probe.periodSeconds * probe.failureThreshold,
    `drain ${delay} s >= readiness ${probe.periodSeconds} s x ${probe.failureThreshold}`,
  );
});

test('the container runs s7supervisor run as PID 1, with probes on the supervisor endpoints', () => {
  const spec = at(one('Deployment'), 'spec', 'template', 'spec') as Json;
  assert.notEqual(spec.shareProcessNamespace, true, 'a shared process namespace would make pause PID 1');
  const c = container();
  assert.deepEqual(c.command, ['s7supervisor', 'run']);
  const port = demoRegistryTimes().tcpport;
  const probes: Record<string, RegExp> = {
    livenessProbe: /^\/livez$/,
    readinessProbe: /^\/readyz$/,
    startupProbe: /^\/(livez|readyz)$/,
  };
  for (const [name, path] of Object.entries(probes)) {
    const probe = c[name] as HttpProbe | undefined;
    assert.ok(probe?.httpGet, `${name} is an HTTP probe`);
    assert.match(probe.httpGet.path ?? '', path, `${name} path`);
    assert.equal(portNumber(probe.httpGet.port), port, `${name} goes to the supervisor's port ${port}`);
  }
  const resources = c.resources as { requests?: Record<string, string>; limits?: Record<string, string> };
  assert.ok(resources.requests?.cpu && resources.requests.memory, 'cpu and memory requests');
  assert.ok(resources.limits?.memory, 'a memory limit');
});

test('Prometheus finds the pod: scrape annotations and a PodMonitor that selects it', () => {
  const deployment = one('Deployment');
  const podLabels = at(deployment, 'spec', 'template', 'metadata', 'labels') as Record<string, string>;
  const annotations = at(deployment, 'spec', 'template', 'metadata', 'annotations') as Record<string, string>;
  const port = demoRegistryTimes().tcpport;
  assert.equal(annotations['prometheus.io/scrape'], 'true');
  assert.equal(annotations['prometheus.io/port'], String(port));
  assert.equal(annotations['prometheus.io/path'], '/metrics');

  const monitor = one('PodMonitor');
  const matchLabels = at(monitor, 'spec', 'selector', 'matchLabels') as Record<string, string>;
  for (const [key, value] of Object.entries(matchLabels))
    assert.equal(podLabels[key], value, `pod label ${key}`);
  const endpoints = at(monitor, 'spec', 'podMetricsEndpoints') as Array<{ port?: string; path?: string }>;
  assert.ok(endpoints.length > 0);
  for (const endpoint of endpoints) {
    assert.equal(portNumber(endpoint.port), port, 'the endpoint names the supervisor port');
    assert.equal(endpoint.path ?? '/metrics', '/metrics');
  }
  // the alert rules select job="s7supervisor": the PodMonitor's jobLabel must produce that value
  const jobLabel = at(monitor, 'spec', 'jobLabel') as string;
  assert.equal(podLabels[jobLabel], 's7supervisor');
});

test('selectors match the pod, and the Service reaches named container ports', () => {
  const deployment = one('Deployment');
  const podLabels = at(deployment, 'spec', 'template', 'metadata', 'labels') as Record<string, string>;
  const selects = (selector: Record<string, string>) =>
    Object.entries(selector).every(([key, value]) => podLabels[key] === value);
  assert.ok(selects(at(deployment, 'spec', 'selector', 'matchLabels') as Record<string, string>));
  const service = one('Service');
  assert.ok(selects(at(service, 'spec', 'selector') as Record<string, string>));
  const names = new Set((container().ports as ContainerPort[]).map((p) => p.name));
  for (const p of at(service, 'spec', 'ports') as Array<{ targetPort: string | number; port: number }>) {
    assert.ok(typeof p.targetPort === 'number' || names.has(p.targetPort), `service port ${p.port} target`);
  }
  assert.ok(
    (at(service, 'spec', 'ports') as Array<{ port: number }>).some(
      (p) => p.port === demoRegistryTimes().tcpport,
    ),
  );
});

test('the PrometheusRule carries exactly the rules of deploy/prometheus/alerts.yml', () => {
  const alerts = readYaml('deploy/prometheus/alerts.yml');
  assert.deepEqual(
    at(one('PrometheusRule'), 'spec', 'groups'),
    alerts.groups,
    'out of date: run node scripts/sync-prometheusrule.mjs',
  );
});

test('kustomization.yaml lists every manifest', () => {
  const kustomization = readYaml(`${dir}/kustomization.yaml`);
  const files = readdirSync(repoFile(dir)).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
  assert.deepEqual([...(kustomization.resources as string[])].sort(), files.sort());
});
