// The image and the Compose stack, for real: podman builds the Dockerfile (and Prometheus's),
// docker-compose starts docker-compose.yml through podman's Docker API, and the test checks what a
// user would: healthy, ready, scraped, a killed component restarted, orphans reaped, an ordered stop
// with exit code 0 inside the grace period.
//
// Needs root and Debian's apt (or podman already there): scripts/container-test-setup.sh installs
// podman, runc and docker-compose, builds the local node base image when it is missing, and starts
// podman's API service on a socket of this run's own (stopped again in after()).
// S7SUPERVISOR_SKIP_CONTAINER_TEST=1 skips it, for a quick `npm test` as root.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { composeDuration, type Json, readYaml } from '../deploy/files.js';
import { sampleValue } from '../helpers/exposition.js';
import { repoRoot } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait.js';
import {
  containerSkipReason,
  jsonLines,
  listProcessesScript,
  type Outcome,
  type ProcessEntry,
  run,
  runOk,
  testCompose,
  underBuildLock,
} from './compose.js';

const COMPONENTS = ['cache', 'is', 'svg', 'ps'];
/** the demo's oneshots: they run to completion (design.md §3 rev. 2) */
const ONESHOTS = ['migrate', 'purge'];
/** svg spawns this many workers in its process group: orphans of PID 1 once svg is killed */
const ORPHANS = 3;
const ORPHAN_ROUNDS = 3;
// unique per run, so a stack left by a run that was killed cannot be mistaken for this one
const PROJECT = `s7supe2e${process.pid}`;
const MINUTE = 60_000;

interface Stack {
  /** holds the test's podman API socket, the service's pid file and log */
  socketDir: string;
  setupEnv: NodeJS.ProcessEnv;
  dir: string;
  file: string;
  env: NodeJS.ProcessEnv;
  startedService: boolean;
  supervisor: string;
  prometheus: string;
  /** host:port of the supervisor's 9910 and Prometheus's 9090 */
  supervisorAddress: string;
  prometheusAddress: string;
}

let stack: Partial<Stack> = {};
const timings: Record<string, number> = {};

async function timed<T>(name: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await work();
  } finally {
    timings[name] = (Date.now() - started) / 1000;
  }
}

function compose(args: string[], timeout: number, options: { buildLock?: boolean } = {}): Promise<Outcome> {
  assert.ok(stack.file && stack.env, 'the stack was not set up');
  const line = ['--project-directory', repoRoot, '-p', PROJECT, '-f', stack.file, ...args];
  const [command, commandArgs] = options.buildLock
    ? underBuildLock('docker-compose', line)
    : ['docker-compose', line];
  return runOk(command, commandArgs, { timeout, env: stack.env });
}

function podman(args: string[], timeout = MINUTE): Promise<Outcome> {
  return runOk('podman', args, { timeout });
}

async function composePort(service: string, port: number): Promise<string> {
  const address = (await compose(['port', service, String(port)], MINUTE)).stdout.trim();
  assert.match(address, /^127\.0\.0\.1:\d+$/, `docker-compose port ${service} ${port}`);
  return address;
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return { status: response.status, body: await response.text() };
}

const supervisorUrl = (path: string) => `http://${stack.supervisorAddress}${path}`;
const metrics = async () => (await get(supervisorUrl('/metrics'))).body;

async function componentPid(id: string): Promise<number> {
  const { body } = await get(supervisorUrl(`/api/v1/components/${id}`));
  const pid = (JSON.parse(body) as { pid?: number }).pid;
  assert.ok(typeof pid === 'number', `${id} has a pid: ${body}`);
  return pid;
}

async function processes(): Promise<ProcessEntry[]> {
  assert.ok(stack.supervisor);
  const { stdout } = await podman(['exec', stack.supervisor, 'node', '-e', listProcessesScript]);
  return JSON.parse(stdout) as ProcessEntry[];
}

async function supervisorLog(): Promise<string> {
  if (!stack.supervisor) return '';
  const outcome = await run('podman', ['logs', stack.supervisor], { timeout: MINUTE });
  return `${outcome.stdout}${outcome.stderr}`;
}

/** runs a wait; when it fails, the error carries the end of the supervisor's log */
async function withLog<T>(wait: Promise<T>): Promise<T> {
  try {
    return await wait;
  } catch (error) {
    const log = (await supervisorLog()).slice(-4000);
    if (error instanceof Error) error.message += `\n--- supervisor log (end) ---\n${log}`;
    throw error;
  }
}

const skip = containerSkipReason('container e2e test');

describe('container: the image and docker-compose.yml under podman', { skip }, () => {
  before(
    async () => {
      // A podman API service of this run's own: another run of the suite on the same machine (several
      // people, one machine) neither stops it under us nor has it stopped by our after().
      stack.socketDir = mkdtempSync('/run/s7sup-e2e-');
      stack.setupEnv = { PODMAN_SOCKET: join(stack.socketDir, 'podman.sock') };
      const setup = await timed('setup', () =>
        runOk('bash', ['scripts/container-test-setup.sh'], {
          timeout: 20 * MINUTE,
          cwd: repoRoot,
          env: stack.setupEnv,
        }),
      );
      const host = /^DOCKER_HOST=(\S+)$/m.exec(setup.stdout)?.[1];
      assert.ok(host, `container-test-setup.sh printed no DOCKER_HOST:\n${setup.stdout}`);
      stack.startedService = /started podman system service/.test(setup.stdout);
      // compose 1.29 builds through the API itself (no docker CLI, no BuildKit): the same as podman build
      stack.env = { DOCKER_HOST: host, COMPOSE_DOCKER_CLI_BUILD: '0', DOCKER_BUILDKIT: '0' };

      stack.dir = mkdtempSync(join(tmpdir(), 's7sup-container-'));
      stack.file = join(stack.dir, 'docker-compose.test.yml');
      const shipped = readYaml('docker-compose.yml');
      writeFileSync(
        stack.file,
        stringify(testCompose(shipped, { supervisor: { DEMO_SVG_ORPHANS: String(ORPHANS) } })),
      );

      // podman keeps the layers: only what changed since the last run is built again (and the
      // packaging test, which builds the same Dockerfile, waits for this build or this one for it)
      await timed('build', () => compose(['build'], 20 * MINUTE, { buildLock: true }));
      await timed('up', () => compose(['up', '-d'], 5 * MINUTE));
      stack.supervisor = (await compose(['ps', '-q', 'supervisor'], MINUTE)).stdout.trim();
      stack.prometheus = (await compose(['ps', '-q', 'prometheus'], MINUTE)).stdout.trim();
      assert.ok(stack.supervisor && stack.prometheus, 'docker-compose ps lists both containers');
      stack.supervisorAddress = await composePort('supervisor', 9910);
      stack.prometheusAddress = await composePort('prometheus', 9090);
    },
    { timeout: 50 * MINUTE },
  );

  after(
    async () => {
      if (stack.file && stack.env) {
        const down = await run(
          'docker-compose',
          [
            '--project-directory',
            repoRoot,
            '-p',
            PROJECT,
            '-f',
            stack.file,
            'down',
            '-v',
            '--remove-orphans',
          ],
          { timeout: 3 * MINUTE, env: stack.env },
        );
        if (down.code !== 0) console.error(`docker-compose down failed:\n${down.stdout}${down.stderr}`);
      }
      if (stack.startedService)
        await run('bash', ['scripts/container-test-setup.sh', '--stop'], {
          timeout: MINUTE,
          cwd: repoRoot,
          env: stack.setupEnv,
        });
      for (const dir of [stack.dir, stack.socketDir]) if (dir) rmSync(dir, { recursive: true, force: true });
      stack = {};
    },
    { timeout: 5 * MINUTE },
  );

  test('the supervisor container becomes healthy, with s7supervisor as PID 1', async (t) => {
    const { supervisor } = stack;
    assert.ok(supervisor);
    // Without systemd podman runs no HEALTHCHECK on a schedule: run the image's check as its timer would.
    await withLog(
      timed('healthy', () =>
        waitFor(
          async () => {
            await run('podman', ['healthcheck', 'run', supervisor], { timeout: MINUTE });
            const status = await podman(['inspect', '--format', '{{.State.Health.Status}}', supervisor]);
            return status.stdout.trim() === 'healthy';
          },
          { timeout: 3 * MINUTE, interval: 1000, message: 'the supervisor container to be healthy' },
        ),
      ),
    );
    const init = await podman(['exec', supervisor, 'cat', '/proc/1/cmdline']);
    assert.match(
      init.stdout.replaceAll('\0', ' '),
      /s7supervisor run/,
      'PID 1 is s7supervisor, no init in front',
    );
    assert.equal(sampleValue(await metrics(), 's7supervisor_info', { pid1: 'true' }), 1);
    t.diagnostic(
      `setup ${timings.setup}s, build ${timings.build}s, up ${timings.up}s, healthy after ${timings.healthy}s`,
    );
  });

  test('/readyz answers 200 and /metrics lists every component, up and ready', async () => {
    await withLog(
      waitFor(async () => (await get(supervisorUrl('/readyz'))).status === 200, {
        timeout: 2 * MINUTE,
        interval: 500,
        message: '/readyz to answer 200',
      }),
    );
    const text = await metrics();
    for (const component of COMPONENTS) {
      assert.equal(sampleValue(text, 's7supervisor_component_up', { component }), 1, `${component} up`);
      assert.equal(sampleValue(text, 's7supervisor_component_ready', { component }), 1, `${component} ready`);
      assert.equal(
        sampleValue(text, 's7supervisor_component_state', { component, state: 'running' }),
        1,
        `${component} running`,
      );
    }
    for (const component of ONESHOTS) {
      assert.equal(sampleValue(text, 's7supervisor_component_ready', { component }), 1, `${component} ready`);
      assert.equal(
        sampleValue(text, 's7supervisor_component_state', { component, state: 'completed' }),
        1,
        `${component} completed`,
      );
    }
  });

  test('Prometheus in the stack scrapes the supervisor: target up, up == 1', async () => {
    interface Targets {
      data: { activeTargets: Array<{ labels: Record<string, string>; health: string; lastError: string }> };
    }
    const prometheus = (path: string) => get(`http://${stack.prometheusAddress}${path}`);
    let last = '';
    const target = await waitFor(
      async () => {
        const { body } = await prometheus('/api/v1/targets');
        last = body;
        const found = (JSON.parse(body) as Targets).data.activeTargets.find(
          (t) => t.labels.job === 's7supervisor',
        );
        return found?.health === 'up' && found;
      },
      // the shipped scrape interval is 15 s
      { timeout: 3 * MINUTE, interval: 1000, message: 'the s7supervisor target to be up' },
    ).catch((error: Error) => {
      error.message += `; Prometheus's last /api/v1/targets: ${last}`;
      throw error;
    });
    assert.equal(target.lastError, '');
    const { body } = await prometheus(`/api/v1/query?query=${encodeURIComponent('up{job="s7supervisor"}')}`);
    const result = (JSON.parse(body) as { data: { result: Array<{ value: [number, string] }> } }).data.result;
    assert.equal(result.length, 1, body);
    assert.equal(result[0]?.value[1], '1');
  });

  test('kill -9 of a component inside the container: restarted, visible in the metrics', async () => {
    const { supervisor } = stack;
    assert.ok(supervisor);
    const before = await metrics();
    const labels = { component: 'is' };
    const restarts = sampleValue(before, 's7supervisor_component_restarts_total', labels) ?? Number.NaN;
    const signaled =
      sampleValue(before, 's7supervisor_component_exits_total', { ...labels, reason: 'signaled' }) ?? 0;
    const pid = await componentPid('is');

    await podman(['exec', supervisor, 'sh', '-c', `kill -9 ${pid}`]);

    const after = await withLog(
      waitFor(
        async () => {
          const text = await metrics();
          return (
            sampleValue(text, 's7supervisor_component_restarts_total', labels) === restarts + 1 &&
            sampleValue(text, 's7supervisor_component_up', labels) === 1 &&
            sampleValue(text, 's7supervisor_component_ready', labels) === 1 &&
            text
          );
        },
        { timeout: 2 * MINUTE, interval: 500, message: 'is: restarts_total +1, up and ready again' },
      ),
    );
    assert.equal(sampleValue(after, 's7supervisor_component_last_exit_code', labels), 137);
    assert.equal(
      sampleValue(after, 's7supervisor_component_exits_total', { ...labels, reason: 'signaled' }),
      signaled + 1,
    );
    assert.notEqual(await componentPid('is'), pid, 'a new process');
    assert.equal((await get(supervisorUrl('/readyz'))).status, 200);
  });

  test('no zombie accumulates when a component leaves orphans behind', async () => {
    const { supervisor } = stack;
    assert.ok(supervisor);
    const labels = { component: 'svg' };
    const workersOf = (list: ProcessEntry[], pgid: number) =>
      list.filter((p) => p.cmdline.includes('svg-worker-') && p.pgid === pgid && p.state !== 'Z');
    const zombies = (list: ProcessEntry[]) => list.filter((p) => p.state === 'Z');

    const start = await metrics();
    const reapedAtStart = sampleValue(start, 's7supervisor_zombies_reaped_total') ?? Number.NaN;
    for (let round = 1; round <= ORPHAN_ROUNDS; round++) {
      const pid = await componentPid('svg');
      // its workers run, in its process group (DEMO_SVG_ORPHANS)
      await waitFor(async () => workersOf(await processes(), pid).length === ORPHANS, {
        timeout: MINUTE,
        interval: 500,
        message: `round ${round}: ${ORPHANS} svg workers in process group ${pid}`,
      });
      const text = await metrics();
      const restarts = sampleValue(text, 's7supervisor_component_restarts_total', labels) ?? Number.NaN;
      const reaped = sampleValue(text, 's7supervisor_zombies_reaped_total') ?? Number.NaN;

      // the workers become orphans of PID 1; the supervisor kills what is left of the group and reaps them
      await podman(['exec', supervisor, 'sh', '-c', `kill -9 ${pid}`]);
      await withLog(
        waitFor(
          async () => {
            const now = await metrics();
            return (
              sampleValue(now, 's7supervisor_component_restarts_total', labels) === restarts + 1 &&
              sampleValue(now, 's7supervisor_component_up', labels) === 1 &&
              (sampleValue(now, 's7supervisor_zombies_reaped_total') ?? 0) >= reaped + ORPHANS
            );
          },
          {
            timeout: 2 * MINUTE,
            interval: 500,
            message: `round ${round}: svg restarted and its ${ORPHANS} orphans reaped`,
          },
        ),
      );
      // an exit being collected right now may show as Z for an instant; none may stay
      const list = await waitFor(
        async () => {
          const found = await processes();
          return zombies(found).length === 0 && found;
        },
        { timeout: 30_000, interval: 250, message: `round ${round}: no zombie in the container` },
      );
      assert.equal(
        list.filter((p) => p.cmdline.includes('svg-worker-') && p.pgid === pid).length,
        0,
        `round ${round}: no worker of the killed svg is left`,
      );
    }
    const end = await metrics();
    assert.ok(
      (sampleValue(end, 's7supervisor_zombies_reaped_total') ?? 0) >= reapedAtStart + ORPHANS * ORPHAN_ROUNDS,
    );
    assert.equal(zombies(await processes()).length, 0);
    await waitFor(async () => (await get(supervisorUrl('/readyz'))).status === 200, {
      timeout: MINUTE,
      interval: 500,
      message: '/readyz 200 again',
    });
  });

  test('docker-compose stop: ordered shutdown within the grace period, exit code 0; down removes it all', async (t) => {
    const { supervisor, prometheus } = stack;
    assert.ok(supervisor && prometheus);
    const shipped = readYaml('docker-compose.yml') as { services: Record<string, Json> };
    const grace = composeDuration(String(shipped.services.supervisor?.stop_grace_period));

    // no -t: Compose gives each service its stop_grace_period
    await timed('stop', () => compose(['stop'], (grace + 60) * 1000));
    assert.ok(timings.stop !== undefined && timings.stop < grace, `stopped in ${timings.stop}s < ${grace}s`);

    interface State {
      Status: string;
      ExitCode: number;
      OOMKilled: boolean;
    }
    const inspect = async (id: string) =>
      JSON.parse((await podman(['inspect', '--format', '{{json .State}}', id])).stdout) as State;
    const supervisorState = await inspect(supervisor);
    assert.equal(supervisorState.Status, 'exited');
    assert.equal(supervisorState.ExitCode, 0, 'the supervisor exits 0 on SIGTERM');
    assert.equal((await inspect(prometheus)).Status, 'exited');

    const log = jsonLines(await supervisorLog());
    const at = (predicate: (r: Json) => boolean, what: string) => {
      const index = log.findIndex(predicate);
      assert.ok(index >= 0, `the supervisor's log has ${what}`);
      return index;
    };
    const stopAt = at((r) => r.msg === 'SIGTERM received: stopping', 'SIGTERM received');
    const shutdown = log.slice(stopAt);
    const index = (predicate: (r: Json) => boolean, what: string) => {
      const found = shutdown.findIndex(predicate);
      assert.ok(found >= 0, `the shutdown log has ${what}`);
      return found;
    };
    const exited = (id: string) =>
      index((r) => r.component === id && String(r.msg).startsWith('component exited'), `${id} exited`);
    const stopping = (id: string) =>
      index((r) => r.component === id && r.msg === 'stopping component', `stopping ${id}`);
    const psExited = exited('ps');
    assert.ok(psExited < stopping('is'), 'ps stopped before is is asked to stop');
    assert.ok(psExited < stopping('svg'), 'ps stopped before svg is asked to stop');
    assert.ok(exited('is') > psExited && exited('svg') > psExited);
    assert.ok(index((r) => r.msg === 'every component stopped', 'every component stopped') > exited('is'));
    const last = shutdown.at(-1);
    assert.equal(last?.msg, 'supervisor exiting');
    assert.equal(last?.exitCode, 0);

    await timed('down', () => compose(['down', '-v'], 3 * MINUTE));
    const left = (await compose(['ps', '-q'], MINUTE)).stdout.trim();
    assert.equal(left, '', 'no container of the project is left');
    const exists = await run('podman', ['container', 'exists', supervisor], { timeout: MINUTE });
    assert.equal(exists.code, 1, 'the supervisor container is removed');
    t.diagnostic(`stop ${timings.stop}s (grace ${grace}s), down ${timings.down}s`);
  });
});
