import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServerSpec } from '../../src/registry/model.js';
import { diffServers } from '../../src/supervisor/reload.js';

const spec = (id: string, overrides: Partial<ServerSpec> = {}): ServerSpec => ({
  id,
  description: id,
  command: '/bin/true',
  args: [],
  shown: { command: '/bin/true', args: [] },
  env: {},
  workingDirectory: '/',
  startPriority: 1,
  startDelay: 0,
  stopTimeout: 10,
  stopSignal: 'SIGTERM',
  restart: { policy: 'always', backoffInitial: 1, backoffMax: 30, resetAfter: 10 },
  critical: true,
  output: 'json',
  envFiles: [],
  kind: 'longrun',
  dependsOn: [],
  ...overrides,
});

test('reload diff: removed, added, changed, updated in place, unchanged', () => {
  const diff = diffServers(
    [spec('keep'), spec('gone'), spec('args'), spec('prio'), spec('env', { env: { A: '1' } })],
    [
      spec('keep'),
      spec('args', { args: ['-v'] }),
      spec('prio', { startPriority: 5 }),
      spec('env', { env: { A: '2' } }),
      spec('new'),
    ],
  );
  assert.deepEqual(diff.removed, ['gone']);
  assert.deepEqual(
    diff.added.map((s) => s.id),
    ['new'],
  );
  assert.deepEqual(
    diff.changed.map((s) => s.id),
    ['args', 'env'],
  );
  assert.deepEqual(
    diff.updated.map((s) => s.id),
    ['prio'],
  );
  assert.deepEqual(diff.unchanged, ['keep']);
});

test('reload diff rev. 2: dependencies, schedule, limits and env file names in place; kind and env values change the process', () => {
  const diff = diffServers(
    [
      spec('deps'),
      spec('limits'),
      spec('schedule', { kind: 'oneshot' }),
      spec('kind'),
      spec('files'),
      spec('values'),
    ],
    [
      spec('deps', { dependsOn: [{ server: 'limits', condition: 'ready' }] }),
      spec('limits', { limits: { memory: 1024, checkInterval: 2 } }),
      spec('schedule', { kind: 'oneshot', schedule: { cron: '@every 1m' } }),
      spec('kind', { kind: 'oneshot' }),
      spec('files', { envFiles: [{ shown: '/x.env', optional: false, found: true, names: [] }] }),
      spec('values', { env: { FROM_FILE: 'new' } }),
    ],
  );
  assert.deepEqual(
    diff.updated.map((s) => s.id),
    ['deps', 'limits', 'schedule', 'files'],
  );
  assert.deepEqual(
    diff.changed.map((s) => s.id),
    ['kind', 'values'],
  );
});
