// Slow clients are cut off by per-connection timers (src/http/slow-clients.ts), and a server
// nobody talks to has no timer at all (node's connectionsCheckingInterval woke the supervisor
// every second). Real sockets, short limits.
import assert from 'node:assert/strict';
import { createHook } from 'node:async_hooks';
import http from 'node:http';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { listenHttp, serverTimeouts } from '../../src/http/listen.js';
import { cutOffSlowClients, NODE_CHECK_DISABLED_MS } from '../../src/http/slow-clients.js';
import { waitFor } from '../helpers/wait.js';

const limits = { headersTimeout: 300, requestTimeout: 600 };

async function server(): Promise<{ port: number; close: () => Promise<void> }> {
  const s = http.createServer({ connectionsCheckingInterval: NODE_CHECK_DISABLED_MS }, (req, res) => {
    if (req.url === '/stream') {
      // a response that goes on longer than both limits, as /api/v1/events does
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let n = 0;
      const tick = setInterval(() => {
        res.write(`data: ${n++}\n\n`);
        if (n === 8) {
          clearInterval(tick);
          res.end();
        }
      }, 150);
      return;
    }
    if (req.method === 'POST') {
      req.resume();
      req.on('end', () => res.end('got it'));
      return;
    }
    res.end('hello');
  });
  s.keepAliveTimeout = 5000;
  cutOffSlowClients(s, limits);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const address = s.address();
  assert.ok(address && typeof address === 'object');
  return {
    port: address.port,
    close: () =>
      new Promise((resolve) => {
        s.closeAllConnections();
        s.close(() => resolve());
      }),
  };
}

/** a raw connection, and when the server closed it (ms after connecting) */
async function rawClient(port: number) {
  const socket: Socket = connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  const t0 = performance.now();
  let closedAfter: number | undefined;
  let received = '';
  socket.on('data', (chunk) => {
    received += chunk.toString();
  });
  socket.on('error', () => {});
  socket.once('close', () => {
    closedAfter = performance.now() - t0;
  });
  return { socket, closedAfter: () => closedAfter, received: () => received };
}

test('a connection that sends nothing, or its headers a byte at a time, is cut off at headersTimeout', async (t) => {
  const s = await server();
  t.after(() => s.close());
  const silent = await rawClient(s.port);
  const trickle = await rawClient(s.port);
  const request = 'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ';
  let i = 0;
  const drip = setInterval(() => {
    if (i < request.length && !trickle.socket.destroyed) trickle.socket.write(request[i++]!);
  }, 40);
  t.after(() => clearInterval(drip));
  const closed = await waitFor(
    () => (silent.closedAfter() !== undefined && trickle.closedAfter() !== undefined ? true : undefined),
    { timeout: 5000, message: 'both slow connections closed by the server' },
  );
  assert.ok(closed);
  for (const c of [silent, trickle]) {
    assert.ok(c.closedAfter()! >= limits.headersTimeout - 20, `closed after ${c.closedAfter()} ms`);
    assert.ok(c.closedAfter()! < limits.headersTimeout + 1500, `closed after ${c.closedAfter()} ms`);
    assert.match(c.received(), /^HTTP\/1\.1 408 Request Timeout\r\n/, 'told why, as node does');
  }
});

test('a request body that does not come is cut off at requestTimeout; one that comes is answered', async (t) => {
  const s = await server();
  t.after(() => s.close());
  const slow = await rawClient(s.port);
  slow.socket.write('POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab');
  await waitFor(() => slow.closedAfter(), { timeout: 5000, message: 'the slow body cut off' });
  assert.ok(slow.closedAfter()! >= limits.requestTimeout - 20, `closed after ${slow.closedAfter()} ms`);

  const res = await fetch(`http://127.0.0.1:${s.port}/x`, { method: 'POST', body: '0123456789' });
  assert.equal(await res.text(), 'got it');
});

test('a response that streams longer than both limits is not cut, nor a keep-alive connection between quick requests', async (t) => {
  const s = await server();
  t.after(() => s.close());
  const res = await fetch(`http://127.0.0.1:${s.port}/stream`);
  const text = await res.text();
  assert.equal(text.match(/data: /g)?.length, 8, 'every event of a 1.2 s stream arrived');

  const client = await rawClient(s.port);
  for (let n = 0; n < 3; n++) {
    client.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => (client.received().split('hello').length - 1 === n + 1 ? true : undefined), {
      timeout: 3000,
      message: `answer ${n + 1}`,
    });
    // less than headersTimeout between requests: still open
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  assert.equal(client.closedAfter(), undefined, 'the keep-alive connection is still open');
  // then idle, owing its next headers: cut off like any other
  await waitFor(() => client.closedAfter(), { timeout: 5000, message: 'the idle connection cut off' });
  client.socket.destroy();
});

test('a listening server nobody talks to has no timer that wakes it; a connection has one, gone with it', async (t) => {
  // every timer made meanwhile, with its period (node's connections check is a setInterval)
  const made: Array<{ _idleTimeout: number; _repeat: number | null; _destroyed: boolean }> = [];
  const hook = createHook({
    init(_id, type, _trigger, resource) {
      if (type === 'Timeout') made.push(resource as (typeof made)[number]);
    },
  }).enable();
  t.after(() => hook.disable());
  const s = await listenHttp((_req, res) => res.end('ok'), '127.0.0.1', 0);
  t.after(() => new Promise((resolve) => s.close(resolve)));
  // node arms its connections check when 'listening' is emitted
  await new Promise((resolve) => setImmediate(resolve));
  const waking = made.filter((timer) => !timer._destroyed && timer._idleTimeout < 3_600_000);
  assert.deepEqual(
    waking.map((timer) => [timer._idleTimeout, timer._repeat]),
    [],
    'no timer of less than an hour while idle (node would add its 1 s interval here)',
  );
  const address = s.address();
  assert.ok(address && typeof address === 'object');
  const client = await rawClient(address.port);
  const forHeaders = await waitFor(
    () => made.find((timer) => timer._idleTimeout === serverTimeouts.headersTimeout && !timer._destroyed),
    { timeout: 2000, message: 'a timer for the connection' },
  );
  client.socket.destroy();
  await waitFor(() => (forHeaders._destroyed ? true : undefined), {
    timeout: 2000,
    message: 'the timer gone with the connection',
  });
});
