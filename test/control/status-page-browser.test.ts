// The status page in a real browser (Debian's chromium, headless, driven by playwright-core): what
// a person sees on a desktop and on a phone. A crash-looping component reads as one, a state
// change arrives through the events stream without the page being reloaded or even fetched again,
// the last lines of output appear once the token is given, and the control buttons work with the
// token. Screenshots (1280×900 and 390×844) go to test-artifacts/ (git-ignored) for a person to
// look at; docs/status-page.png is a copy of the desktop one.
// biome-ignore-all lint/performance/useDomNodeTextContent: innerText is what a person sees (CSS applied), which is the point here
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { makeTempDir, repoRoot } from '../helpers/paths.js';
import { killAllStarted } from '../helpers/processes.js';
import type { TestServer } from '../helpers/registry.js';
import { waitFor } from '../helpers/wait.js';
import { sleeper, supervise } from './harness.js';

const executablePath = '/usr/bin/chromium';
const artifacts = join(repoRoot, 'test-artifacts');
const token = 'browser-token-71c0de';

after(() => killAllStarted());

const skip = existsSync(executablePath)
  ? false
  : `no browser at ${executablePath}: apt-get install chromium (scripts/install-system-deps.sh) to run this test`;

async function launch(screen: 'phone' | 'desktop'): Promise<BrowserContext> {
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
    ...(screen === 'phone'
      ? // a phone: the page must be readable without zooming or scrolling sideways
        { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true }
      : { viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 }),
  });
}

/** what a person reads in one cell of a component's row */
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

/** a component that says a few things at start, then runs until stopped */
const talker = (id: string, n: number, lines: string[], extra = ''): TestServer => ({
  id,
  command: 'sh',
  args: ['-c', `${lines.map((line) => `echo '${line}'`).join('; ')}; exec sleep ${100_000 + n}`],
  stopTimeout: 5,
  extra,
});

/** crashes 0.3 s after each start, with a message on stderr: a crash loop */
const crasher: TestServer = {
  id: 'thumbs',
  command: 'sh',
  args: [
    '-c',
    `echo "thumbs: starting"; echo "thumbs: cannot open /data/index: No such file" >&2; sleep 0.3; exit 3`,
  ],
  stopTimeout: 2,
  extra:
    '<description>Thumbnailer</description><critical>false</critical><restart backoffInitial="1" backoffMax="2" resetAfter="30"/>',
};

test('desktop (1280×900): a crash loop seen as one, a state change without a reload, CPU beside memory, the last output with the token', {
  skip,
  timeout: 180_000,
}, async (t) => {
  const sup = await supervise(
    [
      talker(
        'is',
        1,
        ['Image Server 7.3 listening on 27345', 'cache warmed: 42 entries'],
        '<description>Image Server</description>',
      ),
      talker(
        'svg',
        2,
        ['SVG renderer ready'],
        '<description>SVG renderer</description><restart backoffInitial="4" backoffMax="4"/>',
      ),
      crasher,
      {
        ...talker(
          'ps',
          3,
          ['Platform Server started in 1234 ms'],
          '<description>Platform Server</description>',
        ),
        priority: 2,
      },
    ],
    { tcp: true, token, config: '<restartIntensity max="1000" period="60"/>', running: ['is', 'svg', 'ps'] },
  );
  const context = await launch('desktop');
  t.after(() => context.close());
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('dialog', (dialog) => void dialog.accept());
  mkdirSync(artifacts, { recursive: true });
  await page.goto(sup.url('/'));
  // the page's own document, kept from here on: a reload would lose this
  await page.evaluate('window.sameDocument = true');

  // the crash loop: a mark on the row, restarts in the last 5 min and hour, the next try while in backoff
  const looping = await waitFor(
    async () => {
      const name = await seen(page, 'thumbs', 'id');
      const state = await seen(page, 'thumbs', 'state');
      return name.includes('crash loop') && /^backoff\nnext try in \d+s$/.test(state)
        ? { name, state }
        : undefined;
    },
    { timeout: 60_000, interval: 100, message: 'thumbs shown as crash looping, in backoff' },
  );
  assert.match(looping.name, /^thumbs crash loop\nThumbnailer\nnot critical$/);
  const restarts = await seen(page, 'thumbs', 'restarts');
  const [total, recent] = restarts.split('\n');
  assert.ok(Number(total) >= 3, restarts);
  assert.match(recent ?? '', /^[3-9]\d* in 5 min · \d+ in 1 h$/);
  assert.equal(
    await page.evaluate(
      `getComputedStyle(document.querySelector('tr[data-id="thumbs"] [data-field="state"] .badge'), '::before').content`,
    ),
    '"● "',
    'a red mark while in backoff',
  );
  const changes = await page.locator('tr[data-detail="thumbs"] [data-field="changes"] li').allInnerTexts();
  assert.ok(changes.length >= 3, changes.join('\n'));
  assert.ok(
    changes.some((c) => /^\d\d:\d\d:\d\d running → backoff restarting after code 3$/.test(c)),
    changes.join('\n'),
  );

  // a state change without a reload, and without fetching the page again: the events stream alone
  const thePage = (url: URL) => url.pathname === '/';
  await page.route(thePage, (route) => route.abort());
  const svgPid = (await sup.pids()).svg!;
  process.kill(svgPid, 'SIGKILL');
  const killedAt = Date.now();
  await waitFor(async () => (await seen(page, 'svg', 'state')).startsWith('backoff'), {
    timeout: 5000,
    interval: 50,
    message: 'svg shown in backoff',
  });
  const latency = Date.now() - killedAt;
  await page.unroute(thePage);
  assert.equal(await page.evaluate('window.sameDocument'), true, 'not reloaded');
  process.stdout.write(`# kill -9 to the state shown on the page: ${latency} ms\n`);
  // and once the page can be fetched again the whole row follows: restarted, new pid
  const restarted = await waitFor(
    async () => {
      const c = await card(page, 'svg');
      return c.state === 'running' && c.pid !== String(svgPid) ? c : undefined;
    },
    { timeout: 30_000, message: 'svg restarted on the page' },
  );
  assert.equal(restarted.pid, String((await sup.component('svg'))?.pid));
  assert.match(restarted.lastExit, /^SIGKILL, \d+s ago$/);
  assert.equal(await page.evaluate('window.sameDocument'), true, 'still not reloaded');

  // CPU beside memory; memory and last exit each on one line; nothing wider than the screen
  assert.match(await seen(page, 'is', 'cpu'), /^\d+(\.\d)?%$/);
  assert.match(await seen(page, 'is', 'memory'), /^\d+\.\d (KiB|MiB)$/);
  const heads = await page.locator('thead th').allInnerTexts();
  assert.equal(heads[heads.indexOf('CPU') + 1], 'Memory');
  // how many lines each cell of a column takes: the line boxes of its text
  const lineBoxes = (field: string): Promise<number[]> =>
    page.evaluate(`[...document.querySelectorAll('[data-field="${field}"]')].map((cell) => {
      const range = document.createRange();
      range.selectNodeContents(cell);
      return new Set([...range.getClientRects()].map((rect) => Math.round(rect.top))).size;
    })`);
  for (const field of ['memory', 'lastExit', 'cpu', 'pid', 'uptime'])
    assert.ok(
      (await lineBoxes(field)).every((lines) => lines <= 1),
      `${field} on one line: ${await lineBoxes(field)}`,
    );
  assert.ok(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'));

  // the output needs the token on TCP: asked for, then followed
  assert.equal(
    await page.locator('pre[data-output="is"]').innerText(),
    'the output needs the control token: enter it above',
  );
  await page.locator('#token').fill(token);
  await page.locator('#token-form button[type=submit]').click();
  await waitFor(
    async () =>
      (await page.locator('pre[data-output="is"]').innerText()) ===
      'Image Server 7.3 listening on 27345\ncache warmed: 42 entries',
    { timeout: 10_000, message: "is's output on the page" },
  );
  const loopOutput = await waitFor(
    async () => {
      const text = await page.locator('pre[data-output="thumbs"]').innerText();
      return text.includes('cannot open /data/index') ? text : undefined;
    },
    { message: "thumbs's output on the page" },
  );
  assert.ok(loopOutput.split('\n').length <= 5, 'the last 5 lines');
  // a line printed now appears as it is printed (the follow survives the page's refreshes)
  const psPid = (await sup.pids()).ps!;
  await sup.ctl(['restart', 'ps']);
  await waitFor(async () => (await sup.pids()).ps !== psPid, { message: 'ps restarted' });
  await waitFor(
    async () =>
      (await page.locator('pre[data-output="ps"]').innerText()) ===
      'Platform Server started in 1234 ms\nPlatform Server started in 1234 ms',
    { timeout: 10_000, message: 'the new line of ps' },
  );
  // links for the operator
  assert.deepEqual(
    await page.locator('nav a').evaluateAll((links) => links.map((a) => a.getAttribute('href'))),
    ['readyz?verbose', 'metrics', 'api/v1/components'],
  );
  await page.screenshot({ path: join(artifacts, 'status-page-desktop.png') });
  await page.screenshot({ path: join(artifacts, 'status-page-desktop-full.png'), fullPage: true });
  assert.equal(await sup.stop(), 0);
});

test('phone (390×844): a killed component seen restarted without a reload; buttons with the token', {
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
  const context = await launch('phone');
  t.after(() => context.close());
  const page = context.pages()[0] ?? (await context.newPage());
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.accept();
  });
  mkdirSync(artifacts, { recursive: true });

  await page.goto(sup.url('/'));
  await page.evaluate('window.sameDocument = true');
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

  // kill -9: the page follows the restart without anyone reloading it
  process.kill(before.svg!, 'SIGKILL');
  const restarted = await waitFor(
    async () => {
      const c = await card(page, 'svg');
      return c.state === 'running' && c.pid !== String(before.svg) ? c : undefined;
    },
    { timeout: 30_000, message: 'the page to show svg restarted' },
  );
  assert.equal(restarted.pid, String((await sup.component('svg'))?.pid));
  assert.equal(restarted.ready, 'yes');
  assert.match(restarted.restarts, /^1\n1 in 5 min · 1 in 1 h$/);
  assert.match(restarted.lastExit, /^SIGKILL, \d+s ago$/);
  assert.equal((await card(page, 'is')).pid, String(before.is), 'the others are untouched');
  assert.equal(await page.evaluate('window.sameDocument'), true, 'not reloaded');
  await page.screenshot({ path: join(artifacts, 'status-page-phone.png') });
  await page.screenshot({ path: join(artifacts, 'status-page-phone-full.png'), fullPage: true });

  // Stop without a token: asked for it, nothing done
  await page.locator('tr[data-id="ps"] button[data-action="stop"]').click();
  assert.equal(await page.locator('#message').innerText(), 'Enter the control token first.');
  assert.equal((await sup.component('ps'))?.state, 'running');

  // a wrong token is refused and forgotten at once (the page uses it to follow the output)
  await page.locator('#token').fill('not-the-token');
  await page.locator('#token-form button[type=submit]').click();
  await waitFor(async () => (await page.locator('#message').innerText()).includes('refused'), {
    message: 'the refusal shown',
  });
  assert.equal(await page.locator('#message').innerText(), 'The control token was refused: enter it again.');
  assert.equal(await page.locator('#token-form').isVisible(), true);
  assert.equal(await page.evaluate("sessionStorage.getItem('s7supervisor-control-token')"), null);
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
  assert.deepEqual(dialogs, ['Really stop ps?']);
  // the badge changes with the event, the rest of the row with the refresh that follows it
  await waitFor(async () => (await seen(page, 'ps', 'ready')) === 'no\nstopped by operator', {
    message: 'ps shown not ready, stopped by operator',
  });
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
  const changes = await page.locator('tr[data-detail="ps"] [data-field="changes"] li').allInnerTexts();
  assert.match(changes[0] ?? '', /^\d\d:\d\d:\d\d starting → running ready$/);
  assert.ok(
    changes.some((c) => / running → stopping stopped by operator$/.test(c)),
    changes.join('\n'),
  );
  assert.equal(await sup.stop(), 0);
});
