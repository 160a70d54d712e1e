// The status page in a real browser (Debian's chromium, headless, driven by playwright-core): what
// a person sees on a phone after a component is killed and restarted, and the control buttons
// with the token. Screenshots go to test-artifacts/ (git-ignored) for a person to look at.
// biome-ignore-all lint/performance/useDomNodeTextContent: innerText is what a person sees (CSS applied), which is the point here
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { makeTempDir, repoRoot } from '../helpers/paths.js';
import { killAllStarted } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';
import { sleeper, supervise } from './harness.js';

const executablePath = '/usr/bin/chromium';
const artifacts = join(repoRoot, 'test-artifacts');
const token = 'browser-token-71c0de';

after(() => killAllStarted());

const skip = existsSync(executablePath)
  ? false
  : `no browser at ${executablePath}: apt-get install chromium (scripts/install-system-deps.sh) to run this test`;

async function launch(): Promise<BrowserContext> {
  return chromium.launchPersistentContext(makeTempDir('s7sup-chromium-'), {
    executablePath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    // a phone: the page must be readable without zooming or scrolling sideways
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
  });
}

/** what a person reads in one cell of a component's card */
const seen = (page: Page, id: string, field: string) =>
  page.locator(`tr[data-id="${id}"] [data-field="${field}"]`).innerText();

async function card(page: Page, id: string) {
  return {
    state: await seen(page, id, 'state'),
    ready: await seen(page, id, 'ready'),
    pid: await seen(page, id, 'pid'),
    restarts: await seen(page, id, 'restarts'),
    lastExit: await seen(page, id, 'lastExit'),
  };
}

test('status page on a phone: a killed component is seen restarted (restarts 1, running, new pid); buttons with the token', {
  skip,
  timeout: 120_000,
}, async (t) => {
  const sup = await supervise(
    [
      sleeper('is', 1, { extra: '<description>Image Server</description>' }),
      sleeper('svg', 2, { extra: '<description>SVG renderer</description>' }),
      sleeper('ps', 3, { priority: 2, extra: '<description>Platform Server</description>' }),
    ],
    { tcp: true, token },
  );
  const context = await launch();
  t.after(() => context.close());
  const page = context.pages()[0] ?? (await context.newPage());
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.accept();
  });
  mkdirSync(artifacts, { recursive: true });

  await page.goto(sup.url('/'));
  assert.equal(await page.title(), 'Ready: 3 of 3 components ready · s7supervisor');
  assert.match(await page.locator('#summary').innerText(), /^Ready · 3 of 3 components ready$/);
  const before = await sup.pids();
  for (const id of ['is', 'svg', 'ps']) {
    const c = await card(page, id);
    assert.deepEqual(
      [c.state, c.ready, c.pid, c.restarts, c.lastExit],
      ['running', 'yes', String(before[id]), '0', '-'],
    );
  }
  assert.match(await page.locator('tr[data-id="is"] [data-field="id"]').innerText(), /is\s+Image Server/);
  // readable on a phone: nothing wider than the screen
  assert.ok(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'));

  // kill -9: the page, refreshing itself, shows the restart without anyone reloading it
  process.kill(before.svg!, 'SIGKILL');
  const restarted = await waitFor(
    async () => {
      const c = await card(page, 'svg');
      return c.state === 'running' && c.restarts === '1' && c.pid !== String(before.svg) ? c : undefined;
    },
    { timeout: 30_000, message: 'the page to show svg restarted' },
  );
  assert.equal(restarted.pid, String((await sup.component('svg'))?.pid));
  assert.equal(restarted.ready, 'yes');
  assert.match(restarted.lastExit, /^SIGKILL, \d+s ago$/);
  assert.equal((await card(page, 'is')).pid, String(before.is), 'the others are untouched');
  await page.screenshot({ path: join(artifacts, 'status-page-phone.png'), fullPage: true });

  // Stop without a token: asked for it, nothing done
  await page.locator('tr[data-id="ps"] button[data-action="stop"]').click();
  assert.equal(await page.locator('#message').innerText(), 'Enter the control token first.');
  assert.equal((await sup.component('ps'))?.state, 'running');

  // a wrong token is refused and forgotten
  await page.locator('#token').fill('not-the-token');
  await page.locator('#token-form button[type=submit]').click();
  await page.locator('tr[data-id="ps"] button[data-action="stop"]').click();
  await waitFor(async () => (await page.locator('#message').innerText()).includes('refused'), {
    message: 'the refusal shown',
  });
  assert.equal(await page.locator('#message').innerText(), 'The control token was refused: enter it again.');
  assert.equal(await page.locator('#token-form').isVisible(), true);
  assert.equal((await sup.component('ps'))?.state, 'running');

  // the right one: Stop (confirmed), and the page says stopped by operator and Not ready
  await page.locator('#token').fill(token);
  await page.locator('#token-form button[type=submit]').click();
  assert.equal(await page.locator('#token-set').isVisible(), true);
  await page.locator('tr[data-id="ps"] button[data-action="stop"]').click();
  await waitFor(async () => (await card(page, 'ps')).state === 'stopped', {
    timeout: 20_000,
    message: 'ps stopped',
  });
  // confirmed each time: with the wrong token, then with the right one
  assert.deepEqual(dialogs, ['Really stop ps?', 'Really stop ps?']);
  assert.equal(await seen(page, 'ps', 'ready'), 'no\nstopped by operator');
  await waitFor(async () => (await page.title()).startsWith('Not ready'), {
    message: 'the title to say Not ready',
  });
  assert.match(await page.locator('#summary').innerText(), /^Not ready · 2 of 3 components ready$/);
  assert.equal((await sup.component('ps'))?.stoppedByOperator, true);
  assert.equal(await page.evaluate("sessionStorage.getItem('s7supervisor-control-token')"), token);

  // Start needs no confirmation; the page follows
  await page.locator('tr[data-id="ps"] button[data-action="start"]').click();
  await waitFor(async () => (await card(page, 'ps')).state === 'running', {
    timeout: 20_000,
    message: 'ps running',
  });
  await waitFor(async () => (await page.title()).startsWith('Ready'), { message: 'the title to say Ready' });

  // and on a desktop screen it is a table
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.screenshot({ path: join(artifacts, 'status-page-desktop.png'), fullPage: true });
  assert.equal(await page.locator('thead').isVisible(), true);
  assert.equal(await sup.stop(), 0);
});
