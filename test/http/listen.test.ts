// Starting the servers, and what keeps them (and so the supervisor, PID 1) alive afterwards:
// errors after listening are logged, client errors cost one connection, slow clients time out,
// connections are bounded.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import http, { type Server } from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import { type Logger, pino } from 'pino';
import {
  defaultMaxConnections,
  listenHttp,
  listenUnixSocket,
  StartupError,
  serverTimeouts,
} from '../../src/http/listen.js';
import { makeTempDir } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait.js';

const servers: Server[] = [];
after(() => {
  for (const server of servers) {
    server.closeAllConnections();
    server.close();
  }
});
const hello: http.RequestListener = (_req, res) => res.end('hello');

test('a port in use is a StartupError with one readable line', async () => {
  const first = await listenHttp(hello, '127.0.0.1', 0);
  servers.push(first);
  const address = first.address();
  assert.ok(address && typeof address === 'object');
  await assert.rejects(listenHttp(hello, '127.0.0.1', address.port), (error: unknown) => {
    assert.ok(error instanceof StartupError);
    assert.equal(error.message, `cannot listen on 127.0.0.1:${address.port}: address already in use`);
    return true;
  });
});

test('an address the machine does not have is a StartupError too', async () => {
  // 192.0.2.0/24 is TEST-NET-1: never configured on a real interface
  await assert.rejects(listenHttp(hello, '192.0.2.1', 9910), (error: unknown) => {
    assert.ok(error instanceof StartupError);
    assert.equal(error.message, 'cannot listen on 192.0.2.1:9910: address not available on this machine');
    return true;
  });
});

test('a Unix socket is created with mode 0600 and serves the app', async () => {
  const path = join(makeTempDir(), 's7supervisor.sock');
  const server = await listenUnixSocket(hello, path);
  servers.push(server);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  const body = await new Promise<string>((resolve, reject) => {
    http
      .get({ socketPath: path, path: '/' }, (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve(text));
      })
      .on('error', reject);
  });
  assert.equal(body, 'hello');
  await assert.rejects(listenUnixSocket(hello, path), StartupError);
});

/** a pino logger whose records land in an array */
function memoryLogger(): { logger: Logger; records: Array<Record<string, unknown>> } {
  const records: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean))
        records.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), records };
}

async function portOf(server: Server): Promise<number> {
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return address.port;
}

async function getText(port: number, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.text() };
}

/** raw bytes to the server, everything it answers until it closes the connection */
function rawExchange(port: number, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('error', () => {
      // a reset after the answer: what was answered is in `text`
    });
    socket.on('close', () => resolve(text));
    socket.setTimeout(5000, () => {
      socket.destroy();
      reject(new Error(`no close within 5 s; got ${JSON.stringify(text)}`));
    });
  });
}

test('without a listener, an error on a listening server is thrown at the process (the hazard)', async () => {
  const plain = http.createServer(hello);
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
  servers.push(plain);
  // net.Server reports a failed accept() (EMFILE when file descriptors run out) exactly so
  const error = Object.assign(new Error('accept EMFILE'), { code: 'EMFILE', syscall: 'accept' });
  assert.throws(() => plain.emit('error', error), /accept EMFILE/);
});

test('an error on the listening server is logged, not thrown, and it keeps serving', async () => {
  const { logger, records } = memoryLogger();
  const server = await listenHttp(hello, '127.0.0.1', 0, { logger });
  servers.push(server);
  const port = await portOf(server);
  const error = Object.assign(new Error('accept EMFILE'), { code: 'EMFILE', syscall: 'accept' });
  for (let i = 0; i < 100; i++) server.emit('error', error);
  const logged = records.filter((r) => r.code === 'EMFILE');
  // the first one at once; the others are counted into the next line (at most one a minute)
  assert.equal(logged.length, 1);
  assert.equal(logged[0]?.level, 50);
  assert.match(String(logged[0]?.msg), /^HTTP server on 127\.0\.0\.1:\d+: accept EMFILE .*still listening$/);
  assert.deepEqual(await getText(port, '/'), { status: 200, body: 'hello' });
});

test('the control socket survives its errors too', async () => {
  const { logger, records } = memoryLogger();
  const path = join(makeTempDir(), 's7supervisor.sock');
  const server = await listenUnixSocket(hello, path, { logger });
  servers.push(server);
  server.emit('error', Object.assign(new Error('accept ENFILE'), { code: 'ENFILE' }));
  assert.equal(records.filter((r) => r.code === 'ENFILE').length, 1);
});

test('client errors cost one connection: malformed, oversized and reset requests; the server serves on', async () => {
  const server = await listenHttp(hello, '127.0.0.1', 0);
  servers.push(server);
  const port = await portOf(server);
  assert.match(await rawExchange(port, 'NOT HTTP AT ALL\r\n\r\n'), /^HTTP\/1\.1 400 Bad Request\r\n/);
  const huge = `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`;
  assert.match(await rawExchange(port, huge), /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
  // a client that resets in the middle of its request
  await new Promise<void>((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write('GET / HTTP/1.1\r\nHost: x\r\n');
      socket.resetAndDestroy();
      resolve();
    });
  });
  assert.deepEqual(await getText(port, '/'), { status: 200, body: 'hello' });
});

test('slow clients are cut off: header and request timeouts, checked every second, and a bound on connections', async () => {
  const server = await listenHttp(hello, '127.0.0.1', 0);
  servers.push(server);
  assert.equal(server.headersTimeout, serverTimeouts.headersTimeout);
  assert.equal(server.requestTimeout, serverTimeouts.requestTimeout);
  assert.equal(server.keepAliveTimeout, serverTimeouts.keepAliveTimeout);
  assert.ok(serverTimeouts.headersTimeout <= serverTimeouts.requestTimeout);
  assert.equal(server.maxConnections, defaultMaxConnections());
  // how the bound follows the open-file limit (half of it, between 64 and 4096)
  const limits = (soft: string) =>
    `Limit                     Soft Limit           Hard Limit           Units\nMax open files            ${soft}                 1048576              files\n`;
  assert.equal(defaultMaxConnections(limits('1024')), 512);
  assert.equal(defaultMaxConnections(limits('8192')), 4096);
  assert.equal(defaultMaxConnections(limits('1048576')), 4096);
  assert.equal(defaultMaxConnections(limits('unlimited')), 4096);
  assert.equal(defaultMaxConnections(limits('100')), 64);
  assert.equal(defaultMaxConnections(''), 512);
});

test('beyond maxConnections a connection is closed at once, said in the log once, and the others are served', async () => {
  const { logger, records } = memoryLogger();
  const server = await listenHttp(hello, '127.0.0.1', 0, { logger, maxConnections: 3 });
  servers.push(server);
  const port = await portOf(server);
  const held: net.Socket[] = [];
  after(() => {
    for (const socket of held) socket.destroy();
  });
  for (let i = 0; i < 3; i++) {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    held.push(socket);
    await new Promise((resolve) => socket.once('connect', resolve));
  }
  await waitFor(
    async () => (await new Promise<number>((r) => server.getConnections((_e, n) => r(n)))) === 3,
    {
      message: '3 connections held',
    },
  );
  // the fourth and fifth: accepted by the kernel, closed by the server without an answer
  assert.equal(await rawExchange(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'), '');
  assert.equal(await rawExchange(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'), '');
  const drops = records.filter((r) => typeof r.dropped === 'number');
  assert.equal(drops.length, 1);
  assert.match(String(drops[0]?.msg), /closed at once/);
  // one held connection asks and is answered
  const answer = new Promise<string>((resolve) =>
    held[0]!.once('data', (chunk: Buffer) => resolve(chunk.toString())),
  );
  held[0]!.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.match(await answer, /^HTTP\/1\.1 200 OK\r\n[\s\S]*hello$/);
});
