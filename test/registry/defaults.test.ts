// design.md §2, "Defaults where an element is absent", and how paths and commands resolve.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Registry } from '../../src/registry/model.js';
import { parse, registry } from './helpers.js';

test('a minimal registry gets every default of the table', () => {
  const result = parse(
    '<supervisor><servers><server id="is"><command>ImageServer</command></server></servers></supervisor>',
  );
  const expected: Registry = {
    file: '/srv/s7/conf/SupervisorRegistry.xml',
    home: '/srv/s7',
    config: {
      tcpport: 9910,
      host: '0.0.0.0',
      temp: '/srv/s7/temp',
      tracelevel: 2,
      tracestatsinterval: 600,
      restartIntensity: { max: 10, period: 60 },
      logBuffer: { lines: 1000 },
      shutdownTimeout: 15,
      shutdownDelay: 0,
      logRetentionDays: 14,
    },
    servers: [
      {
        id: 'is',
        description: '',
        command: 'ImageServer',
        args: [],
        shown: { command: 'ImageServer', args: [] },
        env: {},
        envFiles: [],
        workingDirectory: '/srv/s7',
        startPriority: 1,
        startDelay: 0,
        stopTimeout: 10,
        stopSignal: 'SIGTERM',
        restart: { policy: 'always', backoffInitial: 1, backoffMax: 30, resetAfter: 10 },
        critical: true,
        output: 'json',
        kind: 'longrun',
        dependsOn: [],
      },
    ],
  };
  // the helpers parse as 'conf/SupervisorRegistry.xml' relative to the test's cwd
  assert.deepEqual({ ...result, file: expected.file }, expected);
  assert.equal(result.config.log, undefined);
});

test('attributes left out of a present element take their defaults', () => {
  const [server] = parse(
    registry(`<command>x</command>
      <restart policy="on-failure"/>
      <readiness type="tcp" port="80"/>
      <liveness type="http" url="http://127.0.0.1/" failureThreshold="5"/>`),
  ).servers;
  assert.deepEqual(server?.restart, {
    policy: 'on-failure',
    backoffInitial: 1,
    backoffMax: 30,
    resetAfter: 10,
  });
  assert.deepEqual(server?.readiness, {
    type: 'tcp',
    host: '127.0.0.1',
    port: 80,
    interval: 10,
    timeout: 1,
    failureThreshold: 3,
  });
  assert.deepEqual(server?.liveness, {
    type: 'http',
    url: 'http://127.0.0.1/',
    interval: 10,
    timeout: 1,
    failureThreshold: 5,
  });
  const intensity = parse(registry('<command>x</command>', '<restartIntensity period="30"/>')).config
    .restartIntensity;
  assert.deepEqual(intensity, { max: 10, period: 30 });
  const buffer = (config: string) => parse(registry('<command>x</command>', config)).config.logBuffer;
  assert.deepEqual(buffer('<logBuffer/>'), { lines: 1000 });
  assert.deepEqual(buffer('<logBuffer lines="50"/>'), { lines: 50 });
  assert.deepEqual(buffer('<logBuffer lines="0"/>'), { lines: 0 });
});

test('shutdownTimeout defaults to the longest stopTimeout of each priority group, summed, plus 5', () => {
  const xml = `<supervisor><servers>
    <server id="a"><command>x</command><startPriority>1</startPriority><stopTimeout>20</stopTimeout></server>
    <server id="b"><command>x</command><startPriority>1</startPriority><stopTimeout>45</stopTimeout></server>
    <server id="c"><command>x</command><startPriority>3</startPriority><stopTimeout>0.5</stopTimeout></server>
    <server id="d"><command>x</command><startPriority>2</startPriority></server>
  </servers></supervisor>`;
  assert.equal(parse(xml).config.shutdownTimeout, 45 + 0.5 + 10 + 5);
  const given = xml.replace('<servers>', '<config><shutdownTimeout>7</shutdownTimeout></config><servers>');
  assert.equal(parse(given).config.shutdownTimeout, 7);
});

test('relative paths resolve against home; a command without a slash is kept for PATH', () => {
  const result = parse(
    registry(
      `<command>bin/ImageServer</command>
      <workingDirectory>work/is</workingDirectory>
      <readiness type="exec" command="bin/ready"/>
      <liveness type="exec" command="curl"><argument>-f</argument></liveness>`,
      '<log>logs/Supervisor.log</log><temp>/var/tmp/s7</temp>',
    ),
  );
  assert.equal(result.config.log, '/srv/s7/logs/Supervisor.log');
  assert.equal(result.config.temp, '/var/tmp/s7');
  const [server] = result.servers;
  assert.equal(server?.command, '/srv/s7/bin/ImageServer');
  assert.equal(server?.workingDirectory, '/srv/s7/work/is');
  assert.equal(server?.readiness?.type === 'exec' && server.readiness.command, '/srv/s7/bin/ready');
  assert.equal(server?.liveness?.type === 'exec' && server.liveness.command, 'curl');
  assert.equal(parse(registry('<command>./run.sh</command>')).servers[0]?.command, '/srv/s7/run.sh');
  assert.equal(parse(registry('<command>/usr/bin/java</command>')).servers[0]?.command, '/usr/bin/java');
});

test('values: decimals for times, signal spellings, booleans, trimmed text, entities', () => {
  const [server] = parse(
    registry(`<command>
        bin/Image&amp;Server
      </command>
      <description> Image &lt;Server&gt; &#x263A; </description>
      <startDelay>.5</startDelay>
      <stopTimeout>2.25</stopTimeout>
      <stopSignal>quit</stopSignal>
      <critical>no</critical>
      <user>imgsrv:imgsrv</user>
      <arguments><argument><![CDATA[a&b <c>]]></argument><argument/></arguments>`),
  ).servers;
  assert.equal(server?.command, '/srv/s7/bin/Image&Server');
  assert.equal(server?.description, 'Image <Server> \u263a');
  assert.equal(server?.startDelay, 0.5);
  assert.equal(server?.stopTimeout, 2.25);
  assert.equal(server?.stopSignal, 'SIGQUIT');
  assert.equal(server?.critical, false);
  assert.equal(server?.user, 'imgsrv:imgsrv');
  assert.deepEqual(server?.args, ['a&b <c>', '']);
  for (const spelling of ['SIGTERM', 'TERM', 'sigterm', 'Term']) {
    assert.equal(
      parse(registry(`<command>x</command><stopSignal>${spelling}</stopSignal>`)).servers[0]?.stopSignal,
      'SIGTERM',
    );
  }
});

test('rev. 2: <shutdownDelay> (seconds, default 0) and <logRetention days> (default 14, 0 keeps all)', () => {
  const body = '<command>x</command>';
  const plain = parse(registry(body)).config;
  assert.equal(plain.shutdownDelay, 0);
  assert.equal(plain.logRetentionDays, 14);
  const given = parse(
    registry(
      body,
      '<shutdownDelay>2.5</shutdownDelay><logRetention days="3"/><shutdownTimeout>9</shutdownTimeout>',
    ),
  ).config;
  assert.equal(given.shutdownDelay, 2.5);
  assert.equal(given.logRetentionDays, 3);
  // the delay does not eat into the timeout: it counts from the end of the delay
  assert.equal(given.shutdownTimeout, 9);
  assert.equal(parse(registry(body, '<logRetention days="0"/>')).config.logRetentionDays, 0);
  assert.equal(parse(registry(body, '<logRetention/>')).config.logRetentionDays, 14);
});
