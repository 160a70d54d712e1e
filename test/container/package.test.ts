// The npm package and the image recipe in containers (design.md §8, docs/packaging.md):
// - the tarball CI packs installs into a clean container of the local node:24-bookworm-slim base
//   image that has no compiler, make or python3, and `s7supervisor run` and `check` work there;
// - /opt/s7supervisor, copied from the project's image into another image by the recipe
//   (examples/nginx: Debian's nginx on the Node base image), runs as PID 1, unprivileged, on a
//   read-only root with temp on a tmpfs: healthy, nginx served, `podman stop` exits 0.
//
// Root and podman, as the container e2e test (scripts/container-test-setup.sh --no-api prepares the
// machine); S7SUPERVISOR_SKIP_CONTAINER_TEST=1 skips it. Images are tagged
// localhost/s7supervisor-test:* and rebuilt from podman's layer cache when their inputs did not change.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { repoRoot } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait.js';
import { packTarball } from '../packaging/tarball.js';
import { containerSkipReason, type Outcome, run, runOk, underBuildLock } from './compose.js';

const MINUTE = 60_000;
const BASE_IMAGE = 'docker.io/library/node:24-bookworm-slim';
const PROJECT_TAG = 'localhost/s7supervisor-test:package';
const RECIPE_TAG = 'localhost/s7supervisor-test:recipe-nginx';
const NAME = `s7sup-package-${process.pid}`;

let work = '';
let tarball = '';
const containers: string[] = [];
const timings: Record<string, number> = {};

async function timed<T>(name: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await work();
  } finally {
    timings[name] = Math.round((Date.now() - started) / 100) / 10;
  }
}

function podman(args: string[], timeout = MINUTE): Promise<Outcome> {
  return runOk('podman', args, { timeout });
}

/**
 * podman build with a tag kept between runs (its layers make the next build quick); returns the
 * image id. The image the tag named before, if this build replaced it, is removed unless something
 * else still uses it.
 */
async function build(tag: string, context: string, args: string[], options: { lock?: boolean } = {}) {
  const before = await run('podman', ['image', 'inspect', '--format', '{{.Id}}', tag], { timeout: MINUTE });
  const iidfile = join(work, `${basename(tag).replace(/[^\w.-]/g, '_')}.iid`);
  const line = [
    'build',
    '--format',
    'docker',
    '--network',
    'host',
    '--iidfile',
    iidfile,
    '-t',
    tag,
    ...args,
    context,
  ];
  const [command, commandArgs] = options.lock ? underBuildLock('podman', line) : ['podman', line];
  await runOk(command, commandArgs, { timeout: 20 * MINUTE });
  const id = readFileSync(iidfile, 'utf8')
    .trim()
    .replace(/^sha256:/, '');
  const old = before.code === 0 ? before.stdout.trim().replace(/^sha256:/, '') : '';
  if (old && old !== id) await run('podman', ['rmi', old], { timeout: MINUTE });
  return id;
}

/** `key=value` lines of a script's output */
function fields(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout
      .split('\n')
      .map((line) => /^(\w+)=(.*)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1], m[2]]),
  );
}

const skip = containerSkipReason('container packaging test');

describe('container: the npm package and the image recipe under podman', { skip }, () => {
  before(
    async () => {
      work = mkdtempSync(join(tmpdir(), 's7sup-container-package-'));
      await timed('setup', () =>
        runOk('bash', ['scripts/container-test-setup.sh', '--no-api'], {
          timeout: 20 * MINUTE,
          cwd: repoRoot,
        }),
      );
      tarball = await timed('pack', () => packTarball(work));
    },
    { timeout: 45 * MINUTE },
  );

  after(
    async () => {
      for (const name of containers) await run('podman', ['rm', '-f', '-t', '0', name], { timeout: MINUTE });
      if (work) rmSync(work, { recursive: true, force: true });
    },
    { timeout: 5 * MINUTE },
  );

  test('the tarball installs into a clean node:24-bookworm-slim container without cc, make or python3; run exits 3, check exits 0', async (t) => {
    // everything runs in one throwaway container; each result is printed as key=value
    const script = [
      'tools=$(command -v cc gcc make python3 g++ || true)',
      'echo "tools=$(echo $tools)"',
      'npm install -g --no-audit --no-fund --no-update-notifier /pkg/package.tgz >/tmp/npm.log 2>&1',
      'echo "install=$?"',
      'tail -n 20 /tmp/npm.log >&2',
      'root=$(npm root -g)/s7supervisor',
      'echo "build_dir=$(test -e "$root/build" && echo present || echo absent)"',
      `echo "addon=$(cd "$root" && node -p "require('node-gyp-build').path('.')")"`,
      "s7supervisor run --port 0 -- sh -c 'exit 3' >/tmp/run.log 2>&1",
      'echo "run=$?"',
      'tail -n 5 /tmp/run.log >&2',
      's7supervisor check --registry /demo/conf/SupervisorRegistry.xml --home /demo >/tmp/check.log 2>&1',
      'echo "check=$?"',
      'tail -n 5 /tmp/check.log >&2',
    ].join('\n');
    writeFileSync(join(work, 'inside.sh'), `${script}\n`);
    const name = `${NAME}-install`;
    containers.push(name);
    const outcome = await timed('install', () =>
      run(
        'podman',
        [
          'run',
          '--rm',
          '--name',
          name,
          // the npm registry, for the package's dependencies, as the image builds reach it
          '--network',
          'host',
          '-v',
          `${tarball}:/pkg/package.tgz:ro`,
          '-v',
          `${join(work, 'inside.sh')}:/pkg/inside.sh:ro`,
          '-v',
          `${join(repoRoot, 'examples/image-serving')}:/demo:ro`,
          BASE_IMAGE,
          'sh',
          '/pkg/inside.sh',
        ],
        { timeout: 10 * MINUTE },
      ),
    );
    const result = fields(outcome.stdout);
    const context = `${outcome.stdout}${outcome.stderr}`;
    assert.equal(result.tools, '', `no compiler, make or python3 in the container: ${context}`);
    assert.equal(result.install, '0', `npm install -g of the tarball: ${context}`);
    assert.equal(result.build_dir, 'absent', 'nothing was compiled');
    assert.equal(
      result.addon,
      '/usr/local/lib/node_modules/s7supervisor/prebuilds/linux-x64/s7supervisor_native.napi.glibc.node',
    );
    assert.equal(result.run, '3', `s7supervisor run --port 0 -- sh -c 'exit 3': ${context}`);
    assert.equal(result.check, '0', `s7supervisor check on the demo registry: ${context}`);
    t.diagnostic(`setup ${timings.setup}s, pack ${timings.pack}s, install and run ${timings.install}s`);
  });

  test('the recipe: /opt/s7supervisor from the project image in an nginx image, PID 1, non-root, read-only root, temp on a tmpfs: healthy, nginx served, podman stop exits 0', async (t) => {
    // the project's image (the container e2e test builds the same Dockerfile: one waits for the other)
    const project = await timed('project image', () => build(PROJECT_TAG, repoRoot, [], { lock: true }));
    const recipe = await timed('recipe image', () =>
      build(RECIPE_TAG, join(repoRoot, 'examples/nginx'), ['--build-arg', `S7SUPERVISOR_IMAGE=${project}`]),
    );
    const name = `${NAME}-recipe`;
    containers.push(name);
    await podman([
      'run',
      '-d',
      '--name',
      name,
      '--read-only',
      // podman adds writable /tmp, /var/tmp and /run to a --read-only container; Docker does not
      '--read-only-tmpfs=false',
      '--tmpfs',
      '/srv/temp',
      '-p',
      '127.0.0.1::8080',
      '-p',
      '127.0.0.1::9910',
      recipe,
    ]);
    const logs = async () => {
      const outcome = await run('podman', ['logs', name], { timeout: MINUTE });
      return `${outcome.stdout}${outcome.stderr}`.slice(-4000);
    };
    const port = async (inner: number) => {
      const address = (await podman(['port', name, String(inner)])).stdout.trim();
      assert.match(address, /^127\.0\.0\.1:\d+$/);
      return address;
    };

    // Without systemd podman runs no HEALTHCHECK on a schedule: run it as its timer would.
    await timed('healthy', () =>
      waitFor(
        async () => {
          await run('podman', ['healthcheck', 'run', name], { timeout: MINUTE });
          const status = await podman(['inspect', '--format', '{{.State.Health.Status}}', name]);
          return status.stdout.trim() === 'healthy';
        },
        { timeout: 2 * MINUTE, interval: 500, message: 'the recipe container to be healthy' },
      ).catch(async (error: Error) => {
        error.message += `\n--- container log ---\n${await logs()}`;
        throw error;
      }),
    );

    const init = (await podman(['exec', name, 'cat', '/proc/1/cmdline'])).stdout.replaceAll('\0', ' ');
    assert.match(init, /^node \/opt\/s7supervisor\/bin\/s7supervisor run/, 'PID 1 is s7supervisor');
    assert.equal((await podman(['exec', name, 'id', '-u'])).stdout.trim(), '1000', 'not root');
    const write = await run('podman', ['exec', name, 'touch', '/srv/x'], { timeout: MINUTE });
    assert.notEqual(write.code, 0, 'the root filesystem is read-only');
    assert.match(write.stderr, /Read-only file system/);

    // nginx over loopback inside the container (the supervisor's readiness check and the probe)...
    const probe = await run('podman', ['exec', name, 's7supervisor', 'probe', 'readyz'], { timeout: MINUTE });
    assert.equal(probe.code, 0, `${probe.stdout}${probe.stderr}`);
    const inside = await podman([
      'exec',
      name,
      'node',
      '-e',
      "fetch('http://127.0.0.1:8080/').then(async (r) => console.log(r.status, await r.text()))",
    ]);
    assert.match(inside.stdout, /^200 .*served by nginx, supervised by s7supervisor/s);
    // ...and from this host through the published loopback ports
    const page = await fetch(`http://${await port(8080)}/`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /served by nginx, supervised by s7supervisor/);
    // nginx's access_log /dev/stdout works (a real pipe): the request is a record of component nginx
    await waitFor(
      async () =>
        (await logs()).split('\n').some((line) => {
          if (!line.startsWith('{')) return false;
          const record = JSON.parse(line) as { component?: string; stream?: string; msg?: string };
          return (
            record.component === 'nginx' &&
            record.stream === 'stdout' &&
            /"GET \/ HTTP\/1\.1" 200/.test(record.msg ?? '')
          );
        }) || undefined,
      { timeout: 10_000, message: "nginx's access log line in the container's output" },
    );
    const ready = await fetch(`http://${await port(9910)}/readyz?verbose`, {
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(ready.status, 200);
    assert.match(await ready.text(), /\[\+\]nginx ok/);
    // the control socket works from the tmpfs
    const status = await podman(['exec', name, 's7supervisor', 'status', 'nginx', '--json']);
    assert.equal((JSON.parse(status.stdout) as { state: string }).state, 'running');

    const stop = await timed('stop', () =>
      run('podman', ['stop', '-t', '30', name], { timeout: 2 * MINUTE }),
    );
    assert.equal(stop.code, 0, `podman stop: ${stop.stdout}${stop.stderr}`);
    const state = JSON.parse((await podman(['inspect', '--format', '{{json .State}}', name])).stdout) as {
      Status: string;
      ExitCode: number;
    };
    assert.equal(state.Status, 'exited');
    assert.equal(state.ExitCode, 0, `the container exits 0 on SIGTERM:\n${await logs()}`);
    assert.match(await logs(), /"exitCode":0,"msg":"supervisor exiting"/);
    await podman(['rm', name]);
    t.diagnostic(
      `project image ${timings['project image']}s, recipe image ${timings['recipe image']}s, ` +
        `healthy after ${timings.healthy}s, stop ${timings.stop}s`,
    );
  });
});
