// Signals to process groups (src/process/group.ts, by the addon): a live group gets them, a group
// that is gone is `false`, never an exception.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, test } from 'node:test';
import { groupExists, signalGroup, waitGroupGone } from '../../src/process/group.js';
import { killGroup } from '../helpers/processes.js';

const groups: number[] = [];
after(() => {
  for (const pgid of groups) killGroup(pgid);
});

test('a live group gets the signal, by name or number; once it is gone: false, and waitGroupGone resolves', async () => {
  // a shell that says which signal reached it, and a worker beside it in the same group
  const child = spawn(
    'sh',
    ['-c', 'trap "echo got-usr1" USR1; echo ready; sleep 30 & while :; do wait; done'],
    {
      detached: true,
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  const pgid = child.pid!;
  groups.push(pgid);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  assert.equal(groupExists(pgid), true);
  // a USR1 before the trap is set would end the shell: send it once the shell says it is set
  const waitForOutput = async (text: string) => {
    const deadline = Date.now() + 10_000;
    while (!out.includes(text) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    assert.match(out, new RegExp(text));
  };
  await waitForOutput('ready');
  assert.equal(signalGroup(pgid, 'SIGUSR1'), true);
  await waitForOutput('got-usr1');
  assert.equal(signalGroup(pgid, 'SIGNOTONE' as NodeJS.Signals), false, 'an unknown signal name');
  assert.equal(signalGroup(pgid, 9), true, 'SIGKILL by number');
  await exited;
  assert.equal(await waitGroupGone(pgid, 5000), true, 'the worker went with it');
  assert.equal(groupExists(pgid), false);
  assert.equal(signalGroup(pgid, 'SIGTERM'), false, 'a group that is gone: false, not thrown');
});
