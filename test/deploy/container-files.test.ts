// Dockerfile and docker-compose.yml, read as their tools read them: the contract of design.md §8
// (PID 1 without tini, HEALTHCHECK with `s7supervisor probe livez`) and a stop grace period above
// what the supervisor's ordered stop may take. The images are built and run by the container e2e test.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  at,
  composeDuration,
  demoRegistryTimes,
  type Json,
  readYaml,
  repoFile,
  runTool,
  shutdownBudget,
  stopBudget,
  sum,
} from './files.js';

interface Instruction {
  keyword: string;
  args: string;
}

/** Dockerfile instructions, continuation lines joined, comments dropped */
function dockerfile(path: string): Instruction[] {
  const text = readFileSync(repoFile(path), 'utf8')
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

function last(instructions: Instruction[], keyword: string): string | undefined {
  return instructions.filter((i) => i.keyword === keyword).at(-1)?.args;
}

test('Dockerfile: multi-stage on node:24-bookworm-slim, s7supervisor run as PID 1 with a HEALTHCHECK', () => {
  const steps = dockerfile('Dockerfile');
  const froms = steps.filter((i) => i.keyword === 'FROM');
  assert.equal(froms.length, 2, 'a build stage and a runtime stage');
  assert.ok(steps.some((i) => i.keyword === 'ARG' && i.args === 'NODE_IMAGE=node:24-bookworm-slim'));
  for (const from of froms) assert.match(from.args, /^\$\{NODE_IMAGE\}( AS \w+)?$/);
  assert.deepEqual(JSON.parse(last(steps, 'ENTRYPOINT') ?? 'null'), ['s7supervisor', 'run']);
  assert.match(last(steps, 'HEALTHCHECK') ?? '', /CMD \["s7supervisor", "probe", "livez"\]/);
  assert.equal(last(steps, 'STOPSIGNAL'), 'SIGTERM');
  const user = last(steps, 'USER');
  assert.ok(user && user !== 'root' && user !== '0', 'runs unprivileged by default');
  const all = steps.map((i) => `${i.keyword} ${i.args}`).join('\n');
  assert.doesNotMatch(all, /\btini\b|dumb-init|--init\b/, 's7supervisor is the init');
  const exposed = (last(steps, 'EXPOSE') ?? '').split(/\s+/).map(Number);
  assert.ok(exposed.includes(demoRegistryTimes().tcpport), 'the supervisor port is exposed');
  assert.match(all, /npm ci/);
  assert.match(all, /npm ci --omit=dev/, 'production dependencies only');
});

test('Dockerfile: the runtime stage holds a ready /opt/s7supervisor, s7supervisor on PATH, no compiler', () => {
  const steps = dockerfile('Dockerfile');
  const runtimeAt = steps.findLastIndex((i) => i.keyword === 'FROM');
  const runtime = steps.slice(runtimeAt);
  assert.ok(
    runtime.some(
      (i) =>
        i.keyword === 'COPY' && /^--from=build \/opt\/s7supervisor\/? \/opt\/s7supervisor\/?$/.test(i.args),
    ),
    'COPY --from=build /opt/s7supervisor /opt/s7supervisor',
  );
  assert.match(
    runtime
      .filter((i) => i.keyword === 'ENV')
      .map((i) => i.args)
      .join(' '),
    /PATH=\/opt\/s7supervisor\/bin:\$PATH/,
  );
  const runtimeText = runtime.map((i) => `${i.keyword} ${i.args}`).join('\n');
  assert.doesNotMatch(runtimeText, /apt-get|build\/Release/, 'nothing is installed or compiled at run time');
  // the build stage makes the package and proves it loads its prebuilt addon
  const build = steps
    .slice(0, runtimeAt)
    .map((i) => `${i.keyword} ${i.args}`)
    .join('\n');
  assert.match(build, /build-prebuilds\.sh host/);
  assert.match(build, /npm pack/);
  assert.match(build, /ln -s \.\.\/dist\/src\/cli\/main\.cjs bin\/s7supervisor/);
});

test('docker-compose.yml: the supervisor with health check, ports and a long enough stop grace period', () => {
  const compose = readYaml('docker-compose.yml');
  const supervisor = at(compose, 'services', 'supervisor') as Json;
  assert.ok(supervisor, 'a supervisor service');
  assert.notEqual(supervisor.init, true, 'no docker-init in front of the supervisor');
  assert.deepEqual(at(supervisor, 'healthcheck', 'test'), ['CMD', 's7supervisor', 'probe', 'livez']);
  const port = demoRegistryTimes().tcpport;
  assert.ok(
    (supervisor.ports as string[]).some((p) => p === `${port}:${port}`),
    `port ${port} published`,
  );

  const times = demoRegistryTimes();
  const grace = composeDuration(String(supervisor.stop_grace_period));
  assert.ok(grace > sum(times.stopTimeouts.values()), `stop_grace_period ${grace} s > sum of stopTimeouts`);
  assert.ok(
    grace > shutdownBudget(times),
    `stop_grace_period ${grace} s > shutdown ${shutdownBudget(times)} s`,
  );
  // Compose sets no SHUTDOWN_DELAY: the registry's own drain (0 s unless it is set) comes first
  assert.ok(
    grace > stopBudget(times),
    `stop_grace_period ${grace} s > drain + shutdown ${stopBudget(times)} s`,
  );
});

test('docker-compose.yml: Prometheus runs with the config and rules of deploy/prometheus', () => {
  const compose = readYaml('docker-compose.yml');
  const prometheus = at(compose, 'services', 'prometheus') as Json;
  assert.ok(prometheus, 'a prometheus service');
  const volumes = (prometheus.volumes as string[]).map((v) => v.split(':')[0]);
  assert.ok(volumes.includes('./deploy/prometheus/prometheus.yml'));
  assert.ok(volumes.includes('./deploy/prometheus/alerts.yml'));
  assert.equal(at(prometheus, 'build', 'context'), 'deploy/prometheus');
  const steps = dockerfile('deploy/prometheus/Dockerfile');
  assert.match(steps.map((i) => i.args).join('\n'), /apt-get install .*\bprometheus\b/);
});

test('docker-compose config accepts the file (when docker-compose is installed)', (t) => {
  if (spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).error) {
    t.skip('docker-compose is not installed (scripts/container-test-setup.sh installs it)');
    return;
  }
  const run = runTool('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q']);
  assert.equal(run.status, 0, run.output);
});

test('docs/packaging.md: its recipe is what examples/nginx/Dockerfile runs (the container test builds that)', () => {
  const instructions = (text: string) =>
    text
      .replace(/\\\n\s*/g, ' ')
      .split('\n')
      .map((line) => line.trim().replace(/\s+/g, ' '))
      .filter((line) => line && !line.startsWith('#') && !line.startsWith('FROM '));
  const docs = readFileSync(repoFile('docs/packaging.md'), 'utf8');
  const block = /```dockerfile\n([\s\S]*?)```/.exec(docs)?.[1];
  assert.ok(block, 'docs/packaging.md has a dockerfile block');
  const example = readFileSync(repoFile('examples/nginx/Dockerfile'), 'utf8');
  const recipe = /# ---- the recipe[^\n]*\n([\s\S]*?)# ---- end of the recipe/.exec(example)?.[1];
  assert.ok(recipe, 'examples/nginx/Dockerfile marks its recipe');
  assert.deepEqual(instructions(block), instructions(recipe));
  assert.match(block, /^FROM s7supervisor:local AS s7supervisor$/m);
  assert.match(example, /^FROM \$\{S7SUPERVISOR_IMAGE\} AS s7supervisor$/m);
  assert.match(example, /^ARG S7SUPERVISOR_IMAGE=s7supervisor:local$/m);
});

test('examples/nginx: its registry passes s7supervisor check', () => {
  const run = runTool(process.execPath, [
    repoFile('dist/src/cli/main.cjs'),
    'check',
    '--registry',
    repoFile('examples/nginx/conf/SupervisorRegistry.xml'),
    '--home',
    '/srv',
  ]);
  assert.equal(run.status, 0, run.output);
});
