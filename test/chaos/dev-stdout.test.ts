// /dev/stdout for components: their stdout and stderr are real pipes, so a component can open
// /dev/stdout, /dev/stderr or /proc/self/fd/1 (on the socket pairs Node makes for 'pipe' that
// fails with ENXIO), in json and in raw output mode, also when it runs as another <user>. And the
// real thing: nginx with `access_log /dev/stdout; error_log /dev/stderr;` under s7supervisor,
// ready through a tcp check, serving over loopback, its access log line a record of component nginx.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { makeTempDir } from '../helpers/paths.js';
import { killAllStarted, type RunningCli, runCli } from '../helpers/processes.js';
import { writeRegistry } from '../helpers/registry.js';
import { freePort } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';
import { getText } from './chaos.js';

after(() => killAllStarted());

const nginxPath = '/usr/sbin/nginx';
const noNginx = existsSync(nginxPath)
  ? false
  : `no nginx at ${nginxPath}: apt-get install nginx (scripts/install-system-deps.sh) to run this test`;

/** writes one line through each path a program may use to reach its stdout or stderr */
const writer = (tag: string) =>
  [
    `echo ${tag}-dev-stdout > /dev/stdout`,
    `echo ${tag}-dev-stderr > /dev/stderr`,
    `echo ${tag}-proc-fd1 > /proc/self/fd/1`,
    `echo ${tag}-proc-fd2 > /proc/self/fd/2`,
    'exec sleep 100000',
  ].join('; ');

async function stopped(cli: RunningCli): Promise<number> {
  process.kill(cli.pid, 'SIGTERM');
  return waitFor(() => cli.exitCode(), { timeout: 20_000, message: 'the supervisor to exit' });
}

interface Case {
  id: string;
  output: 'json' | 'raw';
  user?: string;
}

/** runs one component per case that writes through every path; returns once every line arrived */
async function everyPathWritable(cases: Case[]): Promise<RunningCli> {
  const home = writeRegistry(
    cases.map((c) => ({
      id: c.id,
      command: 'sh',
      args: ['-c', writer(c.id)],
      extra: `<output>${c.output}</output>${c.user ? `<user>${c.user}</user>` : ''}`,
    })),
  );
  const cli = runCli(['run', '--home', home, '--port', '0', '--log-level', 'info']);
  const expected: Array<{ id: string; stream: 'stdout' | 'stderr'; text: string; raw: boolean }> = [];
  for (const c of cases)
    for (const [path, stream] of [
      ['dev-stdout', 'stdout'],
      ['dev-stderr', 'stderr'],
      ['proc-fd1', 'stdout'],
      ['proc-fd2', 'stderr'],
    ] as const)
      expected.push({ id: c.id, stream, text: `${c.id}-${path}`, raw: c.output === 'raw' });
  const arrived = (e: (typeof expected)[number]) =>
    e.raw
      ? (e.stream === 'stdout' ? cli.stdout : cli.stderr).includes(e.text)
      : cli.records().some((r) => r.component === e.id && r.stream === e.stream && r.msg === e.text);
  try {
    await waitFor(() => expected.every(arrived), { timeout: 10_000, message: 'every line' });
  } catch {
    // say which ones are missing, and what the components said instead
    const missing = expected.filter((e) => !arrived(e)).map((e) => `${e.id} ${e.stream} ${e.text}`);
    const complaints = [
      ...cli
        .records()
        .filter((r) => r.stream === 'stderr')
        .map((r) => `${r.component}: ${r.msg}`),
      ...cli.stderr,
    ];
    assert.deepEqual(missing, [], `lines that never arrived; the components said:\n${complaints.join('\n')}`);
  }
  // nothing failed on the way (sh says "cannot create /dev/stdout: ..." when the open fails)
  const failures = [...cli.stdout, ...cli.stderr].filter((line) => line.includes('cannot create'));
  assert.deepEqual(failures, []);
  return cli;
}

test('/dev/stdout, /dev/stderr, /proc/self/fd/1 and 2 are writable by a component, in json and in raw mode', async () => {
  const cli = await everyPathWritable([
    { id: 'json-root', output: 'json' },
    { id: 'raw-root', output: 'raw' },
  ]);
  // a component's record carries the component's pid, and only that one (no second "pid" key
  // holding the supervisor's: a JSON reader would keep one or the other)
  const startedPid = Number(
    cli.records().find((r) => r.msg === 'component started' && r.component === 'json-root')!.pid,
  );
  const line = cli.stdout.find((l) => l.includes('"msg":"json-root-dev-stdout"'))!;
  assert.equal(line.match(/"pid":/g)?.length, 1, `one pid in ${line}`);
  assert.equal(JSON.parse(line).pid, startedPid);
  assert.equal(await stopped(cli), 0);
});

test('the same for a component running as <user> nobody (the pipes belong to it, as runc does for a container user)', async () => {
  const cli = await everyPathWritable([
    { id: 'json-nobody', output: 'json', user: 'nobody' },
    { id: 'raw-nobody', output: 'raw', user: 'nobody' },
  ]);
  assert.equal(await stopped(cli), 0);
});

test('nginx with access_log /dev/stdout: ready by a tcp check, serves over loopback, its access log line is a record of component nginx', {
  skip: noNginx,
}, async () => {
  const dir = makeTempDir('s7sup-nginx-');
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, sub));
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `pid ${dir}/nginx.pid;
error_log /dev/stderr info;
worker_processes 1;
events { worker_connections 64; }
http {
  access_log /dev/stdout;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    location / { return 200 "hello from nginx\\n"; }
  }
}
`,
  );
  const home = writeRegistry([
    {
      id: 'nginx',
      command: nginxPath,
      // -e: the error log before the configuration is read (not the compiled-in /var/log path)
      args: ['-e', 'stderr', '-p', dir, '-c', conf, '-g', 'daemon off;'],
      stopTimeout: 5,
      extra: `<readiness type="tcp" port="${port}" interval="0.1" timeout="1"/>`,
    },
  ]);
  const cli = runCli(['run', '--home', home, '--port', '0', '--log-level', 'debug']);
  const ready = await cli
    .waitForRecord((r) => r.msg === 'state change' && r.component === 'nginx' && r.to === 'running', 15_000)
    .catch((error: Error) => {
      throw new Error(`${error.message}\n${cli.stdout.join('\n')}\n${cli.stderr.join('\n')}`);
    });
  assert.ok(ready);
  const path = `/chaos-${process.pid}-${Date.now()}`;
  const answer = await getText(`http://127.0.0.1:${port}${path}`);
  assert.equal(answer.status, 200);
  assert.equal(answer.body, 'hello from nginx\n');
  const access = await cli.waitForRecord(
    (r) =>
      r.component === 'nginx' && typeof r.msg === 'string' && r.msg.includes(`"GET ${path} HTTP/1.1" 200`),
    10_000,
  );
  assert.equal(access.stream, 'stdout');
  assert.match(String(access.msg), /^127\.0\.0\.1 - - \[/, 'the combined log format');
  // nginx's own error log (its notices at start, as info) went through /dev/stderr
  assert.ok(
    cli
      .records()
      .some((r) => r.component === 'nginx' && r.stream === 'stderr' && /\[notice\]/.test(String(r.msg))),
    'an error_log line on stderr',
  );
  assert.ok(!cli.stdout.some((l) => l.includes('emerg')), 'no [emerg] from nginx');
  assert.equal(await stopped(cli), 0);
});
