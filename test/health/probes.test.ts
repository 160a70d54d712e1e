import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { CheckOutcome } from '../../src/health/check.js';
import { startProbe } from '../../src/health/schedule.js';
import type { CheckSpec } from '../../src/registry/model.js';
import { makeTempDir } from '../helpers/paths.js';
import { isAlive, killGroup, processGroupMembers } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

type ProbeSpec = Exclude<CheckSpec, { type: 'fd' }>;
const timing = { interval: 60, timeout: 2, failureThreshold: 3 };
/** an exec check as the registry resolves one with no ${VAR} in it: shown as it runs */
const exec = (command: string, args: string[]) => ({
  type: 'exec' as const,
  command,
  args,
  shown: { command, args },
});

/** Starts a probe, waits for its first outcome, stops it. */
async function probeOnceVia(spec: ProbeSpec): Promise<CheckOutcome> {
  const outcomes: CheckOutcome[] = [];
  const probe = startProbe(spec, (o) => outcomes.push(o));
  try {
    return await waitFor(() => outcomes[0], { timeout: 15_000, message: 'a probe outcome' });
  } finally {
    probe.stop();
  }
}

async function listen(server: http.Server | net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return address.port;
}

/** a port nothing listens on: bound once, then closed */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('http probe', () => {
  const hung: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    const code = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('code') ?? 200);
    if (req.url?.startsWith('/hang')) {
      hung.push(res);
      return;
    }
    if (req.url?.startsWith('/big')) {
      res.writeHead(200);
      // an endless body: the probe must not wait for its end
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = () => {
        while (res.write(chunk)) {}
        res.once('drain', pump);
      };
      res.on('close', () => res.removeAllListeners('drain'));
      pump();
      return;
    }
    res.writeHead(code, code >= 300 && code < 400 ? { Location: '/elsewhere' } : {});
    res.end(`answer ${code}\n`);
  });
  let port = 0;
  after(() => {
    for (const res of hung) res.destroy();
    server.closeAllConnections();
    server.close();
  });

  test('200 and 3xx succeed; 4xx and 5xx fail with the status', async () => {
    port = await listen(server);
    const at = (code: number): ProbeSpec => ({
      type: 'http',
      url: `http://127.0.0.1:${port}/ping?code=${code}`,
      ...timing,
    });
    assert.equal((await probeOnceVia(at(200))).ok, true);
    assert.equal((await probeOnceVia(at(204))).ok, true);
    assert.equal((await probeOnceVia(at(302))).ok, true);
    const notFound = await probeOnceVia(at(404));
    assert.deepEqual([notFound.ok, notFound.reason], [false, 'HTTP 404']);
    const unavailable = await probeOnceVia(at(503));
    assert.deepEqual([unavailable.ok, unavailable.reason], [false, 'HTTP 503']);
    assert.ok(unavailable.durationSeconds >= 0 && unavailable.durationSeconds < 2);
  });

  test('a server that never answers fails at the timeout', async () => {
    const outcome = await probeOnceVia({
      type: 'http',
      url: `http://127.0.0.1:${port}/hang`,
      ...timing,
      timeout: 0.3,
    });
    assert.equal(outcome.ok, false);
    assert.equal(outcome.reason, 'timed out after 0.3s');
    assert.ok(outcome.durationSeconds >= 0.29, `took ${outcome.durationSeconds}s`);
  });

  test('an endless body does not hold the probe: the status decides', async () => {
    const outcome = await probeOnceVia({ type: 'http', url: `http://127.0.0.1:${port}/big`, ...timing });
    assert.equal(outcome.ok, true);
  });

  test('refused connection and unresolvable host fail with a short reason', async () => {
    const refused = await probeOnceVia({
      type: 'http',
      url: `http://127.0.0.1:${await closedPort()}/`,
      ...timing,
    });
    assert.deepEqual([refused.ok, refused.reason], [false, 'connect ECONNREFUSED']);
    const bad = await probeOnceVia({ type: 'http', url: 'http://no-such-host.invalid/', ...timing });
    assert.equal(bad.ok, false);
    assert.match(bad.reason ?? '', /cannot resolve host|timed out/);
  });

  test('many probes leave no connection open behind them (no keep-alive pile-up)', async () => {
    const outcomes: CheckOutcome[] = [];
    const probe = startProbe(
      { type: 'http', url: `http://127.0.0.1:${port}/ping`, ...timing, interval: 0.01 },
      (o) => outcomes.push(o),
    );
    await waitFor(() => outcomes.length >= 30, { timeout: 20_000, message: '30 probes' });
    probe.stop();
    assert.ok(outcomes.every((o) => o.ok));
    // the hung requests of the earlier test are the only connections allowed to stay
    await waitFor(
      () =>
        new Promise<boolean>((resolve) =>
          server.getConnections((_e, count) => resolve(count <= hung.filter((r) => !r.destroyed).length)),
        ),
      { timeout: 10_000, message: 'probe connections to close' },
    );
  });
});

describe('probe scheduling', () => {
  test('first probe at once, never two at a time, nothing after stop()', async () => {
    let active = 0;
    let maxActive = 0;
    let requests = 0;
    const pending = new Set<http.ServerResponse>();
    // each answer takes longer than the interval: a naive timer would overlap probes
    const server = http.createServer((_req, res) => {
      requests += 1;
      active += 1;
      maxActive = Math.max(maxActive, active);
      pending.add(res);
      setTimeout(() => {
        active -= 1;
        pending.delete(res);
        res.end('ok');
      }, 150);
    });
    const port = await listen(server);
    try {
      const outcomes: CheckOutcome[] = [];
      const probe = startProbe(
        { type: 'http', url: `http://127.0.0.1:${port}/`, interval: 0.05, timeout: 5, failureThreshold: 1 },
        (o) => outcomes.push(o),
      );
      // the first probe goes out without waiting for an interval
      await waitFor(() => requests >= 1, { timeout: 5_000, message: 'the first request' });
      await waitFor(() => outcomes.length >= 4, { timeout: 20_000, message: '4 outcomes' });
      assert.equal(maxActive, 1);
      assert.ok(outcomes.every((o) => o.ok && o.durationSeconds >= 0.14));
      // stop with a probe in flight: it is abandoned and never reported
      await waitFor(() => active === 1, { timeout: 5_000, message: 'a probe in flight' });
      const reported = outcomes.length;
      probe.stop();
      await waitFor(() => active === 0 && pending.size === 0, { timeout: 5_000, message: 'the last answer' });
      const requestsAtStop = requests;
      // give a (wrong) timer the chance to fire: the server would see it
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(outcomes.length, reported);
      assert.equal(requests, requestsAtStop);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  test('a slow probe does not block the event loop', async () => {
    const outcomes: CheckOutcome[] = [];
    const probe = startProbe(
      { ...exec('sleep', ['1']), interval: 60, timeout: 5, failureThreshold: 1 },
      (o) => outcomes.push(o),
    );
    try {
      // timers keep firing while the probe runs
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 10);
      await waitFor(() => outcomes.length === 1, { timeout: 15_000, message: 'the sleep probe' });
      clearInterval(ticker);
      assert.ok(ticks >= 20, `only ${ticks} ticks during a 1 s probe`);
      assert.equal(outcomes[0]?.ok, true);
    } finally {
      probe.stop();
    }
  });
});

describe('tcp probe', () => {
  test('connect succeeds against a listener and fails against a closed port', async () => {
    const server = net.createServer((socket) => socket.end());
    const port = await listen(server);
    try {
      assert.equal((await probeOnceVia({ type: 'tcp', host: '127.0.0.1', port, ...timing })).ok, true);
      const refused = await probeOnceVia({
        type: 'tcp',
        host: '127.0.0.1',
        port: await closedPort(),
        ...timing,
      });
      assert.deepEqual([refused.ok, refused.reason], [false, 'connect ECONNREFUSED']);
      // nothing left connected after the probe
      await waitFor(
        () => new Promise<boolean>((resolve) => server.getConnections((_e, n) => resolve(n === 0))),
        { timeout: 5_000, message: 'the probe connection to close' },
      );
    } finally {
      server.close();
    }
  });
});

describe('exec probe', () => {
  const dir = makeTempDir();
  const groups: number[] = [];
  after(() => {
    for (const pgid of groups) killGroup(pgid);
  });

  test('exit 0 succeeds; another code fails with the first line it printed', async () => {
    assert.equal((await probeOnceVia({ ...exec('true', []), ...timing })).ok, true);
    const failed = await probeOnceVia({
      ...exec('sh', ['-c', 'echo "database unreachable"; echo second line; exit 3']),
      ...timing,
    });
    assert.deepEqual([failed.ok, failed.reason], [false, 'exit code 3: database unreachable']);
  });

  test('a command that cannot be run fails with a reason', async () => {
    const outcome = await probeOnceVia({ ...exec('/nonexistent/check', []), ...timing });
    assert.equal(outcome.ok, false);
    assert.match(outcome.reason ?? '', /cannot run \/nonexistent\/check/);
  });

  test('on timeout the whole process group is killed, backgrounded children included', async () => {
    const pidFile = join(dir, 'group');
    const outcome = await probeOnceVia({
      ...exec('sh', ['-c', `echo $$ > ${pidFile}; sleep 60 & sleep 60`]),
      ...timing,
      timeout: 0.5,
    });
    assert.deepEqual([outcome.ok, outcome.reason], [false, 'timed out after 0.5s']);
    const pgid = Number(readFileSync(pidFile, 'utf8'));
    groups.push(pgid);
    assert.ok(pgid > 1 && pgid !== process.pid);
    await waitFor(() => processGroupMembers(pgid).length === 0, {
      timeout: 5_000,
      message: `process group ${pgid} to be empty`,
    });
    assert.equal(isAlive(pgid), false);
  });

  test('processes a successful probe leaves behind in its group are killed too', async () => {
    const pidFile = join(dir, 'leftover');
    const outcome = await probeOnceVia({
      ...exec('sh', ['-c', `sleep 60 </dev/null >/dev/null 2>&1 & echo $! > ${pidFile}; exit 0`]),
      ...timing,
    });
    assert.equal(outcome.ok, true);
    const leftover = Number(readFileSync(pidFile, 'utf8'));
    groups.push(leftover);
    await waitFor(() => !isAlive(leftover), { timeout: 5_000, message: `leftover ${leftover} to die` });
  });
});
