// The shared /proc reading (src/metrics/resources.ts): how often it really reads /proc. The
// clock is the reader's own (injected), the processes and /proc are real.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, test } from 'node:test';
import { createResourceReader } from '../../src/metrics/resources.js';
import { status } from '../helpers/fake-view.js';
import { killGroup } from '../helpers/processes.js';

const groups: number[] = [];
after(() => {
  for (const pgid of groups) killGroup(pgid);
});

/** a process group of its own (a sleeping shell), as a component has; its pgid is its pid */
function startGroup(): number {
  const child = spawn('sh', ['-c', 'exec sleep 300'], { detached: true, stdio: 'ignore' });
  assert.ok(child.pid);
  child.unref();
  groups.push(child.pid);
  return child.pid;
}

test('one /proc pass serves every reader until it is 1 s old', () => {
  let now = 1000;
  const reader = createResourceReader({ now: () => now });
  const components = [status('is', { pid: startGroup() }), status('ps', { pid: startGroup() })];
  assert.equal(reader.scans, 0);
  const first = reader.read(components);
  assert.equal(reader.scans, 1);
  assert.ok((first.get('is')?.rssBytes ?? 0) > 0, 'real memory of the group');
  assert.equal(first.get('is')?.processes, 1);
  for (let i = 0; i < 500; i++) reader.read(components);
  now += 999;
  assert.equal(reader.read(components).get('ps')?.processes, 1);
  assert.equal(reader.scans, 1, 'still the same reading after 999 ms');
  now += 1;
  reader.read(components);
  assert.equal(reader.scans, 2, 'a new reading once 1 s old');
  // a component without a process asks for nothing, and nothing is read for it
  assert.deepEqual([...reader.read([status('x', { state: 'stopped' })]).keys()], []);
  assert.equal(reader.scans, 2);
});

test('a group the reading did not cover (a restart) is read again, but not sooner than 250 ms after the last pass', () => {
  let now = 0;
  const reader = createResourceReader({ now: () => now });
  const is = status('is', { pid: startGroup() });
  reader.read([is]);
  assert.equal(reader.scans, 1);
  // `ps` (re)started 100 ms later: not read yet, so absent rather than one pass per request
  now = 100;
  const restarted = status('ps', { pid: startGroup() });
  for (let i = 0; i < 100; i++) assert.equal(reader.read([is, restarted]).get('ps'), undefined);
  assert.equal(reader.scans, 1);
  now = 250;
  assert.equal(reader.read([is, restarted]).get('ps')?.processes, 1);
  assert.equal(reader.scans, 2);
  // the groups of the earlier reading are covered: no pass for a subset of them
  now = 300;
  reader.read([is]);
  assert.equal(reader.scans, 2);
});

test('a caller may ask for a fresher reading (the memory limits), never for a staler one', () => {
  let now = 0;
  const reader = createResourceReader({ now: () => now });
  const components = [status('is', { pid: startGroup() })];
  reader.read(components);
  now = 200;
  reader.read(components, 250);
  assert.equal(reader.scans, 1, 'a reading 200 ms old is fresh enough');
  now = 400;
  reader.read(components, 250);
  assert.equal(reader.scans, 2, 'not one 400 ms old');
  now = 1400;
  reader.read(components, 5000);
  assert.equal(reader.scans, 3, "the reader's own 1 s still bounds it");
});
