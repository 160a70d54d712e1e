// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} in plain strings is the registry syntax under test
// Secrets in ${VAR}s (design.md §7 rev. 2): commands and arguments are kept as written next to
// their expansion; the plan of `check` and the "component started" record show them as written,
// and environment values are never printed, only their names.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { formatPlan } from '../../src/registry/plan.js';
import { diffServers } from '../../src/supervisor/reload.js';
import { makeTempDir } from '../helpers/paths.js';
import { killAllStarted, type RunningCli, runCli } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';
import { parse } from './helpers.js';

after(killAllStarted);

/** the CLI's exit code, waited for with a deadline */
const exitWithin = (cli: RunningCli, timeout = 20_000) =>
  waitFor(() => cli.exitCode(), { timeout, message: 'the CLI to exit' });

const secrets = {
  SECRET_DIR: '/hidden/dir-s3cr3t',
  TOKEN: 'tok-6f1d-very-secret',
  DB_PASSWORD: 'pw-9a7c-hunter2',
};
const leaked = (text: string) => Object.values(secrets).filter((secret) => text.includes(secret));

const xml = `<supervisor>
  <profiles>
    <profile id="base">
      <arguments><argument>--from-profile=\${TOKEN}</argument><argument>plain</argument></arguments>
    </profile>
  </profiles>
  <servers>
    <server id="app">
      <profile ref="base"/>
      <command>\${SECRET_DIR}/bin/server</command>
      <arguments><argument>--token=\${TOKEN}</argument><argument>--mode=\${MODE:-prod}</argument><argument>$\${literal}</argument></arguments>
      <environment><variable name="DB_PASSWORD">\${DB_PASSWORD}</variable><variable name="STATIC">static-value-42</variable></environment>
      <readiness type="exec" command="\${SECRET_DIR}/bin/ready"><argument>\${TOKEN}</argument><argument>-q</argument></readiness>
    </server>
    <server id="plain">
      <command>bin/web</command>
      <arguments><argument>-v</argument></arguments>
      <liveness type="exec" command="bin/alive"/>
    </server>
  </servers>
</supervisor>
`;

test('the resolved model keeps command and arguments as written beside their expansion', () => {
  const [app, plain] = parse(xml, secrets).servers;
  assert.equal(app?.command, '/hidden/dir-s3cr3t/bin/server');
  assert.deepEqual(app?.args, [
    '--from-profile=tok-6f1d-very-secret',
    'plain',
    '--token=tok-6f1d-very-secret',
    '--mode=prod',
    '${literal}',
  ]);
  assert.deepEqual(app?.shown, {
    command: '${SECRET_DIR}/bin/server',
    args: ['--from-profile=${TOKEN}', 'plain', '--token=${TOKEN}', '--mode=${MODE:-prod}', '$${literal}'],
  });
  assert.equal(app?.env.DB_PASSWORD, 'pw-9a7c-hunter2');
  assert.ok(app?.readiness?.type === 'exec');
  assert.equal(app.readiness.command, '/hidden/dir-s3cr3t/bin/ready');
  assert.deepEqual(app.readiness.args, ['tok-6f1d-very-secret', '-q']);
  assert.deepEqual(app.readiness.shown, { command: '${SECRET_DIR}/bin/ready', args: ['${TOKEN}', '-q'] });
  // written without a variable: shown resolved, as it runs
  assert.deepEqual(plain?.shown, { command: '/srv/s7/bin/web', args: ['-v'] });
  assert.ok(plain?.liveness?.type === 'exec');
  assert.deepEqual(plain.liveness.shown, { command: '/srv/s7/bin/alive', args: [] });
});

test('the plan shows commands as written and environment names only', () => {
  const plan = formatPlan(parse(xml, secrets));
  assert.deepEqual(leaked(plan), [], plan);
  assert.doesNotMatch(plan, /static-value-42/);
  assert.match(
    plan,
    /command +'\$\{SECRET_DIR\}\/bin\/server' '--from-profile=\$\{TOKEN\}' plain '--token=\$\{TOKEN\}' '--mode=\$\{MODE:-prod\}' '\$\$\{literal\}'\n/,
  );
  assert.match(plan, /environment +DB_PASSWORD, STATIC \(values not shown\)/);
  assert.match(plan, /ready +exec '\$\{SECRET_DIR\}\/bin\/ready' '\$\{TOKEN\}' -q exits 0/);
  assert.match(plan, /command +\/srv\/s7\/bin\/web -v\n/);
});

test('reload: the same values written differently are applied in place, not a new process', () => {
  const before = parse(xml, secrets).servers;
  const respelled = parse(xml.replace('--mode=${MODE:-prod}', '--mode=prod'), secrets).servers;
  const diff = diffServers(before, respelled);
  assert.deepEqual(
    diff.updated.map((s) => s.id),
    ['app'],
  );
  assert.deepEqual(diff.changed, []);
  const newValue = parse(xml, { ...secrets, TOKEN: 'another-token-value' }).servers;
  assert.deepEqual(
    diffServers(before, newValue).changed.map((s) => s.id),
    ['app'],
  );
});

function home(registry: string): string {
  const dir = makeTempDir('s7sup-shown-');
  mkdirSync(join(dir, 'conf'));
  writeFileSync(join(dir, 'conf/SupervisorRegistry.xml'), registry);
  return dir;
}

test('check through the CLI: no secret on stdout or stderr, valid or not', async () => {
  const dir = home(xml);
  const cli = runCli(['check', '--home', dir], { env: secrets });
  assert.equal(await exitWithin(cli), 0, cli.stderr.join('\n'));
  const out = [...cli.stdout, ...cli.stderr].join('\n');
  assert.match(out, /'\$\{SECRET_DIR\}\/bin\/server'/);
  assert.deepEqual(leaked(out), []);
  const broken = home(xml.replace('<server id="plain">', '<server id="plain"><stopTimeout>x</stopTimeout>'));
  const refused = runCli(['check', '--home', broken], { env: secrets });
  assert.equal(await refused.exited, 2);
  assert.deepEqual(leaked([...refused.stdout, ...refused.stderr].join('\n')), []);
});

test('run: the "component started" record has the command line as written; no secret in the log', async () => {
  const dir = makeTempDir('s7sup-shown-');
  const seen = join(dir, 'argument-seen');
  const registry = `<supervisor>
  <config><temp>temp</temp></config>
  <servers>
    <server id="app">
      <command>\${SHELL_PATH}</command>
      <arguments><argument>-c</argument><argument>printf %s "$1" > ${seen}; exec sleep 1000</argument><argument>sh</argument><argument>--token=\${TOKEN}</argument></arguments>
      <environment><variable name="DB_PASSWORD">\${DB_PASSWORD}</variable></environment>
      <stopTimeout>2</stopTimeout>
    </server>
  </servers>
</supervisor>
`;
  const cli = runCli(['run', '--home', home(registry), '--port', '0', '--log-level', 'debug'], {
    env: { ...secrets, SHELL_PATH: '/bin/sh' },
  });
  const record = await cli.waitForRecord((r) => r.msg === 'component started' && r.component === 'app');
  assert.equal(record.command, '${SHELL_PATH}');
  assert.deepEqual(record.args, [
    '-c',
    `printf %s "$1" > ${seen}; exec sleep 1000`,
    'sh',
    '--token=${TOKEN}',
  ]);
  // the process itself gets the expanded values
  const argument = await waitFor(() => existsSync(seen) && readFileSync(seen, 'utf8'), {
    message: 'the component to write its argument',
  });
  assert.equal(argument, '--token=tok-6f1d-very-secret');
  cli.child.kill('SIGTERM');
  assert.equal(await exitWithin(cli), 0);
  assert.deepEqual(leaked([...cli.stdout, ...cli.stderr].join('\n')), []);
});
