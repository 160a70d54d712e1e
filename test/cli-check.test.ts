// `s7supervisor check` through the real CLI, as a user runs it.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { demoHome, makeTempDir, repoRoot } from './helpers/paths.js';
import { killAllStarted, runCli } from './helpers/processes.js';

after(killAllStarted);

const stackTrace = /^\s+at .*:\d+:\d+\)?$/m;

function home(registry: string): string {
  const dir = makeTempDir('s7sup-check-');
  mkdirSync(join(dir, 'conf'));
  writeFileSync(join(dir, 'conf/SupervisorRegistry.xml'), registry);
  return dir;
}

async function check(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const cli = runCli(['check', ...args], options);
  const code = await cli.exited;
  return { code, stdout: cli.stdout.join('\n'), stderr: cli.stderr.join('\n'), stderrLines: cli.stderr };
}

const valid = `<supervisor>
  <servers>
    <server id="web">
      <command>bin/web</command>
      <environment><variable name="API_TOKEN">s3cr3t-value</variable></environment>
      <startPriority>2</startPriority>
    </server>
    <server id="db">
      <command>postgres</command>
      <arguments><argument>-D</argument><argument>data dir</argument></arguments>
    </server>
  </servers>
</supervisor>
`;

test('check on the demo registry exits 0 and prints its start plan', async () => {
  const { code, stdout, stderr } = await check(['--home', 'examples/image-serving'], { cwd: repoRoot });
  assert.equal(code, 0, stderr);
  assert.equal(stderr, '');
  assert.match(stdout, new RegExp(`registry +${join(demoHome, 'conf/SupervisorRegistry.xml')}`));
  const first = stdout.indexOf('priority 1: cache, migrate, is, svg');
  const second = stdout.indexOf('priority 2: ps');
  assert.ok(first > 0 && second > first, stdout);
  // as written (design.md §7): the ${VAR} unexpanded, single-quoted as a shell would need it
  assert.match(
    stdout,
    /is: Image Server\n +after +cache \(ready\)\n +command +node bin\/demo-server\.mjs is --port '\$\{IS_PORT:-27345\}'\n/,
  );
  assert.match(stdout, /stop +SIGTERM, SIGKILL after \d+s/);
  // rev. 2: the demo's dependencies, oneshots and schedule
  assert.match(stdout, /is: Image Server\n +after +cache \(ready\)\n/);
  assert.match(stdout, /ps: Platform Server\n +after +migrate \(succeeded\)\n/);
  assert.match(stdout, /migrate: Schema migration\n +kind +oneshot/);
  assert.match(stdout, /schedule +cron \*\/15 \* \* \* \*/);
  assert.match(stdout, /shutdown order: ps, purge \(2\), then migrate, is, svg \(1\), then cache \(1\)/);
  assert.match(stdout, /restart +always/);
});

test('check prints the plan in priority order, quoted, with environment names but never values', async () => {
  const dir = home(valid);
  const { code, stdout } = await check(['--home', dir]);
  assert.equal(code, 0);
  assert.ok(stdout.indexOf('priority 1: db') < stdout.indexOf('priority 2: web'), stdout);
  assert.match(stdout, /command +postgres -D 'data dir'/);
  assert.match(stdout, new RegExp(`command +${dir}/bin/web`));
  assert.match(stdout, /environment +API_TOKEN \(values not shown\)/);
  assert.doesNotMatch(stdout, /s3cr3t-value/);
});

test('a broken registry: exit 2, one line per problem naming file, line and element, nothing on stdout', async () => {
  const broken = `<supervisor>
  <config>
    <tcpport>ninety</tcpport>
  </config>
  <servers>
    <server id="is">
      <profile ref="Missing"/>
      <stopTimeout>-1</stopTimeout>
      <stopSignal>SIGNOPE</stopSignal>
      <readyness type="http" url="http://127.0.0.1/"/>
    </server>
    <server id="is"><command>x</command></server>
  </servers>
</supervisor>
`;
  const dir = home(broken);
  const { code, stdout, stderrLines } = await check([], { cwd: dir });
  assert.equal(code, 2);
  assert.equal(stdout, '');
  const file = 'conf/SupervisorRegistry.xml';
  assert.deepEqual(stderrLines, [
    `${file}:3: <tcpport> in config: expected a TCP port, got "ninety"`,
    `${file}:7: <profile> in server "is": profile "Missing" is not defined (there is no <profiles> section)`,
    `${file}:8: <stopTimeout> in server "is": a time must not be negative, got "-1"`,
    `${file}:9: <stopSignal> in server "is": unknown signal "SIGNOPE": expected a name such as SIGTERM, SIGINT, SIGQUIT or SIGUSR1`,
    `${file}:10: <readyness> in server "is": unknown element: did you mean <readiness>?`,
    `${file}:12: <server>: duplicate server id "is" (first defined on line 6)`,
  ]);
});

test('not XML, an unclosed tag, a missing file: exit 2, readable, no stack trace', async () => {
  for (const [text, expected] of [
    ['', /SupervisorRegistry\.xml:1: the file is empty/],
    ['port: 9910\n', /SupervisorRegistry\.xml:1: not well-formed XML/],
    [
      '<supervisor>\n  <servers>\n    <server id="a">\n  </servers>\n</supervisor>\n',
      /SupervisorRegistry\.xml:4: <server>: not well-formed XML: Expected closing tag 'server'/,
    ],
  ] as const) {
    const { code, stderr } = await check(['--home', home(text)]);
    assert.equal(code, 2, stderr);
    assert.match(stderr, expected);
    assert.doesNotMatch(stderr, stackTrace);
  }
  const missing = await check(['--registry', '/nonexistent/registry.xml']);
  assert.equal(missing.code, 2);
  assert.equal(missing.stderr, '/nonexistent/registry.xml: cannot read the registry: no such file');
});

test('the registry is found by --registry, $S7SUPERVISOR_REGISTRY, $S7SUPERVISOR_HOME, in that order', async () => {
  const a = home(valid);
  const b = home(valid.replace('id="web"', 'id="web-b"'));
  const c = home(valid.replace('id="web"', 'id="web-c"'));
  const env = { S7SUPERVISOR_REGISTRY: join(b, 'conf/SupervisorRegistry.xml'), S7SUPERVISOR_HOME: c };
  const flag = await check(['--registry', 'conf/SupervisorRegistry.xml'], { cwd: a, env });
  assert.match(flag.stdout, /priority 2: web \(/);
  const fromEnv = await check([], { cwd: a, env });
  assert.match(fromEnv.stdout, /priority 2: web-b \(/);
  // relative paths still resolve against home ($S7SUPERVISOR_HOME), not the registry's folder
  assert.match(fromEnv.stdout, new RegExp(`command +${c}/bin/web`));
  const fromHome = await check([], { cwd: a, env: { S7SUPERVISOR_HOME: c } });
  assert.match(fromHome.stdout, /priority 2: web-c \(/);
});

test('--help exits 0 with the usage; an unknown option or an argument exits 2', async () => {
  const help = await check(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /usage: s7supervisor check \[--registry FILE\] \[--home DIR\]/);
  assert.match(help.stdout, /--registry FILE/);
  const unknown = await check(['--registy', 'x']);
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stderr, "s7supervisor check: unknown option '--registy' (did you mean --registry?)");
  assert.doesNotMatch(unknown.stderr, stackTrace);
  const positional = await check(['conf/SupervisorRegistry.xml']);
  assert.equal(positional.code, 2);
  assert.match(positional.stderr, /check: unexpected argument 'conf\/SupervisorRegistry\.xml'/);
  const noValue = await check(['--home']);
  assert.equal(noValue.code, 2);
  assert.equal(noValue.stderr, 's7supervisor check: --home needs a value');
});

test('check: rev. 2 mistakes are one line each, naming file, line and element, never a stack trace', async () => {
  const dir = home(`<supervisor>
  <servers>
    <server id="cache"><command>bin/cache</command><dependsOn server="is"/></server>
    <server id="is"><command>bin/is</command><dependsOn server="cache"/><dependsOn server="migrat" condition="succeeded"/></server>
    <server id="migrate"><command>bin/migrate</command><kind>oneshot</kind><schedule cron="*/61 * * * *"/></server>
    <server id="ps"><command>bin/ps</command><limits memory="2GB"/><environment file="conf/ps.env"/></server>
  </servers>
</supervisor>
`);
  const { code, stderrLines, stdout } = await check(['--home', dir]);
  assert.equal(code, 2);
  assert.equal(stdout, '');
  const text = stderrLines.join('\n');
  assert.doesNotMatch(text, stackTrace);
  const expected = [
    /^conf\/SupervisorRegistry\.xml:3: <dependsOn> in server "cache": dependency cycle: cache -> is -> cache/,
    /^conf\/SupervisorRegistry\.xml:4: <dependsOn> in server "is": server "migrat" is not defined: did you mean "migrate"\?/,
    /^conf\/SupervisorRegistry\.xml:5: <schedule> in server "migrate": attribute cron: /,
    /^conf\/SupervisorRegistry\.xml:6: <limits> in server "ps": attribute memory: /,
    /^conf\/SupervisorRegistry\.xml:6: <environment> in server "ps": attribute file: "conf\/ps.env" .*no such file/,
  ];
  const lines = stderrLines.map((line) => line.replace(`${dir}/`, ''));
  for (const pattern of expected)
    assert.ok(
      lines.some((line) => pattern.test(line)),
      `${pattern} in:\n${text}`,
    );
});
