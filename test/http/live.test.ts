// The live endpoints over real HTTP against a real `s7supervisor run`: GET /api/v1/events (Server-
// Sent Events of state changes), the logs API and who may read it, and that clients who go away,
// or do not read, leave nothing behind in the supervisor.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { afterEach, test } from 'node:test';
import type { StateEvent } from '../../src/http/events.js';
import type { LogLine } from '../../src/log/buffer.js';
import { sleeper, socketRequest, supervise } from '../control/harness.js';
import { killAllStarted } from '../helpers/processes.js';
import { openSse } from '../helpers/sse.js';
import { waitFor } from '../helpers/wait.js';

afterEach(() => killAllStarted());

const token = 'live-token-4f1d0c9a';

interface Debug {
  supervisor: Record<string, number>;
  events: { subscribers: number; lastId: number };
  logs: { followers: number; buffers: number };
  streams: { open: number; dropped: number };
}

async function debug(socket: string): Promise<Debug> {
  const { status, body } = await socketRequest(socket, '/api/v1/debug/listeners');
  assert.equal(status, 200, body);
  return JSON.parse(body) as Debug;
}

/** resident memory of a process, from /proc */
function rssBytes(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

test('GET /api/v1/events: a crash, its backoff and the restart arrive in order with from, to, reason and monotonic ids; Last-Event-ID replays', async () => {
  const sup = await supervise(
    [sleeper('is', 1), sleeper('svg', 2, { extra: '<restart backoffInitial="1" backoffMax="1"/>' })],
    { tcp: true },
  );
  const stream = openSse({ url: sup.url('/api/v1/events') });
  const head = await stream.response;
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-type'], 'text/event-stream; charset=utf-8');
  assert.equal(head.headers['cache-control'], 'no-store');
  await waitFor(() => stream.text().startsWith('retry: '), { message: 'the retry field' });

  const pid = (await sup.pids()).svg!;
  const killedAt = Date.now();
  process.kill(pid, 'SIGKILL');
  const events = await waitFor(
    () => {
      const list = stream.messages<StateEvent>().filter((e) => e.component === 'svg');
      return list.length >= 3 ? list : undefined;
    },
    { timeout: 20_000, message: 'crash, backoff and restart events' },
  );
  assert.deepEqual(
    events.map((e) => [e.from, e.to]),
    [
      ['running', 'backoff'],
      ['backoff', 'starting'],
      ['starting', 'running'],
    ],
  );
  const [backoff, starting, running] = events as [StateEvent, StateEvent, StateEvent];
  assert.equal(backoff.reason, 'restarting after signal SIGKILL');
  assert.ok(backoff.nextStartAt !== undefined && backoff.nextStartAt >= backoff.time + 800, 'the next try');
  assert.ok(backoff.time >= killedAt - 5);
  assert.equal(starting.reason, 'backoff over: starting again');
  assert.equal(starting.restarts, 1);
  assert.equal(running.reason, 'ready');
  assert.equal(running.ready, true);
  assert.notEqual(running.pid, pid);
  assert.equal(running.pid, (await sup.pids()).svg);
  // ids are the SSE ids too, one more each time
  const ids = stream.events.filter((e) => e.event === 'message').map((e) => Number(e.id));
  assert.deepEqual(
    events.map((e) => e.id),
    ids.slice(-3),
  );
  assert.deepEqual(ids.slice(-3), [backoff.id, backoff.id + 1, backoff.id + 2]);
  stream.close();

  // a reconnecting EventSource sends the last id it has: what came after is replayed
  const resumed = openSse({ url: sup.url('/api/v1/events') }, { 'Last-Event-ID': String(backoff.id) });
  const replay = await waitFor(
    () => (resumed.messages<StateEvent>().length >= 2 ? resumed.messages<StateEvent>() : undefined),
    {
      message: 'the replay',
    },
  );
  assert.deepEqual(
    replay.map((e) => e.id),
    [starting.id, running.id],
  );
  resumed.close();
  // an id this supervisor never gave (the client talked to an earlier one): a reset
  const stale = openSse({ url: sup.url('/api/v1/events?since=999999') });
  const reset = await waitFor(() => stale.events.find((e) => e.event === 'reset'), {
    message: 'a reset event',
  });
  assert.deepEqual(JSON.parse(reset.data), { lastId: running.id });
  stale.close();

  // the status JSON carries the same history
  const svg = await sup.component('svg');
  assert.deepEqual(
    svg?.changes.slice(-3).map((c) => [c.from, c.to, c.reason]),
    [
      ['running', 'backoff', 'restarting after signal SIGKILL'],
      ['backoff', 'starting', 'backoff over: starting again'],
      ['starting', 'running', 'ready'],
    ],
  );
  assert.equal(svg?.restartTimes.length, 1);
  assert.equal(svg?.nextStartAt, undefined, 'only while in backoff');
  assert.equal(await sup.stop(), 0);
});

test('component output over TCP needs the token (401 without or with a wrong one, 403 when none is configured); the control socket needs none; follow=1 streams new lines', async () => {
  const talker = {
    id: 'talk',
    command: 'sh',
    args: ['-c', `echo 'secret=hunter2'; trap 'echo "more $$"' USR1; while :; do sleep 0.05; done`],
    stopTimeout: 2,
  };
  const sup = await supervise([talker], { tcp: true, token });
  const path = '/api/v1/components/talk/logs?tail=10';
  await waitFor(async () => (await socketRequest(sup.socket, path)).body.includes('secret=hunter2'), {
    message: 'the line in the buffer',
  });
  const attempts: Array<Record<string, string>> = [
    {},
    { authorization: 'Bearer wrong-token-000000000' },
    // the token without "Bearer"
    { authorization: token },
  ];
  for (const headers of attempts) {
    const response = await fetch(sup.url(path), { headers });
    assert.equal(response.status, 401, JSON.stringify(headers));
    assert.doesNotMatch(await response.text(), /hunter2/);
  }
  for (const url of [path, '/api/v1/logs?tail=10', `${path}&follow=1`]) {
    const refused = await fetch(sup.url(url));
    assert.equal(refused.status, 401, url);
    await refused.body?.cancel();
  }
  const allowed = await fetch(sup.url(path), { headers: { authorization: `Bearer ${token}` } });
  assert.equal(allowed.status, 200);
  assert.equal(allowed.headers.get('content-type'), 'application/x-ndjson; charset=utf-8');
  const [line] = (await allowed.text())
    .split('\n')
    .filter(Boolean)
    .map((row) => JSON.parse(row) as LogLine);
  assert.equal(line?.msg, 'secret=hunter2');
  assert.equal(line?.stream, 'stdout');
  assert.equal(line?.component, 'talk');
  const viaSocket = await socketRequest(sup.socket, path);
  assert.equal(viaSocket.status, 200);
  assert.match(viaSocket.body, /secret=hunter2/);
  assert.equal(
    (await fetch(sup.url('/api/v1/components/nope/logs'), { headers: { authorization: `Bearer ${token}` } }))
      .status,
    404,
  );
  assert.equal(
    (await fetch(sup.url(`${path.split('?')[0]}?tail=-1`), { headers: { authorization: `Bearer ${token}` } }))
      .status,
    400,
  );

  // follow=1: the backlog, then what is printed afterwards, as SSE with the line's seq as id
  const follow = openSse(
    { url: sup.url('/api/v1/components/talk/logs?tail=1&follow=1') },
    { authorization: `Bearer ${token}` },
  );
  await waitFor(() => follow.events.some((e) => e.event === 'live'), { message: 'the end of the backlog' });
  assert.deepEqual(
    follow.messages<LogLine>().map((l) => l.msg),
    ['secret=hunter2'],
  );
  const pid = (await sup.pids()).talk!;
  process.kill(pid, 'SIGUSR1');
  const more = await waitFor(() => follow.messages<LogLine>().find((l) => l.msg === `more ${pid}`), {
    message: 'the new line',
  });
  assert.equal(follow.events.find((e) => e.data.includes(`more ${pid}`))?.id, String(more.seq));
  follow.close();
  assert.equal(await sup.stop(), 0);

  // no token configured: refused over TCP whatever is sent, still served on the socket
  const open = await supervise([talker], { tcp: true });
  const forbidden = await fetch(open.url(path), { headers: { authorization: `Bearer ${token}` } });
  assert.equal(forbidden.status, 403);
  assert.match(((await forbidden.json()) as { message: string }).message, /S7SUPERVISOR_CONTROL_TOKEN/);
  await waitFor(async () => (await socketRequest(open.socket, path)).body.includes('hunter2'), {
    message: 'served on the socket',
  });
  assert.equal(await open.stop(), 0);
});

test('2,000 streams opened and dropped (events on TCP, logs on the socket) leave no listener behind, and RSS levels off', {
  timeout: 180_000,
}, async () => {
  const chatty = {
    id: 'chatty',
    command: 'sh',
    args: ['-c', 'while :; do echo "tick $(date +%s%N)"; sleep 0.01; done'],
    stopTimeout: 2,
  };
  const sup = await supervise([chatty, sleeper('quiet', 1)], { tcp: true, token });
  const baseline = await debug(sup.socket);
  assert.equal(baseline.streams.open, 0);
  const open = (i: number) =>
    i % 2 === 0
      ? openSse({ url: sup.url('/api/v1/events') })
      : openSse({ socketPath: sup.socket, path: '/api/v1/logs?tail=5&follow=1' });
  const wave = async (from: number, count: number) => {
    const clients = Array.from({ length: count }, (_, i) => open(from + i));
    // each one served: its retry field (and for logs, lines) arrived
    await waitFor(() => clients.every((c) => c.text().startsWith('retry: ')), {
      timeout: 30_000,
      message: 'every stream of the wave open',
    });
    const during = await debug(sup.socket);
    assert.equal(during.streams.open, count);
    for (const client of clients) client.close();
    await Promise.all(clients.map((c) => c.ended));
  };
  const closedEverywhere = () =>
    waitFor(
      async () => {
        const now = await debug(sup.socket);
        return now.streams.open === 0 && now.events.subscribers === 0 && now.logs.followers === 0
          ? now
          : undefined;
      },
      { message: 'every stream closed in the supervisor' },
    );
  // V8 sizes its heap to the churn of hundreds of connections (plain requests do the same): warm
  // it up first, then a leak shows as growth that goes on from one thousand streams to the next
  for (let i = 0; i < 3; i++) await wave(i * 100, 100);
  await closedEverywhere();
  const rss0 = rssBytes(sup.run.pid);
  for (let i = 0; i < 10; i++) await wave(i * 100, 100);
  const after = await closedEverywhere();
  assert.deepEqual(
    after.supervisor,
    baseline.supervisor,
    'the listeners on the supervisor are those of before',
  );
  assert.equal(after.streams.dropped, 0);
  const rss1 = rssBytes(sup.run.pid);
  for (let i = 0; i < 10; i++) await wave(i * 100, 100);
  assert.deepEqual((await closedEverywhere()).supervisor, baseline.supervisor);
  const rss2 = rssBytes(sup.run.pid);
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  process.stdout.write(
    `# RSS ${mb(rss0)} after a warm-up of 300 streams, ${mb(rss1)} after 1,000 more, ${mb(rss2)} after another 1,000\n`,
  );
  assert.ok(rss1 - rss0 < 40 * 1024 * 1024, `the first thousand: +${mb(rss1 - rss0)}`);
  assert.ok(
    rss2 - rss1 < 12 * 1024 * 1024,
    `the second thousand: +${mb(rss2 - rss1)} (a leak goes on growing)`,
  );
  assert.equal(await sup.stop(), 0);
});

test('a follower that does not read is dropped once its backlog passes the bound; the supervisor stays small', {
  timeout: 120_000,
}, async () => {
  // 40,000 lines of 200 bytes, printed when asked (SIGUSR1)
  const burst = {
    id: 'burst',
    command: 'sh',
    args: [
      '-c',
      `trap 'head -c 8000000 /dev/zero | tr "\\\\0" x | fold -w 199' USR1; while :; do sleep 0.05; done`,
    ],
    stopTimeout: 2,
    extra: '<output>raw</output>',
  };
  const sup = await supervise([burst]);
  // a raw HTTP request on the socket, and never a byte read back
  const socket = net.connect(sup.socket);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write('GET /api/v1/logs?tail=0&follow=1 HTTP/1.1\r\nHost: x\r\n\r\n');
  socket.pause();
  await waitFor(async () => (await debug(sup.socket)).logs.followers === 1, { message: 'the follower in' });
  const rssBefore = rssBytes(sup.run.pid);
  process.kill((await sup.pids()).burst!, 'SIGUSR1');
  const dropped = await waitFor(
    async () => {
      const now = await debug(sup.socket);
      return now.streams.dropped === 1 ? now : undefined;
    },
    { timeout: 60_000, message: 'the slow follower dropped' },
  );
  assert.equal(dropped.logs.followers, 0);
  assert.equal(dropped.streams.open, 0);
  // the whole burst went through the supervisor; what it holds for the follower was bounded
  await waitFor(
    async () => (await socketRequest(sup.socket, '/api/v1/logs?tail=1')).body.includes('"msg":"x'),
    {
      message: 'the burst in the buffer',
    },
  );
  const growth = rssBytes(sup.run.pid) - rssBefore;
  process.stdout.write(
    `# RSS during an 8 MB burst with a follower that does not read: +${(growth / 1024 / 1024).toFixed(1)} MB\n`,
  );
  assert.ok(growth < 40 * 1024 * 1024, `RSS grew by ${growth} bytes`);
  socket.destroy();
  assert.equal(await sup.stop(), 0);
});
