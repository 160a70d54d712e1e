// GET /, the status page, as HTML from a real supervisor: what it shows, what it escapes, what
// it never shows (environment values, the token), and the buttons only with a control token.
// What a person sees in a browser is status-page-browser.test.ts.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { escapeHtml, renderStatusPage } from '../../src/http/status-page.js';
import type { LogLine } from '../../src/log/buffer.js';
import type { ComponentJson } from '../../src/view/component-json.js';
import { status } from '../helpers/fake-view.js';
import { killAllStarted } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';
import { sleeper, socketRequest, supervise } from './harness.js';

afterEach(() => killAllStarted());

const hostile = `<script>alert("x")</script> & 'quoted' <img src=x onerror=alert(1)>`;
const secret = 'env-secret-value-8d2f61';

/** the text of a row's cell: tags dropped, entities decoded once */
function cellText(html: string, id: string, field: string): string | undefined {
  const row = new RegExp(`<tr data-id="${id}"[^>]*>(.*?)</tr>`, 's').exec(html)?.[1];
  const cell = row && new RegExp(`data-field="${field}"[^>]*>(.*?)</t[dh]>`, 's').exec(row)?.[1];
  return cell
    ?.replace(/<[^>]*>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

test('the page: one row per component with state, readiness, pid, uptime, restarts, memory, last exit; escaped; no environment', async () => {
  const sup = await supervise(
    [
      sleeper('is', 1, {
        extra: `<description>${escapeHtml(hostile)}</description>`,
        env: { API_SECRET: secret },
      }),
      sleeper('ps', 2, { priority: 2 }),
    ],
    { tcp: true },
  );
  assert.equal((await sup.ctl(['stop', 'ps'])).code, 0);
  const response = await fetch(sup.url('/'));
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(response.headers.get('cache-control'), 'no-store');
  const html = await response.text();

  assert.match(html, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
  assert.match(html, /<title>Not ready: 1 of 2 components ready · s7supervisor<\/title>/);
  const pids = await sup.pids();
  assert.equal(cellText(html, 'is', 'state'), 'running');
  assert.equal(cellText(html, 'is', 'ready'), 'yes');
  assert.equal(cellText(html, 'is', 'pid'), String(pids.is));
  assert.match(cellText(html, 'is', 'uptime')!, /^\d+s$/);
  assert.equal(cellText(html, 'is', 'restarts'), '0');
  assert.match(cellText(html, 'is', 'memory')!, /^\d+\.\d (KiB|MiB)$/);
  assert.equal(cellText(html, 'is', 'lastExit'), '-');
  assert.equal(cellText(html, 'ps', 'state'), 'stopped');
  assert.equal(cellText(html, 'ps', 'ready'), 'no stopped by operator');
  assert.equal(cellText(html, 'ps', 'pid'), '-');
  assert.match(cellText(html, 'ps', 'lastExit')!, /^SIGTERM \(stopped\), \d+s ago$/);

  // the registry's text is shown as text, never as markup
  assert.equal(cellText(html, 'is', 'id'), `is ${hostile}`);
  assert.ok(!html.includes('<script>alert'), 'a description cannot inject a script');
  assert.ok(!html.includes('<img src=x'), 'a description cannot inject an element');
  assert.ok(!html.includes(secret), 'environment values are never shown');

  // only our own script runs: a fresh nonce per page, in the CSP and on the script tag
  const csp = response.headers.get('content-security-policy') ?? '';
  const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
  assert.ok(nonce, csp);
  assert.match(csp, /default-src 'none'/);
  assert.equal([...html.matchAll(/<script\b/g)].length, 1);
  assert.ok(html.includes(`<script nonce="${nonce}">`));
  const again = (await fetch(sup.url('/'))).headers.get('content-security-policy');
  assert.notEqual(again, csp);

  // read-only without a control token
  assert.doesNotMatch(html, /<button[^>]*data-action/, 'no buttons');
  assert.doesNotMatch(html, /<form id="token-form"/, 'no token form');
  assert.equal(await sup.stop(), 0);
});

test('with a control token: start/stop/restart buttons per component, a reload button and the token form; never the token', async () => {
  const token = 'page-token-55aa31';
  const sup = await supervise([sleeper('is', 1), sleeper('svg', 2)], { tcp: true, token });
  const html = await (await fetch(sup.url('/'))).text();
  assert.match(html, /<form id="token-form">/);
  assert.match(html, /<input id="token" name="token" type="password" autocomplete="off" required>/);
  for (const id of ['is', 'svg']) {
    for (const action of ['start', 'stop', 'restart'])
      assert.match(html, new RegExp(`<button type="button" data-action="${action}" data-id="${id}"`));
  }
  // Start makes no sense for a running component: shown, but disabled
  assert.match(html, /data-action="start" data-id="is" disabled>/);
  assert.match(html, /data-action="stop" data-id="is">/);
  assert.match(html, /<button type="button" data-action="reload">/);
  assert.ok(!html.includes(token));
  assert.equal(await sup.stop(), 0);
});

test('render: every field from the registry or a probe is escaped, attributes included', () => {
  const evil = `"><svg onload=alert(1)>`;
  const components: ComponentJson[] = [
    status('x', {
      description: evil,
      state: 'running',
      ready: false,
      notReadyReason: `readiness: ${evil}`,
      lastExit: { code: 1, reason: 'exited', at: Date.now() - 5000 },
      startError: { message: evil },
      changes: [{ from: 'starting', to: 'running', reason: evil, at: Date.now() }],
    }),
  ];
  // an id cannot hold these characters (the registry refuses them), the page escapes it anyway
  components.push(status(`y${evil}`));
  const now = Date.now();
  const lines: LogLine[] = [
    { seq: 1, time: now, component: 'x', stream: 'stdout', pid: 5, msg: `</pre>${evil}` },
  ];
  const html = renderStatusPage(
    {
      version: `1<b>`,
      phase: 'running',
      ready: false,
      components,
      controls: true,
      now,
      output: { mode: 'open', lines },
    },
    'n0nce',
  );
  assert.ok(!html.includes('<svg'), html);
  assert.ok(!html.includes('</pre>&quot;'), 'output cannot close its element');
  assert.ok(!html.includes(evil), 'no attribute is broken out of');
  assert.ok(html.includes('&quot;&gt;&lt;svg onload=alert(1)&gt;'));
  assert.ok(html.includes('1&lt;b&gt;'));
});

test('render: a crash loop (3 restarts in 5 min) is marked, restarts in 5 and 60 min, the next try while in backoff, recent changes newest first', () => {
  const now = Date.UTC(2026, 10, 30, 12, 0, 0);
  const minutes = (m: number) => now - m * 60_000;
  const html = renderStatusPage(
    {
      version: '1',
      phase: 'running',
      ready: false,
      controls: false,
      now,
      components: [
        status('loop', {
          state: 'backoff',
          ready: false,
          restarts: 7,
          nextStartAt: now + 4200,
          restartTimes: [minutes(90), minutes(50), minutes(20), minutes(4), minutes(2), minutes(1)],
          changes: [
            { from: 'starting', to: 'running', reason: 'ready', at: minutes(1) },
            { from: 'running', to: 'backoff', reason: 'restarting after code 3', at: now - 1000 },
          ],
        }),
        status('calm', { restarts: 2, restartTimes: [minutes(200), minutes(30)] }),
        status('new', { restarts: 0 }),
      ],
    },
    'n0nce',
  );
  assert.equal(cellText(html, 'loop', 'id'), 'loop crash loop component loop');
  assert.equal(cellText(html, 'loop', 'restarts'), '7 3 in 5 min · 5 in 1 h');
  assert.equal(cellText(html, 'loop', 'state'), 'backoff next try in 5s (12:00:04)');
  assert.match(html, /data-next-in="4200"/);
  assert.equal(cellText(html, 'calm', 'restarts'), '2 0 in 5 min · 1 in 1 h');
  assert.doesNotMatch(cellText(html, 'calm', 'id') ?? '', /crash loop/);
  assert.equal(cellText(html, 'new', 'restarts'), '0');
  const changes = /<tr class="detail" data-detail="loop">(.*?)<\/tr>/s.exec(html)?.[1] ?? '';
  assert.ok(changes.indexOf('restarting after code 3') < changes.indexOf('ready'), 'newest first');
  assert.match(
    changes,
    /11:59:59<\/time> <span class="from">running<\/span> → <span class="badge state-backoff">backoff<\/span>/,
  );
  // not shown: the output, when the page has no way to get it
  assert.match(html, /output is not kept/);
});

test('the output on the page: server-rendered on the control socket, asked for with the token on TCP, never without one', async () => {
  const secret = 'printed-secret-77a1';
  const talker = {
    id: 'talk',
    command: 'sh',
    args: ['-c', `echo 'hello from talk'; echo '${secret}'; exec sleep 100077`],
    stopTimeout: 2,
  };
  const open = await supervise([talker], { tcp: true });
  const onSocket = await waitFor(
    async () => {
      const page = await socketRequest(open.socket, '/');
      return page.body.includes(secret) ? page.body : undefined;
    },
    { message: 'the output on the socket page' },
  );
  assert.match(onSocket, new RegExp(`<pre data-output="talk"[^>]*>hello from talk\n${secret}</pre>`));
  assert.match(onSocket, /data-output="open"/);
  const overTcp = await (await fetch(open.url('/'))).text();
  assert.ok(!overTcp.includes(secret));
  assert.match(overTcp, /output needs the control token \(S7SUPERVISOR_CONTROL_TOKEN\)/);
  assert.match(overTcp, /<a href="readyz\?verbose">/);
  assert.match(overTcp, /<a href="metrics">/);
  assert.match(overTcp, /<body data-last-event="\d+"/);
  assert.equal(await open.stop(), 0);

  const guarded = await supervise([talker], { tcp: true, token: 'page-output-token-0099' });
  const withToken = await (await fetch(guarded.url('/'))).text();
  assert.ok(!withToken.includes(secret));
  assert.match(withToken, /data-output="token"/);
  assert.match(withToken, /the output needs the control token: enter it above/);
  assert.equal(await guarded.stop(), 0);
});
