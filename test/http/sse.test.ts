// The hand-made Server-Sent Events layer (src/http/sse.ts) on a real HTTP server, with limits
// small enough to see in a test: the heartbeat comment, the one timer it needs, the limit on open
// streams, and the last event id a reconnecting client sends.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type TestContext, test } from 'node:test';
import { lastEventId, SseHub } from '../../src/http/sse.js';
import { openSse } from '../helpers/sse.js';
import { waitFor } from '../helpers/wait.js';

async function serve(t: TestContext, hub: SseHub, backlog = 1024 * 1024) {
  const server = http.createServer((req, res) => {
    const stream = hub.open(req, res, backlog);
    stream?.send(
      JSON.stringify({
        since:
          lastEventId(req, new URL(req.url ?? '/', 'http://x').searchParams.get('since') ?? undefined) ??
          null,
      }),
      1,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return { server, url };
}

test('heartbeat comments while a stream is open, one timer for all, gone with the last stream', async (t) => {
  const hub = new SseHub({ maxStreams: 10, heartbeatMs: 50 });
  assert.equal(hub.ticking, false);
  const { url } = await serve(t, hub);
  const a = openSse({ url });
  const b = openSse({ url });
  await waitFor(() => a.comments.length >= 2 && b.comments.length >= 2, { message: 'two heartbeats each' });
  assert.deepEqual([...new Set(a.comments)], ['keep-alive']);
  assert.equal(a.text().split('\n')[0], 'retry: 2000');
  assert.deepEqual(a.messages(), [{ since: null }]);
  assert.equal(hub.size, 2);
  assert.equal(hub.ticking, true);
  a.close();
  await waitFor(() => hub.size === 1, { message: 'one stream forgotten' });
  assert.equal(hub.ticking, true, 'while one is open');
  b.close();
  await waitFor(() => hub.size === 0, { message: 'both streams forgotten' });
  assert.equal(hub.ticking, false, 'the heartbeat timer is cleared with the last stream');
});

test('past maxStreams: 503 with Retry-After; Last-Event-ID beats ?since=', async (t) => {
  const hub = new SseHub({ maxStreams: 2, heartbeatMs: 60_000 });
  const { url } = await serve(t, hub);
  const open = [openSse({ url: `${url}?since=7` }), openSse({ url }, { 'Last-Event-ID': '42' })];
  await waitFor(() => open.every((c) => c.messages().length === 1), { message: 'two streams' });
  assert.deepEqual(
    open.map((c) => c.messages()),
    [[{ since: 7 }], [{ since: 42 }]],
  );
  const third = openSse({ url });
  const head = await third.response;
  assert.equal(head.status, 503);
  assert.equal(head.headers['retry-after'], '10');
  assert.match(head.body ?? '', /too many event streams open \(2\)/);
  for (const c of open) c.close();
  await waitFor(() => hub.size === 0, { message: 'closed' });
});

test('a client that does not read is dropped once the bound is passed, and counted', async (t) => {
  const hub = new SseHub({ maxStreams: 10, heartbeatMs: 60_000 });
  const streams: Array<ReturnType<SseHub['open']>> = [];
  const server = http.createServer((req, res) => streams.push(hub.open(req, res, 64 * 1024)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const req = http.get({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, path: '/' });
  req.on('error', () => {});
  req.on('response', (res) => res.pause());
  await waitFor(() => streams.length === 1, { message: 'the stream open' });
  const stream = streams[0]!;
  const event = 'x'.repeat(1000);
  let sent = 0;
  while (stream.send(event) && sent < 100_000) sent++;
  assert.ok(sent < 100_000, 'dropped at some point');
  assert.equal(stream.droppedBecause, 'slow client');
  assert.equal(hub.size, 0);
  assert.equal(hub.dropped, 1);
  // what it held was bounded: the socket's buffers and the 64 KiB
  assert.ok(sent * 1000 < 16 * 1024 * 1024, `${sent} events went out before the drop`);
  req.destroy();
});
