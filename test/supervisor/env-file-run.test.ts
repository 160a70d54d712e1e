// A real supervisor with an env file: the component gets the values; the supervisor's log, `check`,
// the JSON API and the status page never show them (design.md §7).
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { killAllStarted, runCli } from '../helpers/processes.js';
import { writeRegistry } from '../helpers/registry.js';
import { freePort } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';

after(killAllStarted);

const secrets = {
  FILE_PLAIN: 'envfile-plain-7f3a9c',
  FILE_QUOTED: 'envfile quoted # 2b8d41',
  FILE_EXPORTED: 'envfile-exported-91c0e5',
  OVERRIDDEN: 'envfile-overridden-5d7e22',
};
const fromVariable = 'variable-wins-0a4f6b';

test('env file values reach the component and nothing else', async () => {
  const port = await freePort();
  const home = writeRegistry(
    [
      {
        id: 'printer',
        command: '/bin/sh',
        // the environment goes to a file, not to stdout: stdout would be logged by design
        args: ['-c', 'env > "$PWD/printed.env"; exec sleep 600'],
        extra: `<environment file="conf/printer.env"><variable name="OVERRIDDEN">${fromVariable}</variable></environment>
      <environment file="conf/absent.env" optional="true"/>
      <workingDirectory>.</workingDirectory>`,
      },
    ],
    `<tcpport>${port}</tcpport><host>127.0.0.1</host>`,
  );
  writeFileSync(
    join(home, 'conf/printer.env'),
    [
      '# secrets for the printer',
      `FILE_PLAIN=${secrets.FILE_PLAIN}`,
      `FILE_QUOTED="${secrets.FILE_QUOTED}"`,
      `export FILE_EXPORTED=${secrets.FILE_EXPORTED}`,
      `OVERRIDDEN=${secrets.OVERRIDDEN}`,
      '',
    ].join('\n'),
  );

  const check = runCli(['check', '--home', home]);
  assert.equal(await check.exited, 0, check.stderr.join('\n'));
  const checkOutput = [...check.stdout, ...check.stderr].join('\n');
  assert.match(
    checkOutput,
    /env file +.*conf\/printer\.env \(FILE_PLAIN, FILE_QUOTED, FILE_EXPORTED, OVERRIDDEN\)/,
  );

  const cli = runCli(['run', '--home', home, '--log-level', 'debug']);
  const printed = join(home, 'printed.env');
  const env = await waitFor(
    () => {
      try {
        const text = readFileSync(printed, 'utf8');
        return text.includes('OVERRIDDEN=') ? text : undefined;
      } catch {
        return undefined;
      }
    },
    { timeout: 15_000, message: 'the component to print its environment' },
  );
  assert.match(env, new RegExp(`^FILE_PLAIN=${secrets.FILE_PLAIN}$`, 'm'));
  assert.match(env, new RegExp(`^FILE_QUOTED=${secrets.FILE_QUOTED}$`, 'm'));
  assert.match(env, new RegExp(`^FILE_EXPORTED=${secrets.FILE_EXPORTED}$`, 'm'));
  assert.match(env, new RegExp(`^OVERRIDDEN=${fromVariable}$`, 'm'));

  const get = async (path: string) => (await fetch(`http://127.0.0.1:${port}${path}`)).text();
  const api = await waitFor(
    async () => {
      const body = await get('/api/v1/components');
      return body.includes('"running"') ? body : undefined;
    },
    { timeout: 15_000, message: 'the API to show the component running' },
  );
  const page = await get('/');
  const single = await get('/api/v1/components/printer');
  const readyz = await get('/readyz?verbose');

  process.kill(cli.pid, 'SIGTERM');
  assert.equal(await cli.exited, 0);
  const log = [...cli.stdout, ...cli.stderr].join('\n');
  assert.match(log, /printer/, 'the log is about the component at all');
  for (const value of [...Object.values(secrets), fromVariable]) {
    for (const [where, text] of Object.entries({ log, check: checkOutput, api, single, page, readyz }))
      assert.ok(!text.includes(value), `${value} in ${where}`);
  }
});
