import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import http, { type Server } from 'node:http';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { listenHttp, listenUnixSocket, StartupError } from '../../src/http/listen.js';
import { makeTempDir } from '../helpers/paths.js';

const servers: Server[] = [];
after(() => {
  for (const server of servers) server.close();
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
