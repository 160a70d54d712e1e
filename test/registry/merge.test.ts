// design.md §2: profiles merge in the order of the <profile ref>s, then the server's own elements.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from './helpers.js';

const xml = `<supervisor>
  <profiles>
    <profile id="A">
      <command>bin/a</command>
      <arguments><argument>-a1</argument><argument>-a2</argument></arguments>
      <environment><variable name="X">from-A</variable><variable name="Y">from-A</variable></environment>
      <workingDirectory>dir-a</workingDirectory>
      <user>alice</user>
      <startDelay>1</startDelay>
      <stopTimeout>11</stopTimeout>
      <readiness type="tcp" port="1111"/>
      <restart policy="never"/>
    </profile>
    <profile id="B">
      <command>bin/b</command>
      <arguments><argument>-b</argument></arguments>
      <environment><variable name="Y">from-B</variable><variable name="Z">from-B</variable></environment>
      <startDelay>2</startDelay>
      <readiness type="http" url="http://127.0.0.1:2222/ping"/>
      <output>raw</output>
    </profile>
  </profiles>
  <servers>
    <server id="ab">
      <profile ref="A"/>
      <profile ref="B"/>
    </server>
    <server id="ba">
      <profile ref="B"/>
      <profile ref="A"/>
    </server>
    <server id="own">
      <profile ref="A"/>
      <profile ref="B"/>
      <command>bin/own</command>
      <arguments><argument>-own</argument></arguments>
      <environment><variable name="Z">from-server</variable></environment>
      <startDelay>3</startDelay>
      <readiness type="exec" command="bin/ready"><argument>--quick</argument></readiness>
    </server>
  </servers>
</supervisor>`;

const servers = new Map(parse(xml).servers.map((s) => [s.id, s]));
const get = (id: string) => {
  const server = servers.get(id);
  assert.ok(server, id);
  return server;
};

test('a single value is replaced by the later profile', () => {
  assert.equal(get('ab').command, '/srv/s7/bin/b');
  assert.equal(get('ab').startDelay, 2);
  assert.deepEqual(get('ab').readiness, {
    type: 'http',
    url: 'http://127.0.0.1:2222/ping',
    interval: 10,
    timeout: 1,
    failureThreshold: 3,
  });
  assert.equal(get('ba').command, '/srv/s7/bin/a');
  assert.equal(get('ba').startDelay, 1);
  assert.equal(get('ba').readiness?.type, 'tcp');
});

test('a value only one profile sets is kept whatever the order', () => {
  for (const id of ['ab', 'ba']) {
    assert.equal(get(id).user, 'alice');
    assert.equal(get(id).workingDirectory, '/srv/s7/dir-a');
    assert.equal(get(id).stopTimeout, 11);
    assert.equal(get(id).restart.policy, 'never');
    assert.equal(get(id).output, 'raw');
  }
});

test('arguments are appended: first profile, next profile, then the server', () => {
  assert.deepEqual(get('ab').args, ['-a1', '-a2', '-b']);
  assert.deepEqual(get('ba').args, ['-b', '-a1', '-a2']);
  assert.deepEqual(get('own').args, ['-a1', '-a2', '-b', '-own']);
});

test('the environment merges variable by variable, the later one winning', () => {
  assert.deepEqual(get('ab').env, { X: 'from-A', Y: 'from-B', Z: 'from-B' });
  assert.deepEqual(get('ba').env, { X: 'from-A', Y: 'from-A', Z: 'from-B' });
  assert.deepEqual(get('own').env, { X: 'from-A', Y: 'from-B', Z: 'from-server' });
});

test("the server's own elements win over every profile", () => {
  assert.equal(get('own').command, '/srv/s7/bin/own');
  assert.equal(get('own').startDelay, 3);
  assert.deepEqual(get('own').readiness, {
    type: 'exec',
    command: '/srv/s7/bin/ready',
    args: ['--quick'],
    shown: { command: '/srv/s7/bin/ready', args: ['--quick'] },
    interval: 10,
    timeout: 1,
    failureThreshold: 3,
    // the server's user (from profile A): its exec checks run as that user too
    user: 'alice',
  });
});

test('a variable called __proto__ is a variable, not a prototype', () => {
  const registry = parse(`<supervisor><servers><server id="p"><command>x</command>
    <environment><variable name="__proto__">polluted</variable></environment></server></servers></supervisor>`);
  const env = registry.servers[0]?.env ?? {};
  assert.equal(Object.getPrototypeOf(env), Object.prototype);
  assert.deepEqual(Object.entries(env), [['__proto__', 'polluted']]);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});
