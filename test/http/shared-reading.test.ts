// The reading endpoints (/, /api/v1/components[/ID], /metrics) answer from one shared snapshot
// and one shared /proc reading: many requests at once cost one /proc pass and one rendering, a
// change in the supervisor shows at once, and each page still gets a CSP nonce of its own.
// The real app on a real port; the view is a FakeView whose pids are real process groups.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { Server } from 'node:http';
import { after, test } from 'node:test';
import { createHttpApp, type HttpApp, listenHttp } from '../../src/http/index.js';
import { FakeView, status } from '../helpers/fake-view.js';
import { killGroup } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const servers: Server[] = [];
const groups: number[] = [];
after(() => {
  for (const server of servers) {
    server.closeAllConnections();
    server.close();
  }
  for (const pgid of groups) killGroup(pgid);
});

function startGroup(): number {
  const child = spawn('sh', ['-c', 'exec sleep 300'], { detached: true, stdio: 'ignore' });
  assert.ok(child.pid);
  child.unref();
  groups.push(child.pid);
  return child.pid;
}

async function serve(
  view: FakeView,
): Promise<{ app: HttpApp; get: (path: string, init?: RequestInit) => Promise<Response> }> {
  const app = createHttpApp({ version: '9.9.9', view });
  after(() => {
    app.metrics.close();
    app.snapshots.close();
  });
  const server = await listenHttp(app, '127.0.0.1', 0);
  servers.push(server);
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return { app, get: (path, init) => fetch(`http://127.0.0.1:${address.port}${path}`, init) };
}

test('60 concurrent requests on the page, the API and /metrics cost one /proc pass and one snapshot', async () => {
  const view = new FakeView([
    status('is', { pid: startGroup(), startedAt: Date.now() }),
    status('ps', { pid: startGroup(), startedAt: Date.now() }),
  ]);
  const { app, get } = await serve(view);
  const paths = ['/', '/api/v1/components', '/api/v1/components/is', '/metrics'];
  const answers = await Promise.all(
    Array.from({ length: 60 }, async (_, i) => {
      const response = await get(paths[i % paths.length]!);
      return { status: response.status, body: await response.text() };
    }),
  );
  assert.deepEqual(
    answers.map((a) => a.status),
    answers.map(() => 200),
  );
  assert.equal(app.snapshots.resources.scans, 1, 'one /proc pass');
  assert.equal(app.snapshots.builds, 1, 'one snapshot');
  // and the pass really read the groups: memory is there in every form
  const list = JSON.parse(answers[1]!.body) as { components: Array<{ resources?: { rssBytes: number } }> };
  assert.ok((list.components[0]?.resources?.rssBytes ?? 0) > 0);
  assert.match(answers[3]!.body, /^s7supervisor_component_resident_memory_bytes\{component="ps"\} [1-9]/m);
  assert.match(answers[0]!.body, /data-field="memory"[^>]*>\d+\.\d (KiB|MiB)</);
});

test('a change in the supervisor shows at once, without a new /proc pass while the reading is fresh', async () => {
  const view = new FakeView([status('is', { pid: startGroup(), startedAt: Date.now(), restarts: 0 })]);
  const { app, get } = await serve(view);
  const one = async () =>
    (await (await get('/api/v1/components/is')).json()) as { pid: number; restarts: number };
  const before = await one();
  // what a restart looks like from outside: a new pid, a count, and the 'state' event
  const pid = startGroup();
  view.set('is', { pid, restarts: 1, startedAt: Date.now() });
  view.emit('state', view.component('is')!, 'running');
  const after = await one();
  assert.notEqual(after.pid, before.pid);
  assert.equal(after.pid, pid);
  assert.equal(after.restarts, 1);
  assert.equal(app.snapshots.builds, 2);
  // the new group is read on the next pass (at most 250 ms later), not one pass per request
  const scans = app.snapshots.resources.scans;
  assert.ok(scans <= 2, `scans ${scans}`);
  const withMemory = await waitFor(
    async () => {
      view.emit('check', 'is', 'liveness', true, 0.001); // a fresh snapshot each time
      const json = (await (await get('/api/v1/components/is')).json()) as {
        resources?: { processes: number };
      };
      return json.resources;
    },
    { timeout: 3000, interval: 50, message: "the new group's resources" },
  );
  assert.equal(withMemory.processes, 1);
  assert.ok(app.snapshots.resources.scans <= scans + 1);
});

test('every page gets its own CSP nonce, though the page is rendered once', async () => {
  const view = new FakeView([status('is')]);
  const { app, get } = await serve(view);
  const page = async () => {
    const response = await get('/');
    const csp = response.headers.get('content-security-policy') ?? '';
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    assert.ok(nonce, csp);
    const body = await response.text();
    assert.equal(Number(response.headers.get('content-length')), Buffer.byteLength(body));
    return { nonce, body };
  };
  const first = await page();
  const second = await page();
  assert.equal(app.snapshots.builds, 1);
  assert.notEqual(first.nonce, second.nonce);
  for (const { nonce, body } of [first, second]) {
    assert.match(body, new RegExp(`<style nonce="${nonce.replace(/[+/]/g, '\\$&')}">`));
    assert.match(body, new RegExp(`<script nonce="${nonce.replace(/[+/]/g, '\\$&')}">`));
  }
  assert.equal(first.body.replaceAll(first.nonce, 'N'), second.body.replaceAll(second.nonce, 'N'));
  const head = await get('/', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), '');
});
