import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import http, { type Server } from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createHttpApp, listenHttp } from '../../src/http/index.js';
import { FakeView, status } from '../helpers/fake-view.js';
import { makeTempDir } from '../helpers/paths.js';
import { killAllStarted, runCli } from '../helpers/processes.js';

const view = new FakeView([
  status('is'),
  status('ps', { state: 'starting', ready: false, notReadyReason: 'starting' }),
]);
const app = createHttpApp({ view, version: 'test' });
let server: Server;
let port = 0;
const hanging = http.createServer(() => {});
let hangingPort = 0;

function portOf(s: net.Server): number {
  const address = s.address();
  assert.ok(address && typeof address === 'object');
  return address.port;
}

before(async () => {
  server = await listenHttp(app, '127.0.0.1', 0);
  port = portOf(server);
  await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
  hangingPort = portOf(hanging);
});
after(() => {
  killAllStarted();
  app.metrics.close();
  server.closeAllConnections();
  server.close();
  hanging.closeAllConnections();
  hanging.close();
});

// an empty cwd, so that no registry is found by accident
const cwd = makeTempDir();
const probe = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
  const cli = runCli(['probe', ...args], {
    cwd,
    env: { S7SUPERVISOR_PORT: '', S7SUPERVISOR_HOST: '', ...env },
  });
  const code = await cli.exited;
  return { code, out: cli.stdout.join('\n'), err: cli.stderr.join('\n') };
};

test('exit 0 on 200, with one line on stdout', async () => {
  const r = await probe(['livez', '--port', String(port)]);
  assert.deepEqual([r.code, r.out, r.err], [0, `livez: ok (127.0.0.1:${port})`, '']);
});

test('exit 1 on 503, saying which components are not ready', async () => {
  const r = await probe(['readyz', '--port', String(port), '--host', '127.0.0.1']);
  assert.equal(r.code, 1);
  assert.equal(r.err, `s7supervisor probe: readyz: HTTP 503: ps not ready: starting (127.0.0.1:${port})`);
});

test('exit 1 when nothing listens or nothing answers in time', async () => {
  const closed = net.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const closedPort = portOf(closed);
  await new Promise((resolve) => closed.close(resolve));
  const refused = await probe(['livez', '--port', String(closedPort)]);
  assert.equal(refused.code, 1);
  assert.match(refused.err, /^s7supervisor probe: livez: connection refused: is the supervisor running\?/);
  const slow = await probe(['livez', '--port', String(hangingPort), '--timeout', '0.5']);
  assert.equal(slow.code, 1);
  assert.match(slow.err, /no answer within 0\.5s/);
});

test('the port comes from $S7SUPERVISOR_PORT, else from the registry', async () => {
  assert.equal((await probe(['livez'], { S7SUPERVISOR_PORT: String(port) })).code, 0);
  const home = makeTempDir();
  mkdirSync(join(home, 'conf'));
  writeFileSync(
    join(home, 'conf/SupervisorRegistry.xml'),
    `<supervisor><config><tcpport>${port}</tcpport><host>0.0.0.0</host></config>` +
      '<servers><server id="x"><command>sleep</command></server></servers></supervisor>',
  );
  assert.equal((await probe(['livez', '--home', home])).code, 0);
  assert.equal((await probe(['livez'], { S7SUPERVISOR_HOME: home })).code, 0);
  // the flag beats the registry
  assert.equal(
    (await probe(['livez', '--home', home, '--port', String(hangingPort), '--timeout', '0.3'])).code,
    1,
  );
});

test('usage mistakes are one line and exit 2', async () => {
  const none = await probe([]);
  assert.equal(none.code, 2);
  assert.match(none.err, /say which endpoint: livez or readyz/);
  const wrong = await probe(['metrics']);
  assert.match(wrong.err, /not 'metrics'/);
  assert.equal((await probe(['livez', '--port', 'http'])).code, 2);
  assert.equal((await probe(['livez', '--timeout', '-1'])).code, 2);
  const help = await probe(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.out, /HEALTHCHECK/);
});
