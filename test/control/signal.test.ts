// `s7supervisor signal ID SIGNAL` and POST /api/v1/components/ID/signal (design.md §1, §4 rev. 2):
// HUP to a real nginx (Debian's) makes it re-read its configuration: new workers, same master.
// Unknown ids exit 4, unknown signals 2; on TCP the route needs the control token.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { makeTempDir } from '../helpers/paths.js';
import { killAllStarted, processGroupMembers } from '../helpers/processes.js';
import { freePort } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';
import { sleeper, supervise } from './harness.js';

afterEach(() => killAllStarted());

const NGINX = '/usr/sbin/nginx';
const token = 'tok-5e1b9d2c7a4f';

/** a self-contained nginx: every path in a temp dir, two workers, one loopback port */
function nginxConfig(port: number): string {
  const dir = makeTempDir('s7sup-nginx-');
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, sub));
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `worker_processes 2;
pid ${dir}/nginx.pid;
error_log stderr notice;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    location / { return 200 "ok\\n"; }
  }
}
`,
  );
  return conf;
}

const workersOf = (master: number) => processGroupMembers(master).filter((pid) => pid !== master);

test('signal HUP to nginx: it reloads (new worker pids, same master); exit 0', {
  skip: !existsSync(NGINX) && 'no nginx',
}, async () => {
  const port = await freePort();
  const conf = nginxConfig(port);
  const sup = await supervise([
    {
      id: 'web',
      command: NGINX,
      args: ['-e', 'stderr', '-c', conf, '-g', 'daemon off;'],
      stopTimeout: 5,
      extra: `<stopSignal>SIGQUIT</stopSignal><readiness type="tcp" port="${port}" interval="0.2"/>`,
    },
  ]);
  const master = (await sup.component('web'))?.pid;
  assert.ok(master);
  const before = await waitFor(() => (workersOf(master).length === 2 ? workersOf(master) : undefined), {
    message: 'two nginx workers',
  });
  assert.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 200);

  const result = await sup.ctl(['signal', 'web', 'HUP']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /SIGHUP sent to web/);
  // the old workers finish, two new ones take over; the master stays
  const after = await waitFor(
    () => {
      const now = workersOf(master);
      return now.length === 2 && now.every((pid) => !before.includes(pid)) ? now : undefined;
    },
    { timeout: 10_000, message: 'new nginx workers after HUP' },
  );
  assert.notDeepEqual(after, before);
  const web = await sup.component('web');
  assert.equal(web?.pid, master, 'the master is the same process');
  assert.equal(web?.state, 'running');
  assert.equal(web?.restarts, 0);
  assert.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 200);
  assert.ok(sup.run.records().some((r) => r.msg === 'operator: SIGHUP sent' && r.component === 'web'));
  assert.equal(await sup.stop(), 0);
});

test('signal: by number over the socket; unknown id exits 4, unknown signal 2, a stopped component 1', async () => {
  const sup = await supervise([sleeper('a', 1, { extra: '<restart policy="never"/>' }), sleeper('b', 2)]);
  const a = (await sup.component('a'))?.pid;
  assert.ok(a);

  const unknownId = await sup.ctl(['signal', 'nope', 'HUP']);
  assert.equal(unknownId.code, 4);
  assert.match(unknownId.stderr, /no component "nope".*a, b/);

  for (const bad of ['HUPP', 'SIGNOPE', '0', '65', 'x1']) {
    const unknownSignal = await sup.ctl(['signal', 'a', bad]);
    assert.equal(unknownSignal.code, 2, `${bad}: ${unknownSignal.stderr}`);
    assert.match(unknownSignal.stderr, /unknown signal/);
  }
  // the API says the same to callers that skip the CLI
  const viaApi = await socketRequestJson(sup.socket, '/api/v1/components/a/signal', { signal: 'HUPP' });
  assert.equal(viaApi.status, 422);
  const missing = await socketRequestJson(sup.socket, '/api/v1/components/a/signal', {});
  assert.equal(missing.status, 400);

  // 15 is SIGTERM: sleep dies of it, and with policy never stays down
  const byNumber = await sup.ctl(['signal', 'a', '15']);
  assert.equal(byNumber.code, 0, byNumber.stderr);
  assert.match(byNumber.stdout, /SIGTERM sent to a/);
  const gone = await waitFor(
    async () => {
      const now = await sup.component('a');
      return now?.state === 'fatal' || now?.state === 'stopped' ? now : undefined;
    },
    { message: 'a ended by its SIGTERM' },
  );
  assert.equal(gone.lastExit?.signal, 'SIGTERM');

  const noProcess = await sup.ctl(['signal', 'a', 'usr1']);
  assert.equal(noProcess.code, 1);
  assert.match(noProcess.stderr, /a has no process to signal/);
  assert.equal((await sup.component('b'))?.state, 'running', 'b was not touched');
  assert.equal(await sup.stop(), 0);
});

test('signal over TCP: 404 without a token configured, 401 without the right one, 200 with it', async () => {
  for (const configured of [undefined, token]) {
    const sup = await supervise([sleeper('a', 1)], {
      tcp: true,
      ...(configured ? { token: configured } : {}),
    });
    const pid = (await sup.component('a'))?.pid;
    const post = (headers: Record<string, string>) =>
      fetch(sup.url('/api/v1/components/a/signal'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ signal: 'STOP' }),
      });
    if (!configured) {
      assert.equal((await post({ authorization: `Bearer ${token}` })).status, 404);
    } else {
      assert.equal((await post({})).status, 401);
      assert.equal((await post({ authorization: 'Bearer wrong-token-123456' })).status, 401);
      const ok = await post({ authorization: `Bearer ${token}` });
      assert.equal(ok.status, 200);
      // SIGSTOP reached the process: it is stopped (T), not gone
      await waitFor(() => readState(pid) === 'T', { message: 'a stopped by SIGSTOP' });
    }
    assert.equal(await sup.stop(), 0);
  }
});

function readState(pid: number | undefined): string | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0];
  } catch {
    return undefined;
  }
}

async function socketRequestJson(socket: string, path: string, body: unknown) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = http.request(
      { socketPath: socket, path, method: 'POST', headers: { 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
