#!/usr/bin/env node
// A stand-in for one image-serving component: the Image Server (`is`), the SVG renderer (`svg`),
// the Platform Server (`ps`, which needs `is`) or the shared cache (`cache`, which is and svg
// depend on in the demo registry). A real HTTP server on a loopback port with a /ping,
// plus switches that make it misbehave on purpose, so the supervisor can be exercised against
// crashes, hangs, stubborn shutdowns, stray workers and floods of output.
// Node's standard library only, plain JavaScript: it runs as it is, without a build.
//
//   node bin/demo-server.mjs ROLE [options]
//
// Every option can also be set in the environment: DEMO_<ROLE>_<NAME> for one role, else DEMO_<NAME>
// for all (DEMO_IS_CRASH_AFTER=2, DEMO_BURST=1000, DEMO_IGNORE_SIGTERM=1). Flags beat the environment. Times are in seconds unless the name says ms.
import { spawn } from 'node:child_process';
import { closeSync, readFileSync, writeSync } from 'node:fs';
import { createServer, get } from 'node:http';

const ROLES = {
  is: { name: 'Image Server', port: 27345 },
  svg: { name: 'SVG renderer', port: 27346 },
  ps: { name: 'Platform Server', port: 27347 },
  cache: { name: 'Cache', port: 27348 },
};

const OPTIONS = {
  port: 'TCP port to listen on (default: is 27345, svg 27346, ps 27347, cache 27348)',
  host: 'address to listen on (default 127.0.0.1)',
  'is-url': 'ps only: the Image Server ping it waits for (default http://127.0.0.1:27345/ping)',
  'ready-delay': '/ping answers 503 for this long after start (slow start)',
  'crash-after': 'exit with --exit-code this long after start',
  'exit-code': 'exit code of --crash-after (default 1)',
  'hang-after': 'stop answering /ping (and every request) this long after start, but keep running',
  'hang-on-usr1': 'flag: SIGUSR1 makes it hang as --hang-after does',
  'ignore-sigterm': 'flag: SIGTERM and SIGINT are printed and otherwise ignored',
  'exit-delay-ms': 'on SIGTERM/SIGINT, exit 0 only this many ms later',
  orphans: 'spawn this many workers that outlive this process (same process group)',
  'orphans-hold-port': 'flag: the orphan workers inherit the listening socket, so the port stays taken',
  burst: 'print this many numbered lines once listening',
  'line-size': 'bytes per burst line, newline included (default: as short as the text)',
  'big-line': 'then print one line of this many bytes WITHOUT a trailing newline',
  'exit-after-output': 'flag: exit with --exit-code once the burst/big line is written',
  'ready-fd': 'write a newline to this descriptor once ready (s6 style), then close it',
};
const FLAGS = new Set(['hang-on-usr1', 'ignore-sigterm', 'orphans-hold-port', 'exit-after-output']);

function usage(message) {
  const lines = Object.entries(OPTIONS).map(([name, text]) => `  --${name.padEnd(20)} ${text}`);
  const text = `usage: demo-server.mjs is|svg|ps|cache [options]\n${lines.join('\n')}\n`;
  if (message) {
    process.stderr.write(`demo-server: ${message}\n${text}`);
    process.exit(2);
  }
  process.stdout.write(text);
  process.exit(0);
}

function parseArgs(argv) {
  const args = [...argv];
  if (args.includes('--help') || args.includes('-h')) usage();
  const role = args.shift();
  if (!role || !(role in ROLES))
    usage(`the first argument must be is, svg, ps or cache (got ${role ?? 'nothing'})`);
  const values = {};
  for (const name of Object.keys(OPTIONS)) {
    // DEMO_IS_CRASH_AFTER (one role) beats DEMO_CRASH_AFTER (every role)
    const key = name.toUpperCase().replaceAll('-', '_');
    const env = process.env[`DEMO_${role.toUpperCase()}_${key}`] || process.env[`DEMO_${key}`];
    if (env !== undefined && env !== '')
      values[name] = FLAGS.has(name) ? env !== '0' && env !== 'false' : env;
  }
  while (args.length > 0) {
    const arg = args.shift();
    const match = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(arg);
    if (!match || !(match[1] in OPTIONS)) usage(`unknown option ${arg}`);
    const name = match[1];
    if (FLAGS.has(name)) values[name] = true;
    else {
      const value = match[2] ?? args.shift();
      if (value === undefined) usage(`--${name} needs a value`);
      values[name] = value;
    }
  }
  const number = (name, fallback) => {
    if (values[name] === undefined) return fallback;
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n < 0) usage(`--${name} must be a non-negative number (got ${values[name]})`);
    return n;
  };
  return {
    role,
    port: number('port', ROLES[role].port),
    host: values.host ?? '127.0.0.1',
    isUrl: values['is-url'] ?? `http://127.0.0.1:${ROLES.is.port}/ping`,
    readyDelay: number('ready-delay', 0),
    crashAfter: number('crash-after', undefined),
    exitCode: number('exit-code', 1),
    hangAfter: number('hang-after', undefined),
    hangOnUsr1: values['hang-on-usr1'] === true,
    ignoreSigterm: values['ignore-sigterm'] === true,
    exitDelayMs: number('exit-delay-ms', 0),
    orphans: number('orphans', 0),
    orphansHoldPort: values['orphans-hold-port'] === true,
    burst: number('burst', 0),
    lineSize: number('line-size', 0),
    bigLine: number('big-line', 0),
    exitAfterOutput: values['exit-after-output'] === true,
    readyFd: number('ready-fd', undefined),
  };
}

const options = parseArgs(process.argv.slice(2));
const { role } = options;
const startedAt = Date.now();
let hung = false;
let dependencyUp = role !== 'ps';
let readyAnnounced = false;

function say(text) {
  process.stdout.write(`${role}: ${text}\n`);
}

/** exits only once stdout has handed everything to the OS: a pipe write still queued would be lost */
function exitFlushed(code) {
  // writes complete in order, so this callback runs once everything before it is out
  process.stdout.write('', () => process.exit(code));
}

function isReady() {
  return dependencyUp && Date.now() - startedAt >= options.readyDelay * 1000;
}

const server = createServer((req, res) => {
  // a hung server accepts connections and never answers: what a deadlocked process looks like
  if (hung) return;
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/ping') {
    const ready = isReady();
    res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' });
    res.end(ready ? `pong ${role}\n` : `${role} not ready${dependencyUp ? '' : ': waiting for is'}\n`);
    return;
  }
  if (path === '/') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      `${JSON.stringify({ role, name: ROLES[role].name, pid: process.pid, uptime: (Date.now() - startedAt) / 1000, ready: isReady() })}\n`,
    );
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not found\n');
});

server.on('error', (error) => {
  process.stderr.write(`${role}: cannot listen on ${options.host}:${options.port}: ${error.message}\n`);
  process.exit(1);
});

server.listen(options.port, options.host, () => {
  const address = server.address();
  say(
    `${ROLES[role].name} pid=${process.pid} pgid=${processGroup()} listening on ${address.address}:${address.port}`,
  );
  startOrphans();
  if (role === 'ps') waitForImageServer();
  scheduleMisbehaviour();
  announceReadyWhenReady();
  void printOutput();
});

/** the process group, from /proc/self/stat (Linux); only for the start-up line */
function processGroup() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return 'unknown';
  }
}

function waitForImageServer() {
  const poll = () => {
    const request = get(options.isUrl, { timeout: 1000 }, (res) => {
      res.resume();
      if (res.statusCode === 200) {
        dependencyUp = true;
        say(`Image Server answers at ${options.isUrl}`);
      } else setTimeout(poll, 200);
    });
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', () => setTimeout(poll, 200));
  };
  say(`waiting for the Image Server at ${options.isUrl}`);
  poll();
}

function announceReadyWhenReady() {
  const check = () => {
    if (readyAnnounced) return;
    if (!isReady()) {
      setTimeout(check, 50);
      return;
    }
    readyAnnounced = true;
    say('ready');
    if (options.readyFd !== undefined) {
      try {
        writeSync(options.readyFd, '\n');
        closeSync(options.readyFd);
      } catch (error) {
        process.stderr.write(`${role}: cannot write readiness to fd ${options.readyFd}: ${error.message}\n`);
      }
    }
  };
  check();
}

function scheduleMisbehaviour() {
  if (options.crashAfter !== undefined) {
    setTimeout(() => {
      say(`crashing on purpose with exit code ${options.exitCode}`);
      exitFlushed(options.exitCode);
    }, options.crashAfter * 1000);
  }
  if (options.hangAfter !== undefined) setTimeout(() => hang('--hang-after'), options.hangAfter * 1000);
}

function hang(why) {
  if (hung) return;
  hung = true;
  say(`hanging on purpose (${why}): requests are no longer answered`);
}

function startOrphans() {
  if (options.orphans <= 0) return;
  // a listening socket's descriptor handed on as fd 3 keeps the port bound after we are gone
  const fd = options.orphansHoldPort ? server._handle?.fd : undefined;
  const stdio = fd === undefined ? 'ignore' : ['ignore', 'ignore', 'ignore', fd];
  const pids = [];
  for (let i = 0; i < options.orphans; i++) {
    // not detached: the worker stays in our process group, as a forked helper of a real server would
    const worker = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)', `${role}-worker-${i}`], {
      stdio,
    });
    worker.unref();
    pids.push(worker.pid);
  }
  say(
    `started ${pids.length} orphan worker(s): ${pids.join(' ')}${fd === undefined ? '' : ` holding fd ${fd}`}`,
  );
}

async function printOutput() {
  const write = (text) =>
    process.stdout.write(text) ? undefined : new Promise((resolve) => process.stdout.once('drain', resolve));
  if (options.burst > 0) {
    const width = String(options.burst).length;
    let batch = '';
    for (let i = 1; i <= options.burst; i++) {
      let line = `${role} line ${String(i).padStart(width, '0')}`;
      if (options.lineSize > line.length + 1) line += ' '.padEnd(options.lineSize - line.length - 1, 'x');
      batch += `${line}\n`;
      if (batch.length >= 65536) {
        await write(batch);
        batch = '';
      }
    }
    if (batch) await write(batch);
  }
  if (options.bigLine > 0) {
    const piece = 'y'.repeat(65536);
    let left = options.bigLine;
    while (left > 0) {
      const size = Math.min(left, piece.length);
      await write(size === piece.length ? piece : piece.slice(0, size));
      left -= size;
    }
  }
  if (options.exitAfterOutput) exitFlushed(options.exitCode);
}

let stopping = false;
function onStopSignal(signal) {
  say(`received ${signal}`);
  if (options.ignoreSigterm) {
    say(`ignoring ${signal}`);
    return;
  }
  if (stopping) return;
  stopping = true;
  setTimeout(() => {
    say('stopped');
    server.close();
    exitFlushed(0);
  }, options.exitDelayMs);
}

process.on('SIGTERM', () => onStopSignal('SIGTERM'));
process.on('SIGINT', () => onStopSignal('SIGINT'));
process.on('SIGHUP', () => say('received SIGHUP'));
process.on('SIGUSR2', () => say('received SIGUSR2'));
process.on('SIGUSR1', () => {
  say('received SIGUSR1');
  if (options.hangOnUsr1) hang('SIGUSR1');
});
