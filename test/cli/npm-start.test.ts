// `npm start` on a terminal, stopped with Ctrl-C (issue 14 item 5): the supervisor stops the demo
// in order and exits 0, and so does `npm start`. Without `exec` in the start script, the `sh -c`
// npm runs it in (dash) gets the terminal's SIGINT too and exits 130 once its child is done.
// Driven through a real pseudo-terminal (test/fixtures/pty-run.py), as a developer's shell is.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { stripVTControlCharacters } from 'node:util';
import { repoRoot } from '../helpers/paths.js';
import { freePort } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';

const driver = join(repoRoot, 'test/fixtures/pty-run.py');
let sessionLeader: number | undefined;

/** the session of the program on the terminal: npm, its shell, the supervisor, the demo */
function sessionMembers(sid: number): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter((pid) => {
      try {
        const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
        return Number(f[3]) === sid;
      } catch {
        return false;
      }
    });
}

after(() => {
  if (sessionLeader === undefined) return;
  // the components lead groups of their own, but stay in the terminal's session
  for (const pid of sessionMembers(sessionLeader)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

/** the terminal's text without the colours of the pretty log */
const plain = (text: string) => stripVTControlCharacters(text);

test('npm start on a terminal: Ctrl-C stops the demo in order and npm start exits 0', async () => {
  const [isPort, svgPort, psPort] = [await freePort(), await freePort(), await freePort()];
  const child = spawn('python3', [driver, 'npm', 'start', '--silent'], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      ...process.env,
      TERM: 'dumb',
      S7SUPERVISOR_CONTROL_TOKEN: '',
      // no fixed port: nothing else on the machine may hold 9910 or the demo's ports
      S7SUPERVISOR_PORT: '0',
      // npm start puts its control socket at temp/s7supervisor.sock of the repository
      S7SUPERVISOR_SOCKET: '',
      IS_PORT: String(isPort),
      SVG_PORT: String(svgPort),
      PS_PORT: String(psPort),
    },
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<number>((resolve) => child.once('close', (code) => resolve(code ?? -1)));
  sessionLeader = await waitFor(() => Number(/pid (\d+)/.exec(err)?.[1]) || undefined, {
    message: 'the driver to start npm',
  });
  const shows = (pattern: RegExp, message: string, from = 0) =>
    waitFor(() => pattern.test(plain(out).slice(from)), {
      // npm start builds first (tsc, on a busy machine)
      timeout: 120_000,
      message: `${message}; the terminal shows:\n${plain(out)}\n(driver: ${err})`,
    });
  await shows(/all priority groups started/, 'the demo to start');
  // from the repository root, with nothing set, the CLI finds the demo's supervisor
  const status = spawnSync('npx', ['--no-install', 's7supervisor', 'status'], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, S7SUPERVISOR_SOCKET: '', S7SUPERVISOR_HOME: '', S7SUPERVISOR_REGISTRY: '' },
  });
  assert.equal(status.status, 0, `npx s7supervisor status: ${status.stderr}`);
  for (const id of ['is', 'svg', 'ps']) assert.match(status.stdout, new RegExp(`^${id}\\s+running`, 'm'));
  const mark = plain(out).length;
  child.stdin.write('\x03');
  assert.equal(await exited, 0, `npm start exits 0 after Ctrl-C; the terminal shows:\n${plain(out)}`);
  const stop = plain(out).slice(mark);
  assert.match(stop, /SIGINT received: stopping/);
  // in descending priority: ps (2) exits before is and svg (1) are asked to stop
  const psExited = stop.search(/\[ps\b[^\]]*\] component exited/);
  const isStopping = stop.search(/\[is\b[^\]]*\] stopping component/);
  const svgStopping = stop.search(/\[svg\b[^\]]*\] stopping component/);
  assert.ok(psExited >= 0 && isStopping > psExited && svgStopping > psExited, stop);
  assert.match(stop, /every component stopped/);
  assert.match(stop, /supervisor exiting/);
  assert.doesNotMatch(stop, /npm (ERR|error)/);
});
