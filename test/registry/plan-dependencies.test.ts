// What `check` prints of rev. 2: the dependency graph, oneshots and their schedule with the next
// run (on a fixed clock), memory limits, env files by name only, the stop waves.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatPlan } from '../../src/registry/plan.js';
import { parse } from './helpers.js';

const xml = `<supervisor>
  <servers>
    <server id="cache"><command>bin/cache</command><limits memory="1.5GiB" checkInterval="5"/></server>
    <server id="migrate"><command>bin/migrate</command><kind>oneshot</kind></server>
    <server id="is">
      <command>bin/is</command>
      <dependsOn server="cache"/>
      <dependsOn server="migrate" condition="succeeded"/>
    </server>
    <server id="ps">
      <command>bin/ps</command>
      <startPriority>2</startPriority>
      <dependsOn server="is" condition="started"/>
      <limits memory="512M"/>
    </server>
    <server id="purge">
      <command>bin/purge</command>
      <kind>oneshot</kind>
      <startPriority>2</startPriority>
      <schedule cron="*/15 * * * *" timezone="Europe/Berlin"/>
    </server>
    <server id="tick"><command>bin/tick</command><kind>oneshot</kind><schedule cron="@every 30s"/></server>
  </servers>
</supervisor>`;

const plan = formatPlan(parse(xml), new Date('2026-12-01T10:07:00Z'));
/** the server's header line and its indented rows */
const section = (id: string) => {
  const lines = plan.split('\n');
  const from = lines.findIndex((line) => line === `  ${id}` || line.startsWith(`  ${id}:`));
  assert.ok(from >= 0, `${id} in:\n${plan}`);
  const rows = [lines[from]];
  for (const line of lines.slice(from + 1)) {
    if (!line.startsWith('    ')) break;
    rows.push(line);
  }
  return rows.join('\n');
};

test('each server with what it starts after, and the condition', () => {
  assert.match(section('is'), /after +cache \(ready\), migrate \(succeeded\)/);
  assert.match(section('ps'), /after +is \(started\)/);
  assert.doesNotMatch(section('cache'), /^ +after /m);
  assert.match(plan, /priority 1: cache, migrate, is, tick \(together as dependencies allow, first\)/);
  assert.match(plan, /priority 2: ps, purge \(together, after priority 1 is ready\)/);
});

test('oneshots, their restart default and schedule with the next run in its zone', () => {
  assert.match(
    section('migrate'),
    /kind +oneshot \(runs to completion; exit 0: completed, counts as ready\)/,
  );
  assert.match(section('migrate'), /restart +on-failure/);
  // 10:07 UTC is 11:07 in Berlin: the next quarter is 11:15 Berlin time
  assert.match(
    section('purge'),
    /schedule +cron \*\/15 \* \* \* \* \(Europe\/Berlin\); next run 2026-12-01 11:15 Europe\/Berlin/,
  );
  assert.match(section('tick'), /schedule +every 30s \(first run at its turn/);
  assert.doesNotMatch(section('cache'), /kind|schedule/);
});

test('memory limits in binary units with the sampling interval', () => {
  assert.match(
    section('cache'),
    /memory limit +1\.5 GiB resident for the whole process group, sampled every 5s; above it 3 times in a row: restarted/,
  );
  assert.match(section('ps'), /memory limit +512 MiB .* every 2s/);
});

test('shutdown: dependents before what they depend on, then by priority', () => {
  assert.match(plan, /shutdown order: ps, purge \(2\), then is, tick \(1\), then cache, migrate \(1\)/);
});

test('a registry without rev. 2 elements prints no rev. 2 rows', () => {
  const plain = formatPlan(
    parse('<supervisor><servers><server id="a"><command>a</command></server></servers></supervisor>'),
  );
  assert.doesNotMatch(plain, /^ +(after|kind|schedule|memory limit|env file) /m);
});
