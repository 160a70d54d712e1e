// The rules of S7SUPERVISOR_CONTROL_TOKEN (design.md §3 rev. 2): shorter than 16 characters is a
// start-up error (exit 2, one line, nothing started); surrounding whitespace, such as a secret
// file's trailing newline, is ignored on both sides.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { MIN_CONTROL_TOKEN_LENGTH, parseControlToken } from '../../src/cli/control-token.js';
import { makeTempDir } from '../helpers/paths.js';
import { killAllStarted, runCli } from '../helpers/processes.js';
import { writeRegistry } from '../helpers/registry.js';
import { freePort } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';
import { sleeper, supervise } from './harness.js';

afterEach(() => killAllStarted());

const good = 'tok-0123456789abcdef';

describe('parseControlToken', () => {
  test('unset or empty: no token (control stays off the TCP port)', () => {
    assert.deepEqual(parseControlToken(undefined), { ok: true });
    assert.deepEqual(parseControlToken(''), { ok: true });
  });

  test('surrounding whitespace is not part of the token', () => {
    assert.deepEqual(parseControlToken(`${good}\n`), { ok: true, token: good });
    assert.deepEqual(parseControlToken(`  ${good}\r\n`), { ok: true, token: good });
    assert.deepEqual(parseControlToken(`\t${good} `), { ok: true, token: good });
    // inside, a space is part of it
    assert.deepEqual(parseControlToken('sixteen chars ok'), { ok: true, token: 'sixteen chars ok' });
  });

  test(`shorter than ${MIN_CONTROL_TOKEN_LENGTH} characters, counted after trimming, is refused without showing it`, () => {
    assert.deepEqual(parseControlToken('a'.repeat(MIN_CONTROL_TOKEN_LENGTH)), {
      ok: true,
      token: 'a'.repeat(MIN_CONTROL_TOKEN_LENGTH),
    });
    const short = parseControlToken(`  ${'s3cr'.repeat(3)}xyz\n\n`);
    assert.ok(!short.ok);
    assert.equal(
      short.message,
      'S7SUPERVISOR_CONTROL_TOKEN is 15 characters long: at least 16 are needed (e.g. openssl rand -hex 32)',
    );
    assert.ok(!short.message.includes('s3cr'));
    const one = parseControlToken('x');
    assert.ok(!one.ok && one.message.includes('is 1 character long'));
  });

  test('blank, or with a character no Authorization header can carry: refused', () => {
    const blank = parseControlToken(' \n\t');
    assert.ok(!blank.ok && /is blank \(whitespace only\)/.test(blank.message));
    for (const bad of [`${good}\u0000x`, `${good}\nx`, `${good}é`, `${good}\u202e`]) {
      const result = parseControlToken(bad);
      assert.ok(
        !result.ok && /a character an Authorization header cannot carry at position 21/.test(result.message),
        bad,
      );
      assert.ok(!result.message.includes(good));
    }
  });
});

describe('run with a control token', () => {
  test('a short or blank token: exit 2, one line, nothing started', async () => {
    const marker = join(makeTempDir(), 'started');
    const home = writeRegistry([
      { id: 'a', command: 'sh', args: ['-c', `touch ${marker}; exec sleep 1000`] },
    ]);
    const port = await freePort();
    for (const [token, line] of [
      ['short-token', 'S7SUPERVISOR_CONTROL_TOKEN is 11 characters long: at least 16 are needed'],
      ['short-token-ok?\n', 'S7SUPERVISOR_CONTROL_TOKEN is 15 characters long: at least 16 are needed'],
      ['\n', 'S7SUPERVISOR_CONTROL_TOKEN is blank (whitespace only)'],
    ] as const) {
      const cli = runCli(['run', '--home', home, '--port', String(port)], {
        env: { S7SUPERVISOR_CONTROL_TOKEN: token },
      });
      // a deadline: a supervisor that started anyway would never exit on its own
      const code = await Promise.race([
        cli.exited,
        new Promise<string>((resolve) =>
          setTimeout(() => resolve('still running after 20 s'), 20_000).unref(),
        ),
      ]);
      assert.equal(code, 2);
      assert.equal(cli.stderr.length, 1, cli.stderr.join('\n'));
      assert.ok(cli.stderr[0]?.startsWith(`s7supervisor: ${line}`), cli.stderr[0]);
      assert.ok(!cli.stderr[0]?.includes(token.trim()) || token.trim() === '', 'the token is not shown');
      assert.deepEqual(cli.stdout, [], 'nothing logged: nothing was started');
      assert.equal(existsSync(marker), false, 'the component never ran');
      assert.equal(existsSync(join(home, 'temp/s7supervisor.sock')), false, 'no control socket');
    }
  });

  test('a token with a trailing newline (a secret file) works over real HTTP, for a control request', async () => {
    const sup = await supervise([sleeper('a', 1), sleeper('b', 2)], { tcp: true, token: `  ${good}\n` });
    await sup.waitRunning();
    const stop = await fetch(sup.url('/api/v1/components/a/stop'), {
      method: 'POST',
      headers: { authorization: `Bearer ${good}` },
    });
    assert.equal(stop.status, 200);
    await waitFor(async () => (await sup.component('a'))?.state === 'stopped', { message: 'a stopped' });
    // the newline is not part of the token: with it (as a raw request can send no newline, the
    // token with other trailing whitespace) it is the same token
    const start = await rawPost(sup.port!, '/api/v1/components/a/start', `Bearer ${good} \t`);
    assert.equal(start, 200);
    await waitFor(async () => (await sup.component('a'))?.state === 'running', {
      message: 'a running again',
    });
    // and a wrong one is still wrong
    assert.equal(await rawPost(sup.port!, '/api/v1/components/a/stop', `Bearer ${good}x`), 401);
    assert.equal(await rawPost(sup.port!, '/api/v1/components/a/stop', `Bearer ${good.slice(0, -1)}`), 401);
    assert.equal((await sup.component('a'))?.state, 'running');
    assert.equal(await sup.stop(), 0);
  });
});

/** POST with exactly this Authorization header value, as bytes on a socket; resolves the status */
function rawPost(port: number, path: string, authorization: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      answer += chunk;
      const status = /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1];
      if (status !== undefined) {
        socket.destroy();
        resolve(Number(status));
      }
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`no status line: ${JSON.stringify(answer)}`)));
    socket.write(
      `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${authorization}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
    );
  });
}
