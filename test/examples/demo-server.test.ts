// The demo components of examples/image-serving, run directly (no supervisor): each one serves /ping,
// and each misbehaviour switch does what it says, since the supervisor's tests rely on them.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { demoHome } from '../helpers/paths.js';
import { isAlive, killGroup, processGroupMembers } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const demoServer = join(demoHome, 'bin/demo-server.mjs');

interface Demo {
  child: ChildProcess;
  pid: number;
  stdout: string;
  lines(): string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  port(): Promise<number>;
}

const started: Demo[] = [];
const strayPids = new Set<number>();

after(() => {
  for (const demo of started) killGroup(demo.pid);
  for (const pid of strayPids) killGroup(pid);
});

function startDemo(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; stdio?: Array<'pipe' | 'ignore'> } = {},
): Demo {
  const child = spawn(process.execPath, [demoServer, ...args], {
    cwd: demoHome,
    env: { ...process.env, ...options.env },
    // its own process group, so cleanup reaches its workers too
    detached: true,
    stdio: options.stdio ?? ['ignore', 'pipe', 'pipe'],
  });
  const demo: Demo = {
    child,
    pid: child.pid!,
    stdout: '',
    lines: () => demo.stdout.split('\n').filter((line) => line !== ''),
    exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
    port: () =>
      waitFor(
        () => {
          const match = /listening on [\d.]+:(\d+)/.exec(demo.stdout);
          return match ? Number(match[1]) : undefined;
        },
        { message: `${args[0]} to listen` },
      ),
  };
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    demo.stdout += chunk;
  });
  child.stderr!.resume();
  started.push(demo);
  return demo;
}

/** GET /ping: the status code, or 'no answer' when nothing comes back within timeoutMs */
function ping(port: number, timeoutMs = 1000): Promise<number | 'no answer' | 'refused'> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/ping', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => {
      req.destroy();
      resolve('no answer');
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      resolve(error.code === 'ECONNREFUSED' ? 'refused' : 'no answer');
    });
    req.end();
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

describe('demo oneshots (bin/demo-job.mjs)', () => {
  const runJob = (job: string, env: NodeJS.ProcessEnv = {}) =>
    new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, [join(demoHome, 'bin/demo-job.mjs'), job], {
        cwd: demoHome,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
      });
      child.once('close', (code) => resolve({ code, stdout }));
    });

  test('migrate and purge say what they do, take DEMO_<JOB>_SECONDS and exit 0', async () => {
    for (const [job, last] of [
      ['migrate', 'schema up to date'],
      ['purge', 'cache purged'],
    ] as const) {
      const { code, stdout } = await runJob(job, { [`DEMO_${job.toUpperCase()}_SECONDS`]: '0.1' });
      assert.equal(code, 0, job);
      const messages = stdout
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { msg: string }).msg);
      assert.equal(messages.at(-1), last);
    }
  });

  test('DEMO_MIGRATE_EXIT_CODE makes the migration fail (ps stays held back in the demo)', async () => {
    const { code } = await runJob('migrate', { DEMO_MIGRATE_SECONDS: '0', DEMO_MIGRATE_EXIT_CODE: '3' });
    assert.equal(code, 3);
  });

  test('an unknown job is a usage error, exit 2', async () => {
    assert.equal((await runJob('nothing')).code, 2);
  });
});

describe('demo components', () => {
  for (const role of ['is', 'svg', 'cache']) {
    test(`${role} answers /ping with 200 and prints its pid`, async () => {
      const demo = startDemo([role, '--port', '0']);
      const port = await demo.port();
      assert.equal(await waitFor(async () => ((await ping(port)) === 200 ? 200 : undefined)), 200);
      assert.match(demo.stdout, new RegExp(`pid=${demo.pid} `));
      process.kill(demo.pid, 'SIGTERM');
      assert.deepEqual(await demo.exited, { code: 0, signal: null });
      assert.match(demo.stdout, /received SIGTERM/);
    });
  }

  test('ps reports ready only once is answers /ping', async () => {
    const isPort = await freePort();
    const ps = startDemo(['ps', '--port', '0', '--is-url', `http://127.0.0.1:${isPort}/ping`]);
    const psPort = await ps.port();
    assert.equal(await ping(psPort), 503);
    assert.match(ps.stdout, /waiting for the Image Server/);
    const is = startDemo(['is', '--port', String(isPort)]);
    await is.port();
    await waitFor(async () => (await ping(psPort)) === 200, { message: 'ps to become ready' });
    assert.match(ps.stdout, /Image Server answers/);
  });

  test('--ready-delay keeps /ping at 503 for a while', async () => {
    const demo = startDemo(['svg', '--port', '0', '--ready-delay', '1']);
    const port = await demo.port();
    const first = await ping(port);
    await waitFor(async () => (await ping(port)) === 200, { message: 'svg to become ready' });
    // the first ping may come late on a loaded machine; only a 503 or a 200 are acceptable
    assert.ok(first === 503 || first === 200, `unexpected first answer ${first}`);
  });

  test('--crash-after exits with the chosen code', async () => {
    const demo = startDemo(['is', '--port', '0', '--crash-after', '0.3', '--exit-code', '7']);
    assert.deepEqual(await demo.exited, { code: 7, signal: null });
    assert.match(demo.stdout, /crashing on purpose with exit code 7/);
  });

  test('DEMO_<ROLE>_* environment variables configure one role', async () => {
    const env = { DEMO_IS_CRASH_AFTER: '0.2', DEMO_IS_EXIT_CODE: '5', DEMO_SVG_CRASH_AFTER: '0.1' };
    const demo = startDemo(['is', '--port', '0'], { env });
    assert.deepEqual(await demo.exited, { code: 5, signal: null });
  });

  test('--hang-after stops answering /ping but keeps running', async () => {
    const demo = startDemo(['is', '--port', '0', '--hang-after', '0.5']);
    const port = await demo.port();
    assert.equal(await ping(port), 200);
    await waitFor(async () => (await ping(port, 500)) === 'no answer', { message: 'is to hang' });
    assert.ok(isAlive(demo.pid), 'a hung component is still running');
    assert.match(demo.stdout, /hanging on purpose/);
  });

  test('SIGUSR1 makes it hang with --hang-on-usr1, and every signal is printed', async () => {
    const demo = startDemo(['svg', '--port', '0', '--hang-on-usr1']);
    const port = await demo.port();
    assert.equal(await ping(port), 200);
    process.kill(demo.pid, 'SIGUSR2');
    process.kill(demo.pid, 'SIGHUP');
    await waitFor(() => /received SIGUSR2/.test(demo.stdout) && /received SIGHUP/.test(demo.stdout));
    assert.equal(await ping(port), 200, 'SIGUSR2 and SIGHUP do not make it hang');
    process.kill(demo.pid, 'SIGUSR1');
    await waitFor(() => /received SIGUSR1/.test(demo.stdout));
    assert.equal(await ping(port, 500), 'no answer');
    assert.ok(isAlive(demo.pid));
  });

  test('--ignore-sigterm survives SIGTERM', async () => {
    const demo = startDemo(['is', '--port', '0', '--ignore-sigterm']);
    const port = await demo.port();
    process.kill(demo.pid, 'SIGTERM');
    await waitFor(() => /ignoring SIGTERM/.test(demo.stdout));
    assert.equal(await ping(port), 200);
    assert.ok(isAlive(demo.pid));
    process.kill(demo.pid, 'SIGKILL');
    assert.equal((await demo.exited).signal, 'SIGKILL');
  });

  test('--exit-delay-ms exits 0 that long after SIGTERM', async () => {
    const demo = startDemo(['svg', '--port', '0', '--exit-delay-ms', '400']);
    await demo.port();
    const signalled = Date.now();
    process.kill(demo.pid, 'SIGTERM');
    assert.deepEqual(await demo.exited, { code: 0, signal: null });
    assert.ok(Date.now() - signalled >= 350, `exited ${Date.now() - signalled} ms after SIGTERM`);
  });

  test('--orphans leaves workers in its process group that outlive it', async () => {
    const demo = startDemo(['is', '--port', '0', '--orphans', '2']);
    await demo.port();
    const line = await waitFor(() => demo.lines().find((l) => l.includes('orphan worker')));
    const workers = line.split(': ')[2]!.split(' ').map(Number);
    for (const pid of workers) strayPids.add(pid);
    assert.equal(workers.length, 2);
    process.kill(demo.pid, 'SIGTERM');
    await demo.exited;
    assert.ok(workers.every(isAlive), 'the workers outlive their parent');
    assert.deepEqual(processGroupMembers(demo.pid).sort(), [...workers].sort());
    killGroup(demo.pid);
    await waitFor(() => !workers.some(isAlive), { message: 'the workers to die with their group' });
  });

  test('--orphans-hold-port keeps the port taken after the parent is gone', async () => {
    const demo = startDemo(['svg', '--port', '0', '--orphans', '1', '--orphans-hold-port']);
    const port = await demo.port();
    // the worker is forked once listening: it must exist (and hold the socket) before the kill
    await waitFor(() => processGroupMembers(demo.pid).length >= 2, { message: 'the orphan worker started' });
    process.kill(demo.pid, 'SIGKILL');
    await demo.exited;
    assert.equal(await canBind(port), false, 'a stale worker still holds the port');
    killGroup(demo.pid);
    await waitFor(() => canBind(port), { message: 'the port to be free once the group is killed' });
  });

  test('--burst, --line-size and --big-line print numbered lines, then a line without newline', async () => {
    const demo = startDemo([
      'ps',
      '--port',
      '0',
      '--is-url',
      'http://127.0.0.1:1/ping',
      '--burst',
      '20000',
      '--line-size',
      '100',
      '--big-line',
      '300000',
      '--exit-after-output',
      '--exit-code',
      '3',
    ]);
    assert.deepEqual(await demo.exited, { code: 3, signal: null });
    const burst = demo.stdout.split('\n').filter((line) => line.startsWith('ps line '));
    assert.equal(burst.length, 20000);
    burst.forEach((line, i) => {
      assert.equal(line.length, 99);
      assert.equal(line.split(' ')[2], String(i + 1).padStart(5, '0'));
    });
    assert.ok(demo.stdout.endsWith('y'.repeat(300000)), 'the big line comes last, without a newline');
    assert.equal(demo.stdout.split('\n').at(-1)!.length, 300000);
  });

  test('--ready-fd writes a newline to that descriptor once ready', async () => {
    const demo = startDemo(['is', '--port', '0', '--ready-fd', '3'], {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    let readiness = '';
    const fd3 = demo.child.stdio[3] as NodeJS.ReadableStream;
    fd3.setEncoding('utf8');
    fd3.on('data', (chunk: string) => {
      readiness += chunk;
    });
    await waitFor(() => readiness === '\n', { message: 'a newline on fd 3' });
    assert.equal(await ping(await demo.port()), 200);
  });

  test('a taken port is a clear error and exit 1', async () => {
    const first = startDemo(['is', '--port', '0']);
    const port = await first.port();
    const second = startDemo(['is', '--port', String(port)]);
    let stderr = '';
    second.child.stderr!.setEncoding('utf8');
    second.child.stderr!.on('data', (chunk: string) => {
      stderr += chunk;
    });
    assert.deepEqual(await second.exited, { code: 1, signal: null });
    assert.match(stderr, /cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
  });
});
