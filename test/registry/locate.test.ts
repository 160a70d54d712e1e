// design.md §1: --registry, else $S7SUPERVISOR_REGISTRY, else conf/SupervisorRegistry.xml under
// home; home = --home, else $S7SUPERVISOR_HOME, else the working directory.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { locateRegistry } from '../../src/registry/locate.js';

const cwd = '/work/here';

test('defaults: conf/SupervisorRegistry.xml under the working directory', () => {
  assert.deepEqual(locateRegistry({}, {}, cwd), {
    file: '/work/here/conf/SupervisorRegistry.xml',
    home: '/work/here',
  });
});

test('home: --home beats $S7SUPERVISOR_HOME beats the working directory; relative to cwd', () => {
  const env = { S7SUPERVISOR_HOME: '/opt/s7' };
  assert.deepEqual(locateRegistry({}, env, cwd), {
    file: '/opt/s7/conf/SupervisorRegistry.xml',
    home: '/opt/s7',
  });
  assert.deepEqual(locateRegistry({ home: 'demo' }, env, cwd), {
    file: '/work/here/demo/conf/SupervisorRegistry.xml',
    home: '/work/here/demo',
  });
});

test('registry: --registry beats $S7SUPERVISOR_REGISTRY beats the default, and does not move home', () => {
  const env = { S7SUPERVISOR_REGISTRY: '/etc/s7/registry.xml', S7SUPERVISOR_HOME: '/opt/s7' };
  assert.deepEqual(locateRegistry({}, env, cwd), { file: '/etc/s7/registry.xml', home: '/opt/s7' });
  assert.deepEqual(locateRegistry({ registry: 'mine.xml' }, env, cwd), {
    file: '/work/here/mine.xml',
    home: '/opt/s7',
  });
});

test('an empty environment variable counts as unset', () => {
  assert.deepEqual(locateRegistry({}, { S7SUPERVISOR_HOME: '', S7SUPERVISOR_REGISTRY: '' }, cwd), {
    file: '/work/here/conf/SupervisorRegistry.xml',
    home: '/work/here',
  });
});
