// design.md §2/§3 rev. 2: <dependsOn>, <kind>, <schedule> and <limits> as the registry reads them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertOneProblem, lineOf, parse, problemsOf } from './helpers.js';

const server = (id: string, body = '') => `    <server id="${id}">
      <command>/bin/true</command>
      ${body}
    </server>`;
const registry = (servers: string[], profiles = '') => `<?xml version="1.0"?>
<supervisor>
  <profiles>
${profiles}
  </profiles>
  <servers>
${servers.join('\n')}
  </servers>
</supervisor>
`;

test('dependsOn: repeatable, condition defaults to ready, order kept', () => {
  const xml = registry([
    server('migrate', '<kind>oneshot</kind>'),
    server('cache'),
    server(
      'is',
      '<dependsOn server="cache"/>\n      <dependsOn server="migrate" condition="succeeded"/>\n      <dependsOn server="svg" condition="started"/>',
    ),
    server('svg', '<dependsOn server="migrate" condition="completed"/>'),
  ]);
  const byId = new Map(parse(xml).servers.map((s) => [s.id, s]));
  assert.deepEqual(byId.get('is')?.dependsOn, [
    { server: 'cache', condition: 'ready' },
    { server: 'migrate', condition: 'succeeded' },
    { server: 'svg', condition: 'started' },
  ]);
  assert.deepEqual(byId.get('cache')?.dependsOn, []);
});

test("a profile's dependsOn is merged like arguments: the profiles' first, then the server's", () => {
  const xml = registry(
    [
      server('cache'),
      server('migrate', '<kind>oneshot</kind>'),
      server('db'),
      server(
        'is',
        '<profile ref="Web"/>\n      <profile ref="Db"/>\n      <dependsOn server="migrate" condition="succeeded"/>',
      ),
    ],
    `    <profile id="Web"><dependsOn server="cache"/></profile>
    <profile id="Db"><dependsOn server="db" condition="started"/></profile>`,
  );
  const is = parse(xml).servers.find((s) => s.id === 'is');
  assert.deepEqual(is?.dependsOn, [
    { server: 'cache', condition: 'ready' },
    { server: 'db', condition: 'started' },
    { server: 'migrate', condition: 'succeeded' },
  ]);
});

test('a cycle of 2 servers is refused, naming both', () => {
  const xml = registry([
    server('a', '<dependsOn server="b"/>'),
    server('b', '<dependsOn server="a" condition="started"/>'),
  ]);
  const problem = assertOneProblem(xml, {
    at: '<dependsOn server="b"/>',
    element: 'dependsOn',
    message: /dependency cycle: a -> b -> a\b/,
    where: 'server "a"',
  });
  assert.match(problem.message, /none of "a", "b" could start/);
});

test('a cycle of 3 servers is refused, naming all three, and only once', () => {
  const xml = registry([
    server('x'),
    server('a', '<dependsOn server="b"/>'),
    server('b', '<dependsOn server="c"/>'),
    server('c', '<dependsOn server="a"/>\n      <dependsOn server="x"/>'),
  ]);
  const problem = assertOneProblem(xml, {
    at: '<dependsOn server="b"/>',
    element: 'dependsOn',
    message: /dependency cycle: a -> b -> c -> a\b/,
  });
  assert.match(problem.message, /"a", "b", "c"/);
  assert.doesNotMatch(problem.message, /"x"/);
});

test('a server depending on itself is a cycle of one', () => {
  assertOneProblem(registry([server('a', '<dependsOn server="a"/>')]), {
    at: '<dependsOn server="a"/>',
    element: 'dependsOn',
    message: /dependency cycle: a -> a\b/,
  });
});

test('two cycles are two problems', () => {
  const problems = problemsOf(
    registry([
      server('a', '<dependsOn server="b"/>'),
      server('b', '<dependsOn server="a"/>'),
      server('c', '<dependsOn server="d"/>'),
      server('d', '<dependsOn server="c"/>'),
    ]),
  );
  assert.deepEqual(
    problems.map((p) => /cycle: ([a-z >-]+):/.exec(p.message)?.[1]),
    ['a -> b -> a', 'c -> d -> c'],
  );
});

test('an unknown id is refused with a suggestion', () => {
  const xml = registry([server('cache'), server('is', '<dependsOn server="cahce"/>')]);
  assertOneProblem(xml, {
    at: 'cahce',
    element: 'dependsOn',
    message: /server "cahce" is not defined: did you mean "cache"\?/,
    where: 'server "is"',
  });
  const far = registry([server('cache'), server('is', '<dependsOn server="database"/>')]);
  assertOneProblem(far, { at: 'database', element: 'dependsOn', message: /"database" is not defined$/ });
});

test("an unknown id in a profile's dependsOn names the server and the profile", () => {
  const xml = registry(
    [server('cache'), server('is', '<profile ref="Web"/>')],
    `    <profile id="Web"><dependsOn server="cach"/></profile>`,
  );
  assertOneProblem(xml, {
    at: 'server="cach"',
    element: 'dependsOn',
    message: /did you mean "cache"/,
    where: 'server "is" (from profile "Web")',
  });
});

test('a dependency on a server with another problem is not also unknown', () => {
  const problems = problemsOf(
    registry([
      '    <server id="cache"><description>no command</description></server>',
      server('is', '<dependsOn server="cache"/>'),
    ]),
  );
  assert.equal(problems.length, 1);
  assert.match(problems[0]?.message ?? '', /every server needs a <command>/);
});

for (const condition of ['succeeded', 'completed']) {
  test(`${condition} on a longrun is refused`, () => {
    const xml = registry([
      server('cache'),
      server('is', `<dependsOn server="cache" condition="${condition}"/>`),
    ]);
    assertOneProblem(xml, {
      at: 'condition=',
      element: 'dependsOn',
      message: new RegExp(`condition ${condition} needs a oneshot, and "cache" is a longrun`),
    });
  });
}

test('an unknown condition names the attribute and the choices', () => {
  assertOneProblem(
    registry([server('cache'), server('is', '<dependsOn server="cache" condition="healthy"/>')]),
    {
      at: 'healthy',
      element: 'dependsOn',
      message: /attribute condition: expected started, ready, completed or succeeded, got "healthy"/,
    },
  );
});

test('a dependency on a later priority group is refused: neither could start', () => {
  assertOneProblem(
    registry([
      server('cache', '<startPriority>2</startPriority>'),
      server('is', '<dependsOn server="cache"/>'),
    ]),
    {
      at: 'server="cache"',
      element: 'dependsOn',
      message: /"cache" has startPriority 2, after this server's 1/,
    },
  );
  // the same or a lower priority is fine
  parse(
    registry([server('cache'), server('is', '<startPriority>3</startPriority><dependsOn server="cache"/>')]),
  );
});

test('the same server twice in one server, or a dependsOn without server, is refused', () => {
  const twice = registry([
    server('cache'),
    server('is', '<dependsOn server="cache"/>\n      <dependsOn server="cache" condition="started"/>'),
  ]);
  assertOneProblem(twice, {
    at: 'condition="started"',
    element: 'dependsOn',
    message: new RegExp(
      `depends on "cache" twice \\(first on line ${lineOf(twice, '<dependsOn server="cache"/>')}\\)`,
    ),
  });
  assertOneProblem(registry([server('is', '<dependsOn condition="ready"/>')]), {
    at: '<dependsOn',
    element: 'dependsOn',
    message: /missing attribute server/,
  });
  assertOneProblem(registry([server('cache'), server('is', `<dependsOn server="cache" when="now"/>`)]), {
    at: '<dependsOn',
    element: 'dependsOn',
    message: /unknown attribute when/,
  });
});

test('kind: longrun by default; a oneshot restarts on-failure unless told otherwise', () => {
  const xml = registry([
    server('long'),
    server('once', '<kind>oneshot</kind>'),
    server('backoff', '<kind>oneshot</kind><restart backoffInitial="2"/>'),
    server('always', '<kind>oneshot</kind><restart policy="always"/>'),
    server('longBackoff', '<restart backoffInitial="2"/>'),
  ]);
  const byId = new Map(parse(xml).servers.map((s) => [s.id, s]));
  assert.equal(byId.get('long')?.kind, 'longrun');
  assert.equal(byId.get('long')?.restart.policy, 'always');
  assert.equal(byId.get('once')?.kind, 'oneshot');
  assert.deepEqual(byId.get('once')?.restart, {
    policy: 'on-failure',
    backoffInitial: 1,
    backoffMax: 30,
    resetAfter: 10,
  });
  assert.equal(byId.get('backoff')?.restart.policy, 'on-failure');
  assert.equal(byId.get('backoff')?.restart.backoffInitial, 2);
  assert.equal(byId.get('always')?.restart.policy, 'always');
  assert.equal(byId.get('longBackoff')?.restart.policy, 'always');
  assertOneProblem(registry([server('x', '<kind>daemon</kind>')]), {
    at: '<kind>',
    element: 'kind',
    message: /expected longrun or oneshot, got "daemon"/,
  });
});

test("a profile's kind sets the restart default of the servers using it", () => {
  const xml = registry(
    [server('job', '<profile ref="Job"/>')],
    '    <profile id="Job"><kind>oneshot</kind></profile>',
  );
  const [job] = parse(xml).servers;
  assert.equal(job?.kind, 'oneshot');
  assert.equal(job?.restart.policy, 'on-failure');
});

test('schedule: on a oneshot, kept as written; on a longrun it is refused', () => {
  const xml = registry([
    server('purge', '<kind>oneshot</kind><schedule cron="*/15 * * * *"/>'),
    server('report', '<kind>oneshot</kind><schedule cron="30 2 * * 1-5" timezone="Europe/Berlin"/>'),
    server('tick', '<kind>oneshot</kind><schedule cron="@every 1s"/>'),
  ]);
  const byId = new Map(parse(xml).servers.map((s) => [s.id, s]));
  assert.deepEqual(byId.get('purge')?.schedule, { cron: '*/15 * * * *' });
  assert.deepEqual(byId.get('report')?.schedule, { cron: '30 2 * * 1-5', timezone: 'Europe/Berlin' });
  assert.deepEqual(byId.get('tick')?.schedule, { cron: '@every 1s' });

  assertOneProblem(registry([server('cache', '<schedule cron="*/15 * * * *"/>')]), {
    at: '<schedule',
    element: 'schedule',
    message: /a schedule is for oneshots only/,
    where: 'server "cache"',
  });
});

test('a check on a oneshot is refused where it is written (it would never be used)', () => {
  assertOneProblem(
    registry([
      server('migrate', '<kind>oneshot</kind>\n      <readiness type="tcp" port="5432" interval="1"/>'),
    ]),
    {
      at: '<readiness',
      element: 'readiness',
      message: /a oneshot is ready when it exits 0, not by a check: remove <readiness>/,
      where: 'server "migrate"',
    },
  );
  assertOneProblem(
    registry([
      server('migrate', '<kind>oneshot</kind>\n      <liveness type="tcp" port="5432" interval="1"/>'),
    ]),
    {
      at: '<liveness',
      element: 'liveness',
      message: /a oneshot runs to completion and is not watched for liveness: remove <liveness>/,
      where: 'server "migrate"',
    },
  );
  // the same check on a longrun is fine
  assert.ok(parse(registry([server('db', '<readiness type="tcp" port="5432" interval="1"/>')])).servers[0]);
});

test('a bad cron expression or time zone is refused, naming the attribute', () => {
  const oneshot = (schedule: string) =>
    registry([server('purge', `<kind>oneshot</kind>\n      ${schedule}`)]);
  const cases: Array<[string, RegExp]> = [
    [
      '<schedule cron="61 * * * *"/>',
      /attribute cron: "61 \* \* \* \*" is not a five-field cron expression.*minute: 61/,
    ],
    ['<schedule cron="* * * *"/>', /attribute cron: .*not a five-field cron expression/],
    ['<schedule cron="0 * * * * *"/>', /attribute cron: .*not a five-field cron expression/],
    ['<schedule cron="0 0 30 2 *"/>', /attribute cron: "0 0 30 2 \*" never matches a date/],
    ['<schedule cron="@every soon"/>', /attribute cron: @every: not a duration/],
    ['<schedule cron="@every 500ms"/>', /attribute cron: @every: shorter than 1s/],
    ['<schedule cron="@every"/>', /attribute cron: expected @every DURATION/],
    [
      '<schedule cron="* * * * *" timezone="Mars/Olympus"/>',
      /attribute timezone: unknown time zone "Mars\/Olympus"/,
    ],
    ['<schedule cron="@every 1m" timezone="UTC"/>', /attribute timezone: does not apply to @every/],
    ['<schedule timezone="UTC"/>', /missing attribute cron/],
    ['<schedule cron=""/>', /attribute cron is empty/],
  ];
  for (const [schedule, message] of cases)
    assertOneProblem(oneshot(schedule), { at: '<schedule', element: 'schedule', message });
});

test('limits: sizes in powers of 1024, checkInterval 2 s by default', () => {
  const sizes: Array<[string, number]> = [
    ['1GiB', 1024 ** 3],
    ['1G', 1024 ** 3],
    ['512MiB', 512 * 1024 ** 2],
    ['300M', 300 * 1024 ** 2],
    ['64KiB', 64 * 1024],
    ['64K', 64 * 1024],
    ['4096B', 4096],
    ['1.5GiB', 1.5 * 1024 ** 3],
    ['2 g', 2 * 1024 ** 3],
  ];
  for (const [text, bytes] of sizes) {
    const [spec] = parse(registry([server('ps', `<limits memory="${text}"/>`)])).servers;
    assert.deepEqual(spec?.limits, { memory: bytes, checkInterval: 2 }, text);
  }
  const [spec] = parse(registry([server('ps', '<limits memory="1GiB" checkInterval="0.5"/>')])).servers;
  assert.deepEqual(spec?.limits, { memory: 1024 ** 3, checkInterval: 0.5 });
  assert.equal(parse(registry([server('ps')])).servers[0]?.limits, undefined);
});

test('a bad memory limit names the attribute and what was expected', () => {
  const cases: Array<[string, RegExp]> = [
    ['<limits memory="1024"/>', /attribute memory: "1024" has no unit/],
    ['<limits memory="1GB"/>', /attribute memory: "1GB": GB could mean powers of 1000 or of 1024: write GiB/],
    ['<limits memory="lots"/>', /attribute memory: expected a size such as 512MiB/],
    ['<limits memory="2TiB"/>', /attribute memory: unknown unit in "2TiB"/],
    ['<limits memory="0MiB"/>', /attribute memory: expected more than 0 bytes/],
    ['<limits memory="1GiB" checkInterval="0"/>', /attribute checkInterval: expected more than 0 seconds/],
    ['<limits memory="1GiB" checkInterval="-1"/>', /attribute checkInterval: a time must not be negative/],
    ['<limits checkInterval="5"/>', /missing attribute memory/],
    ['<limits memory="1GiB" cpu="2"/>', /unknown attribute cpu/],
  ];
  for (const [limits, message] of cases)
    assertOneProblem(registry([server('ps', limits)]), { at: '<limits', element: 'limits', message });
});

test('limits and schedule from a profile; the server replaces them', () => {
  const xml = registry(
    [server('a', '<profile ref="P"/>'), server('b', '<profile ref="P"/><limits memory="2G"/>')],
    '    <profile id="P"><kind>oneshot</kind><limits memory="1G"/><schedule cron="@every 1h"/></profile>',
  );
  const [a, b] = parse(xml).servers;
  assert.equal(a?.limits?.memory, 1024 ** 3);
  assert.equal(b?.limits?.memory, 2 * 1024 ** 3);
  assert.deepEqual(b?.schedule, { cron: '@every 1h' });
});

test('the default shutdown timeout counts each stop wave: a dependency in the group stops after', () => {
  const base = [
    server('cache', '<stopTimeout>20</stopTimeout>'),
    server('is', '<stopTimeout>30</stopTimeout>'),
  ];
  // one group stopping together: the longest, 30, plus the margin
  assert.equal(parse(registry(base)).config.shutdownTimeout, 35);
  const dependent = [
    server('cache', '<stopTimeout>20</stopTimeout>'),
    server('is', '<stopTimeout>30</stopTimeout><dependsOn server="cache"/>'),
  ];
  // is first, then cache: 30 + 20 + 5
  assert.equal(parse(registry(dependent)).config.shutdownTimeout, 55);
});
