// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} in plain strings is the registry syntax under test
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expandVariables } from '../../src/registry/expand.js';
import { assertOneProblem, parse, registry } from './helpers.js';

test('${VAR} takes the value from the environment, ${VAR:-default} falls back when unset or empty', () => {
  const env = { PORT: '8080', EMPTY: '', HOST: 'img.local' };
  assert.deepEqual(expandVariables('${PORT}', env), { value: '8080', errors: [] });
  assert.deepEqual(expandVariables('http://${HOST}:${PORT}/ping', env), {
    value: 'http://img.local:8080/ping',
    errors: [],
  });
  assert.deepEqual(expandVariables('${MISSING:-27345}', env), { value: '27345', errors: [] });
  assert.deepEqual(expandVariables('${EMPTY:-fallback}', env), { value: 'fallback', errors: [] });
  assert.deepEqual(expandVariables('${PORT:-1}', env), { value: '8080', errors: [] });
  assert.deepEqual(expandVariables('${MISSING:-}', env), { value: '', errors: [] });
  assert.deepEqual(expandVariables('${EMPTY}', env), { value: '', errors: [] });
  assert.deepEqual(expandVariables('${MISSING:-a b:c}', env), { value: 'a b:c', errors: [] });
});

test('a lone $ stays, $${ is a literal ${, bad references are errors', () => {
  assert.deepEqual(expandVariables('cost $5 and $HOME', {}), { value: 'cost $5 and $HOME', errors: [] });
  assert.deepEqual(expandVariables('$${PORT}', { PORT: '1' }), { value: '${PORT}', errors: [] });
  assert.match(expandVariables('${MISSING}', {}).errors[0] ?? '', /environment variable MISSING is not set/);
  assert.match(expandVariables('${PORT', {}).errors[0] ?? '', /unterminated/);
  assert.match(expandVariables('${1BAD}', {}).errors[0] ?? '', /not a variable reference/);
  assert.match(expandVariables('${}', {}).errors[0] ?? '', /not a variable reference/);
  assert.equal(expandVariables('${A} ${B}', {}).errors.length, 2);
});

test('expansion applies to element text and attribute values alike', () => {
  const xml = registry(`<command>\${IS_BIN:-bin/ImageServer}</command>
      <arguments><argument>-port</argument><argument>\${IS_PORT}</argument></arguments>
      <environment><variable name="IS_HOME">\${HOME_DIR:-/opt/is}</variable></environment>
      <stopTimeout>\${STOP:-30}</stopTimeout>
      <readiness type="http" url="http://127.0.0.1:\${IS_PORT}/ping" interval="\${EVERY:-2}"/>`);
  const [server] = parse(xml, { IS_PORT: '27345', STOP: '45' }).servers;
  assert.equal(server?.command, '/srv/s7/bin/ImageServer');
  assert.deepEqual(server?.args, ['-port', '27345']);
  assert.deepEqual(server?.env, { IS_HOME: '/opt/is' });
  assert.equal(server?.stopTimeout, 45);
  assert.deepEqual(server?.readiness, {
    type: 'http',
    url: 'http://127.0.0.1:27345/ping',
    interval: 2,
    timeout: 1,
    failureThreshold: 3,
  });
});

test('an expanded value is validated like a written one, and an unset one in an attribute is named', () => {
  assertOneProblem(
    registry('<command>x</command>\n      <stopTimeout>${STOP}</stopTimeout>'),
    { at: 'stopTimeout', element: 'stopTimeout', message: /expected a number of seconds, got "soon"/ },
    { STOP: 'soon' },
  );
  assertOneProblem(registry('<command>x</command>\n      <readiness type="tcp" port="${PORT}"/>'), {
    at: 'readiness',
    element: 'readiness',
    message: /attribute port: environment variable PORT is not set/,
  });
});
