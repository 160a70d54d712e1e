// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} in plain strings is the registry and dotenv syntax under test
// <environment file="…"> (design.md §2 rev. 2): dotenv files under the install folder, the block's
// <variable>s winning, values never in a message, the plan or an error.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseEnvText } from '../../src/registry/env-file.js';
import { RegistryError } from '../../src/registry/errors.js';
import { parseRegistry } from '../../src/registry/load.js';
import { formatPlan } from '../../src/registry/plan.js';
import { diffServers } from '../../src/supervisor/reload.js';
import { makeTempDir } from '../helpers/paths.js';

const FILE = 'conf/SupervisorRegistry.xml';

function home(files: Record<string, string>): string {
  const dir = makeTempDir('s7sup-envfile-');
  mkdirSync(join(dir, 'conf'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const registry = (body: string, profiles = '') => `<supervisor>
  <profiles>${profiles}</profiles>
  <servers>
    <server id="is">
      <command>/bin/true</command>
      ${body}
    </server>
  </servers>
</supervisor>`;

test('the dotenv grammar: quoting, comments, export, multi-line, escapes, empty values', () => {
  const text = [
    '# a comment line',
    'PLAIN=plain value',
    'export EXPORTED=yes',
    'DOUBLE="double # not a comment"',
    "SINGLE='single $NOT_EXPANDED \\n kept'",
    'TRAILING=value # a comment after it',
    'MULTI="first line',
    'second line"',
    'ESCAPED="a\\nb"',
    'EMPTY=',
    '  SPACED  =  around  ',
    'WITH_EQUALS=a=b=c',
    'this line has no equals sign',
    'REF=${PLAIN}',
  ].join('\n');
  assert.deepEqual(parseEnvText(text), {
    PLAIN: 'plain value',
    EXPORTED: 'yes',
    DOUBLE: 'double # not a comment',
    SINGLE: 'single $NOT_EXPANDED \\n kept',
    TRAILING: 'value',
    MULTI: 'first line\nsecond line',
    ESCAPED: 'a\nb',
    EMPTY: '',
    SPACED: 'around',
    WITH_EQUALS: 'a=b=c',
    REF: '${PLAIN}',
  });
  assert.deepEqual(parseEnvText('A=1\r\nB="2"\r\n'), { A: '1', B: '2' });
});

test("a file relative to the install folder; the same block's <variable>s win over it", () => {
  const dir = home({ 'conf/is.env': 'TOKEN=from-file\nSHARED=from-file\nONLY_FILE=1\n' });
  const xml = registry(
    '<environment file="conf/is.env"><variable name="SHARED">from-variable</variable></environment>',
  );
  const [spec] = parseRegistry(xml, FILE, dir, {}).servers;
  assert.deepEqual(spec?.env, { TOKEN: 'from-file', SHARED: 'from-variable', ONLY_FILE: '1' });
  assert.deepEqual(spec?.envFiles, [
    {
      shown: join(dir, 'conf/is.env'),
      optional: false,
      found: true,
      names: ['TOKEN', 'SHARED', 'ONLY_FILE'],
    },
  ]);
});

test('blocks merge in order across profiles: a later block (or file) wins over an earlier one', () => {
  const dir = home({ 'conf/base.env': 'A=base\nB=base\n', 'conf/is.env': 'B=server-file\nC=server-file\n' });
  const xml = registry(
    '<environment file="conf/is.env"><variable name="C">server-variable</variable></environment>',
    '<profile id="P"><environment file="conf/base.env"><variable name="A">profile-variable</variable></environment></profile>',
  ).replace('<command>', '<profile ref="P"/><command>');
  const [spec] = parseRegistry(xml, FILE, dir, {}).servers;
  assert.deepEqual(spec?.env, { A: 'profile-variable', B: 'server-file', C: 'server-variable' });
  assert.deepEqual(
    spec?.envFiles.map((f) => f.shown),
    [join(dir, 'conf/base.env'), join(dir, 'conf/is.env')],
  );
});

function problemOf(xml: string, dir: string) {
  try {
    parseRegistry(xml, FILE, dir, {});
  } catch (error) {
    assert.ok(error instanceof RegistryError);
    assert.equal(error.problems.length, 1, error.message);
    return error.problems[0];
  }
  assert.fail('expected a RegistryError');
}

test('a missing file is a registry error naming the file, line and attribute; optional="true" allows it', () => {
  const dir = home({});
  const xml = registry('<environment file="conf/missing.env"/>');
  const problem = problemOf(xml, dir);
  assert.equal(problem?.line, 6);
  assert.equal(problem?.element, 'environment');
  assert.equal(problem?.where, 'server "is"');
  assert.match(
    problem?.message ?? '',
    /attribute file: "conf\/missing.env" \(".*conf\/missing.env"\): no such file \(add optional="true"/,
  );

  const optional = registry(
    '<environment file="conf/missing.env" optional="true"><variable name="A">1</variable></environment>',
  );
  const [spec] = parseRegistry(optional, FILE, dir, {}).servers;
  assert.deepEqual(spec?.env, { A: '1' });
  assert.deepEqual(spec?.envFiles, [
    { shown: join(dir, 'conf/missing.env'), optional: true, found: false, names: [] },
  ]);
});

test('a directory, an empty file attribute or a bad optional are refused', () => {
  const dir = home({});
  assert.match(
    problemOf(registry('<environment file="conf"/>'), dir)?.message ?? '',
    /is a directory, not an env file/,
  );
  assert.match(problemOf(registry('<environment file=""/>'), dir)?.message ?? '', /attribute file is empty/);
  assert.match(
    problemOf(registry('<environment file="conf/x.env" optional="maybe"/>'), dir)?.message ?? '',
    /attribute optional: expected true or false/,
  );
  assert.match(
    problemOf(registry('<environment optional="true"/>'), dir)?.message ?? '',
    /optional applies to a file/,
  );
});

test('${VAR} in the path expands; the plan shows the path as written and the names, never a value', () => {
  const dir = home({ 'conf/prod.env': 'DB_PASSWORD=hunter2-in-file\nAPI_KEY="sk-secret-value"\n' });
  const xml = registry(
    '<environment file="conf/${STAGE}.env"><variable name="FROM_XML">xml-secret-value</variable></environment>\n      <environment file="conf/none.env" optional="true"/>',
  );
  const registryValue = parseRegistry(xml, FILE, dir, { STAGE: 'prod' });
  assert.equal(registryValue.servers[0]?.env.DB_PASSWORD, 'hunter2-in-file');
  const plan = formatPlan(registryValue);
  assert.match(plan, /env file +conf\/\$\{STAGE\}\.env \(DB_PASSWORD, API_KEY\)/);
  assert.match(plan, /env file +.*conf\/none\.env \(optional, not found: none set\)/);
  assert.match(plan, /environment +DB_PASSWORD, API_KEY, FROM_XML \(values not shown\)/);
  for (const secret of ['hunter2', 'sk-secret-value', 'xml-secret-value'])
    assert.ok(!plan.includes(secret), secret);
});

test('reload: a changed env file makes that server changed (a new process), the others unchanged', () => {
  const dir = home({ 'conf/is.env': 'A=1\n' });
  const xml = `<supervisor><servers>
    <server id="is"><command>/bin/true</command><environment file="conf/is.env"/></server>
    <server id="svg"><command>/bin/true</command></server>
  </servers></supervisor>`;
  const before = parseRegistry(xml, FILE, dir, {}).servers;
  writeFileSync(join(dir, 'conf/is.env'), 'A=2\n');
  const after = parseRegistry(xml, FILE, dir, {}).servers;
  const diff = diffServers(before, after);
  assert.deepEqual(
    diff.changed.map((s) => s.id),
    ['is'],
  );
  assert.deepEqual(diff.unchanged, ['svg']);
  // a value the block's <variable> shadows changes nothing the process sees: no restart
  const shadowed = xml.replace(
    '<environment file="conf/is.env"/>',
    '<environment file="conf/is.env"><variable name="A">fixed</variable></environment>',
  );
  const one = parseRegistry(shadowed, FILE, dir, {}).servers;
  writeFileSync(join(dir, 'conf/is.env'), 'A=3\n');
  assert.deepEqual(diffServers(one, parseRegistry(shadowed, FILE, dir, {}).servers).unchanged, ['is', 'svg']);
});

test('an env file cannot hand a component the control token: it is withheld like any other source', async () => {
  const { childEnvironment } = await import('../../src/process/environment.js');
  const dir = home({ 'conf/is.env': 'S7SUPERVISOR_CONTROL_TOKEN=0123456789abcdef-from-file\nKEPT=1\n' });
  const [spec] = parseRegistry(registry('<environment file="conf/is.env"/>'), FILE, dir, {}).servers;
  const env = childEnvironment(spec?.env ?? {});
  assert.equal(env.KEPT, '1');
  assert.equal(env.S7SUPERVISOR_CONTROL_TOKEN, undefined);
});
