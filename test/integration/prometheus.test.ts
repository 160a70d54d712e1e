// A real Prometheus server (Debian's prometheus) scrapes a real supervisor on loopback: the
// target is up, every component has its series, and the scrape negotiated OpenMetrics.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { after, afterEach, test } from 'node:test';
import { makeTempDir } from '../helpers/paths.js';
import { killAllStarted, killGroup } from '../helpers/processes.js';
import { freePort, startStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';

afterEach(() => killAllStarted());
let prometheus: ChildProcess | undefined;
after(() => {
  if (prometheus?.pid) killGroup(prometheus.pid);
});

interface QueryResult {
  status: string;
  data: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

test('Prometheus scrapes the supervisor: up is 1 and s7supervisor_component_up has one series per component', async (t) => {
  const stack = await startStack([
    { id: 'is', priority: 1 },
    { id: 'svg', priority: 1 },
    { id: 'ps', priority: 2 },
  ]);
  // a loopback relay in front of the supervisor records what Prometheus asks for
  const accepts: string[] = [];
  const relay = http.createServer((req, res) => {
    accepts.push(req.headers.accept ?? '');
    const upstream = http.request(
      { host: '127.0.0.1', port: stack.httpPort, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    relay.closeAllConnections();
    relay.close();
  });
  const relayAddress = relay.address();
  assert.ok(relayAddress && typeof relayAddress === 'object');

  const dir = makeTempDir('s7sup-prometheus-');
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      'scrape_configs:',
      '  - job_name: s7supervisor',
      '    static_configs:',
      `      - targets: ['127.0.0.1:${relayAddress.port}']`,
      '',
    ].join('\n'),
  );
  const webPort = await freePort();
  const output: string[] = [];
  prometheus = spawn(
    'prometheus',
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${webPort}`,
    ],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  prometheus.on('error', (error) => output.push(`cannot start prometheus: ${error.message}`));
  prometheus.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  prometheus.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));

  const query = async (expr: string) => {
    const response = await fetch(
      `http://127.0.0.1:${webPort}/api/v1/query?query=${encodeURIComponent(expr)}`,
    );
    const result = (await response.json()) as QueryResult;
    assert.equal(result.status, 'success');
    return result.data.result;
  };
  const fail = (what: string) => `${what}; prometheus said:\n${output.join('').slice(-3000)}`;

  await waitFor(
    async () => {
      const up = await query('up{job="s7supervisor"}');
      return up.length === 1 && up[0]?.value[1] === '1';
    },
    { timeout: 60_000, interval: 250, message: fail('up{job="s7supervisor"} to be 1') },
  );
  // startStack waits for /livez only: the scrape Prometheus last took may predate a component's
  // start (ps starts after is and svg are ready), so wait for a scrape that has all three up
  const series = await waitFor(
    async () => {
      const found = await query('s7supervisor_component_up');
      return found.length === 3 && found.every((s) => s.value[1] === '1') && found;
    },
    { timeout: 30_000, interval: 250, message: fail('three s7supervisor_component_up series, each 1') },
  );
  assert.deepEqual(series.map((s) => s.metric.component).sort(), ['is', 'ps', 'svg']);
  for (const s of series) assert.equal(s.value[1], '1');
  // counters and the histogram arrive intact through OpenMetrics
  assert.equal((await query('s7supervisor_component_restarts_total')).length, 3);
  assert.ok((await query('s7supervisor_check_duration_seconds_count')).length >= 3);
  assert.equal((await query('s7supervisor_info')).length, 1);

  // Prometheus asked for OpenMetrics first, and the scrape succeeded without errors
  assert.ok(accepts.length > 0);
  assert.match(accepts[0] ?? '', /^application\/openmetrics-text/);
  const targets = (await (await fetch(`http://127.0.0.1:${webPort}/api/v1/targets`)).json()) as {
    data: { activeTargets: Array<{ health: string; lastError: string }> };
  };
  assert.deepEqual(
    targets.data.activeTargets.map((target) => [target.health, target.lastError]),
    [['up', '']],
  );
  assert.equal(await stack.stop(), 0);
});
