// The words the status table and the status page share: durations, sizes, last exits, notes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatStatusTable } from '../../src/cli/status-table.js';
import { formatBytes, formatDuration, formatLastExit, formatNote } from '../../src/view/format.js';
import { status } from '../helpers/fake-view.js';

test('durations: two units at most', () => {
  const cases: Array<[number, string]> = [
    [0, '0s'],
    [59.9, '59s'],
    [60, '1m00s'],
    [192, '3m12s'],
    [3599, '59m59s'],
    [3600, '1h00m'],
    [7380, '2h03m'],
    [86_399, '23h59m'],
    [86_400, '1d00h'],
    [3 * 86_400 + 4 * 3600 + 59, '3d04h'],
    [-5, '0s'],
  ];
  for (const [seconds, text] of cases) assert.equal(formatDuration(seconds), text, `${seconds} s`);
});

test('sizes: binary units, one decimal', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1024), '1.0 KiB');
  assert.equal(formatBytes(1_887_436), '1.8 MiB');
  assert.equal(formatBytes(5 * 1024 ** 3), '5.0 GiB');
});

test('last exit: code or signal, who ended it when it was not a crash, and how long ago', () => {
  const now = 1_000_000;
  assert.equal(formatLastExit({}, now), '-');
  assert.equal(
    formatLastExit({ lastExit: { code: 3, reason: 'exited', at: now - 5000 } }, now),
    'code 3, 5s ago',
  );
  assert.equal(
    formatLastExit({ lastExit: { code: 137, signal: 'SIGKILL', reason: 'signaled', at: now - 61_000 } }, now),
    'SIGKILL, 1m01s ago',
  );
  assert.equal(
    formatLastExit({ lastExit: { code: 143, signal: 'SIGTERM', reason: 'stopped', at: now } }, now),
    'SIGTERM (stopped), 0s ago',
  );
  assert.equal(
    formatLastExit({ lastExit: { code: 137, signal: 'SIGKILL', reason: 'unhealthy', at: now } }, now),
    'SIGKILL (unhealthy), 0s ago',
  );
});

test('note: why it is not ready, or why it cannot start; nothing when ready', () => {
  assert.equal(formatNote(status('a')), '');
  assert.equal(
    formatNote(status('a', { ready: false, state: 'stopped', notReadyReason: 'stopped by operator' })),
    'stopped by operator',
  );
  assert.equal(formatNote(status('a', { ready: false, state: 'starting' })), 'starting');
  assert.equal(
    formatNote(
      status('a', {
        ready: false,
        state: 'fatal',
        startError: { code: 'ENOENT', message: 'spawn nope ENOENT' },
      }),
    ),
    'cannot start: spawn nope ENOENT',
  );
});

test('table: columns aligned, the note last, one line per component whatever a reason holds', () => {
  const now = Date.now();
  const table = formatStatusTable(
    [
      {
        ...status('is'),
        pid: 4242,
        uptimeSeconds: 75,
        resources: { rssBytes: 44_040_192, cpuSeconds: 1, processes: 1 },
      },
      status('platform-server', {
        state: 'backoff',
        ready: false,
        restarts: 12,
        notReadyReason: 'restarting after code 1\n\u001b[31mred\u001b[0m',
        lastExit: { code: 1, reason: 'exited', at: now - 2000 },
      }),
    ],
    now,
  );
  assert.equal(
    table,
    [
      'ID               STATE    READY  PID   UPTIME  RESTARTS  MEMORY    LAST EXIT       NOTE',
      'is               running  yes    4242  1m15s   0         42.0 MiB  -               -',
      'platform-server  backoff  no     -     -       12        -         code 1, 2s ago  restarting after code 1 ?[31mred?[0m',
    ].join('\n'),
  );
});
