import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatPlan, shellQuote } from '../../src/registry/plan.js';
import { parse } from './helpers.js';

const xml = `<supervisor>
  <config><tcpport>9911</tcpport><host>127.0.0.1</host><restartIntensity max="3" period="30"/></config>
  <servers>
    <server id="ps">
      <description>Platform Server</description>
      <command>bin/catalina.sh</command>
      <arguments><argument>run</argument><argument>-Dname=it's here</argument><argument></argument></arguments>
      <environment><variable name="DB_PASSWORD">hunter2-secret</variable></environment>
      <startPriority>2</startPriority>
      <stopTimeout>90</stopTimeout>
      <stopSignal>INT</stopSignal>
      <restart policy="on-failure" backoffInitial="2" backoffMax="60" resetAfter="120"/>
      <readiness type="tcp" port="8080" interval="2"/>
      <critical>false</critical>
    </server>
    <server id="is">
      <description>Image Server</description>
      <command>bin/ImageServer</command>
      <startDelay>5</startDelay>
      <stopTimeout>60</stopTimeout>
      <liveness type="http" url="http://127.0.0.1:27345/ping" interval="10" timeout="2"/>
      <output>raw</output>
    </server>
    <server id="svg">
      <command>svgrender</command>
      <readiness type="fd" fd="3"/>
      <restart policy="never"/>
    </server>
  </servers>
</supervisor>`;

const plan = formatPlan(parse(xml, {}));
const lines = plan.split('\n');
const lineWith = (text: string) => lines.findIndex((line) => line.includes(text));

test('priority groups in ascending order, with the servers of each', () => {
  const first = lineWith('priority 1: is, svg (together, first)');
  const second = lineWith('priority 2: ps (after priority 1 is ready)');
  assert.ok(first > 0 && second > first, plan);
  assert.ok(lineWith('  is: Image Server') > first && lineWith('  ps: Platform Server') > second);
  assert.match(plan, /start plan: 3 servers in 2 priority groups/);
  assert.match(plan, /shutdown order: ps \(2\), then is, svg \(1\)/);
});

test("each server's command line (shell-quoted), working dir, stop, restart and checks", () => {
  assert.match(plan, /command +\/srv\/s7\/bin\/catalina\.sh run '-Dname=it'\\''s here' ''\n/);
  assert.match(plan, /command +svgrender\n/);
  assert.match(plan, /working directory +\/srv\/s7\n/);
  assert.match(plan, /stop +SIGINT, SIGKILL after 90s/);
  assert.match(plan, /stop +SIGTERM, SIGKILL after 60s/);
  assert.match(
    plan,
    /restart +on-failure \(not after exit 0\); backoff 2s doubling to 60s, immediate after a run of 120s/,
  );
  assert.match(plan, /restart +never/);
  assert.match(plan, /ready +tcp connect to 127\.0\.0\.1:8080 \(every 2s, timeout 1s/);
  assert.match(plan, /ready +5s after start \(startDelay\)/);
  assert.match(plan, /ready +the component writes a newline to fd 3/);
  assert.match(
    plan,
    /liveness +http GET http:\/\/127\.0\.0\.1:27345\/ping answers 200-399 \(every 10s, timeout 2s; 3 failures/,
  );
  assert.match(plan, /critical +no/);
  assert.match(plan, /output +raw/);
});

test('the config: endpoints, temp, log, restart intensity, shutdown timeout', () => {
  assert.match(plan, /endpoints +http:\/\/127\.0\.0\.1:9911/);
  assert.match(plan, /temp +\/srv\/s7\/temp/);
  assert.match(plan, /log +stdout only/);
  assert.match(plan, /restart intensity +at most 3 restarts in 30s, then give up \(exit 1\)/);
  assert.match(plan, /shutdown delay +none \(components stop at once\)/);
  assert.match(plan, /shutdown timeout +155s/);
  assert.match(
    plan,
    /log buffer +last 1000 output lines of each component kept in memory \(at most 1 MiB each\)\n/,
  );
  const off = formatPlan(
    parse(
      '<supervisor><config><logBuffer lines="0"/></config><servers><server id="a"><command>x</command></server></servers></supervisor>',
    ),
  );
  assert.match(off, /log buffer +off \(no output kept in memory/);
});

test('rev. 2: the plan shows the shutdown delay and the log retention', () => {
  const xml = `<supervisor><config><log>logs/Supervisor.log</log><logRetention days="7"/><shutdownDelay>5</shutdownDelay><shutdownTimeout>60</shutdownTimeout></config>
    <servers><server id="a"><command>x</command></server></servers></supervisor>`;
  const text = formatPlan(parse(xml));
  assert.match(text, /log retention +daily files older than 7 days are deleted/);
  assert.match(text, /shutdown delay +5s \(\/readyz 503 at once, components stop after it\)/);
  assert.match(text, /shutdown timeout +60s \(from the end of the delay\)/);
});

test('environment variable names are shown, never their values', () => {
  assert.match(plan, /environment +DB_PASSWORD \(values not shown\)/);
  assert.doesNotMatch(plan, /hunter2/);
});

test('shell quoting', () => {
  assert.equal(shellQuote('-port'), '-port');
  assert.equal(shellQuote('a b'), "'a b'");
  assert.equal(shellQuote(''), "''");
  assert.equal(shellQuote("it's"), "'it'\\''s'");
  assert.equal(shellQuote('$HOME'), "'$HOME'");
  assert.equal(shellQuote('two\nlines'), "$'two\\x0alines'");
});
