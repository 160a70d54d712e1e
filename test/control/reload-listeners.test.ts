// Reload applies <tcpport>, <host> and <temp> too: the HTTP endpoints and the control socket move.
// One that cannot move (its new port is taken) stays where it was; the answer and the log say why.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { killAllStarted } from '../helpers/processes.js';
import { type TestServer, writeRegistry } from '../helpers/registry.js';
import { freePort } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';
import { type Supervised, sleeper, socketRequest, supervise } from './harness.js';

const holders: Server[] = [];
afterEach(async () => {
  killAllStarted();
  await Promise.all(holders.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

const servers: TestServer[] = [sleeper('a', 1), sleeper('b', 2)];

/** rewrites the registry in place with another <config> (and another <temp>) */
function rewriteConfig(sup: Supervised, config: string, temp = 'temp'): void {
  const xml = readFileSync(join(writeRegistry(servers, config), 'conf/SupervisorRegistry.xml'), 'utf8');
  writeFileSync(
    join(sup.home, 'conf/SupervisorRegistry.xml'),
    xml.replace('<temp>temp</temp>', `<temp>${temp}</temp>`),
  );
}

/** the status of GET /livez on a port, or the error code when nothing answers */
async function livez(port: number): Promise<number | string> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/livez`);
    await response.arrayBuffer();
    return response.status;
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return cause?.code ?? String(error);
  }
}

test('a reload that moves the port: the old one refuses, the new one answers, the components stay', async () => {
  const sup = await supervise(servers, { tcp: true });
  const oldPort = sup.port!;
  const before = await sup.pids();
  const newPort = await freePort();
  rewriteConfig(sup, `<tcpport>${newPort}</tcpport><host>127.0.0.1</host>`);
  const result = await sup.ctl(['reload']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stdout,
    new RegExp(`HTTP endpoints moved from 127\\.0\\.0\\.1:${oldPort} to 127\\.0\\.0\\.1:${newPort}`),
  );
  assert.equal(await livez(newPort), 200);
  await waitFor(async () => (await livez(oldPort)) === 'ECONNREFUSED', { message: 'the old port to refuse' });
  const metrics = await (await fetch(`http://127.0.0.1:${newPort}/metrics`)).text();
  assert.match(metrics, /s7supervisor_reloads_total\{result="success"\} 1/);
  assert.deepEqual(await sup.pids(), before, 'the components were not touched');
  assert.ok(sup.run.records().some((r) => r.msg === `reload: HTTP endpoints moved to 127.0.0.1:${newPort}`));
  assert.equal(await sup.stop(), 0);
});

test('a reload to a port that is taken: the old one still answers, the answer and the log say why, exit 1', async () => {
  const sup = await supervise(servers, { tcp: true });
  const oldPort = sup.port!;
  const taken = await freePort();
  const holder = createServer();
  holders.push(holder);
  await new Promise<void>((resolve) => holder.listen(taken, '127.0.0.1', resolve));
  rewriteConfig(sup, `<tcpport>${taken}</tcpport><host>127.0.0.1</host>`);
  const result = await sup.ctl(['reload']);
  assert.equal(result.code, 1, 'applied, but not all of it');
  assert.match(
    result.stdout,
    new RegExp(
      `not applied: cannot listen on 127\\.0\\.0\\.1:${taken}: address already in use: the HTTP endpoints stay on 127\\.0\\.0\\.1:${oldPort}`,
    ),
  );
  assert.equal(await livez(oldPort), 200);
  const json = await sup.ctl(['reload', '--json']);
  const answer = JSON.parse(json.stdout) as { ok: boolean; warnings: string[] };
  assert.equal(answer.ok, true);
  assert.match(answer.warnings[0] ?? '', /address already in use/);
  assert.ok(
    sup.run
      .records()
      .some(
        (r) => r.level === 50 && /address already in use: the HTTP endpoints stay on/.test(String(r.msg)),
      ),
    'logged as an error',
  );
  // once the port is free, the same registry applies on the next reload
  await new Promise((resolve) => holder.close(resolve));
  const again = await sup.ctl(['reload']);
  assert.equal(again.code, 0, again.stdout);
  assert.equal(await livez(taken), 200);
  assert.equal(await sup.stop(), 0);
});

test('a reload with a new <temp> moves the control socket; 127.0.0.1 -> 0.0.0.0 on the same port works', async () => {
  const sup = await supervise(servers, { tcp: true });
  const port = sup.port!;
  const oldSocket = sup.socket;
  rewriteConfig(sup, `<tcpport>${port}</tcpport><host>0.0.0.0</host>`, 'elsewhere');
  const result = await sup.ctl(['reload', '--socket', oldSocket]);
  assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
  const newSocket = join(sup.home, 'elsewhere/s7supervisor.sock');
  assert.match(result.stdout, new RegExp(`control socket moved from ${oldSocket} to ${newSocket}`));
  assert.match(
    result.stdout,
    new RegExp(`HTTP endpoints moved from 127\\.0\\.0\\.1:${port} to 0\\.0\\.0\\.0:${port}`),
  );
  await waitFor(() => !existsSync(oldSocket), { message: 'the old socket file removed' });
  assert.equal((await socketRequest(newSocket, '/api/v1/components')).status, 200);
  // the CLI finds it from the registry's new <temp>
  const status = await sup.ctl(['status']);
  assert.equal(status.code, 0, status.stderr);
  assert.equal(await livez(port), 200);
  process.kill(sup.run.pid, 'SIGTERM');
  assert.equal(await waitFor(() => sup.run.exitCode(), { timeout: 20_000, message: 'exit' }), 0);
  assert.equal(existsSync(newSocket), false, 'the moved socket is removed on exit');
});
