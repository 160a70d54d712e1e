// The pretty terminal log (issue 14 item 5): real records of a real `run` (a component that
// starts, becomes ready, prints, crashes and is restarted; the HTTP endpoints record) put through
// the terminal's prettifier: one line each, the prefix's brackets only, the command line on the
// start's line, a "component ready" record, and the status page as a URL.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { statusPageUrl } from '../../src/cli/status-url.js';
import { prettifier, prettyMessage } from '../../src/log/pretty.js';
import { killAllStarted, runCli } from '../helpers/processes.js';
import { writeRegistry } from '../helpers/registry.js';
import { freePort } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';

after(killAllStarted);

const pretty = prettifier({ colorize: false });

/** the JSON line of the first record matching, as the supervisor wrote it */
function line(lines: string[], predicate: (r: Record<string, unknown>) => boolean): string {
  for (const text of lines) {
    if (!text.startsWith('{')) continue;
    if (predicate(JSON.parse(text) as Record<string, unknown>)) return text;
  }
  throw new Error(`no such record in:\n${lines.join('\n')}`);
}

/** one terminal line: a single trailing newline, the brackets of the prefix only */
function assertOneLine(shown: string, what: string): string {
  assert.ok(shown.endsWith('\n'), `${what}: ends its line`);
  const text = shown.slice(0, -1);
  assert.ok(!text.includes('\n'), `${what} is one line:\n${shown}`);
  assert.match(text, /^\[\d\d:\d\d:\d\d\.\d{3}\] [A-Z]+: /, `${what}: time and level`);
  const message = text.replace(/^\[[^\]]+\] [A-Z]+: /, '');
  const prefix = /^\[[^\]]+\] /.exec(message)?.[0] ?? '';
  assert.ok(!message.slice(prefix.length).includes(']'), `${what}: no stray bracket:\n${text}`);
  return message;
}

test('start, ready, output, crash, restart and the HTTP endpoints: one pretty line each', async () => {
  const port = await freePort();
  const home = writeRegistry([
    {
      id: 'app',
      command: 'sh',
      args: ['-c', 'echo "hello from app"; sleep 0.2; exit 3'],
      extra: '<restart policy="always" backoffInitial="0.05"/>',
    },
  ]);
  const cli = runCli([
    'run',
    '--home',
    home,
    '--port',
    String(port),
    '--host',
    '127.0.0.1',
    '--log-level',
    'info',
  ]);
  // a second start: the first run crashed and was restarted
  await waitFor(() => cli.records().filter((r) => r.msg === 'component started').length >= 2, {
    message: 'the restart after the crash',
  });
  cli.child.kill('SIGTERM');
  assert.equal(await cli.exited, 0);

  const started = assertOneLine(
    pretty(line(cli.stdout, (r) => r.msg === 'component started')),
    'component started',
  );
  assert.match(
    started,
    /^\[app\] component started pid=\d+: sh -c 'echo "hello from app"; sleep 0\.2; exit 3'$/,
  );

  const ready = assertOneLine(
    pretty(line(cli.stdout, (r) => r.msg === 'component ready')),
    'component ready',
  );
  assert.match(ready, /^\[app\] component ready pid=\d+$/);

  const output = assertOneLine(pretty(line(cli.stdout, (r) => r.stream === 'stdout')), 'output line');
  assert.equal(output, '[app stdout] hello from app');

  const crash = assertOneLine(
    pretty(line(cli.stdout, (r) => String(r.msg).startsWith('component exited') && r.code === 3)),
    'crash',
  );
  assert.match(crash, /^\[app\] component exited with code 3 pid=\d+ code=3$/);

  const restart = assertOneLine(
    pretty(line(cli.stdout, (r) => String(r.msg).startsWith('restarting in'))),
    'restart',
  );
  assert.match(restart, /^\[app\] restarting in 0\.\d\ds delayMs=\d+$/);

  // a supervisor record: no component, so no prefix (and no lone "]")
  const endpoints = assertOneLine(
    pretty(line(cli.stdout, (r) => String(r.msg).startsWith('HTTP endpoints'))),
    'HTTP endpoints',
  );
  assert.ok(endpoints.includes(`http://127.0.0.1:${port}/`), endpoints);
  assert.ok(!endpoints.startsWith(']') && !endpoints.startsWith('['), endpoints);
});

test('the status page URL: the wildcard addresses shown as localhost', () => {
  assert.equal(statusPageUrl('0.0.0.0', 9910), 'http://localhost:9910/');
  assert.equal(statusPageUrl('::', 9910), 'http://localhost:9910/');
  assert.equal(statusPageUrl('10.1.2.3', 8080), 'http://10.1.2.3:8080/');
  assert.equal(statusPageUrl('::1', 8080), 'http://[::1]:8080/');
});

test('fields stay on the line, newlines in them escaped', () => {
  assert.equal(
    prettyMessage({
      msg: 'shutting down',
      reason: 'signal SIGTERM',
      shutdownTimeout: 35,
      components: ['a', 'b'],
    }),
    'shutting down reason="signal SIGTERM" shutdownTimeout=35 components=["a","b"]',
  );
  assert.equal(prettyMessage({ msg: 'two\nlines', error: 'a\nb' }), 'two lines error="a\\nb"');
});
