// GET /, the status page, as HTML from a real supervisor: what it shows, what it escapes, what
// it never shows (environment values, the token), and the buttons only with a control token.
// What a person sees in a browser is status-page-browser.test.ts.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import type { ComponentJson } from '../../src/http/app.js';
import { escapeHtml, renderStatusPage } from '../../src/http/status-page.js';
import { status } from '../helpers/fake-view.js';
import { killAllStarted } from '../helpers/processes.js';
import { sleeper, supervise } from './harness.js';

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
    }),
  ];
  // an id cannot hold these characters (the registry refuses them), the page escapes it anyway
  components.push(status(`y${evil}`));
  const html = renderStatusPage(
    { version: `1<b>`, phase: 'running', ready: false, components, controls: true, now: Date.now() },
    'n0nce',
  );
  assert.ok(!html.includes('<svg'), html);
  assert.ok(!html.includes(evil), 'no attribute is broken out of');
  assert.ok(html.includes('&quot;&gt;&lt;svg onload=alert(1)&gt;'));
  assert.ok(html.includes('1&lt;b&gt;'));
});
