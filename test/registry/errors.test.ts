// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} in plain strings is the registry syntax under test
// Every kind of bad input design.md §2 and issue 2 name: each is refused with a problem that
// names the file, the line and the element, and says what was expected.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { RegistryError } from '../../src/registry/errors.js';
import { loadRegistry } from '../../src/registry/load.js';
import { makeTempDir } from '../helpers/paths.js';
import { assertOneProblem, errorOf, FILE, lineOf, problemsOf, registry } from './helpers.js';

const command = '<command>bin/ImageServer</command>';

describe('the message of a problem', () => {
  test('reads file:line: <element> in server "id": what was expected, got what', () => {
    const xml = registry(`${command}\n      <stopTimeout>abc</stopTimeout>`);
    const error = errorOf(xml);
    assert.equal(
      error.message,
      `${FILE}:${lineOf(xml, 'abc')}: <stopTimeout> in server "is": expected a number of seconds, got "abc"`,
    );
  });

  test('every problem of the file is reported, one line each, in line order', () => {
    const xml = registry(
      `${command}
      <stopTimeout>-3</stopTimeout>
      <stopSignal>SIGFOO</stopSignal>
      <stopTimout>1</stopTimout>`,
      '<tcpport>http</tcpport>',
    );
    const error = errorOf(xml);
    assert.deepEqual(
      error.problems.map((p) => [p.line, p.element]),
      [
        [lineOf(xml, 'tcpport'), 'tcpport'],
        [lineOf(xml, '-3'), 'stopTimeout'],
        [lineOf(xml, 'SIGFOO'), 'stopSignal'],
        [lineOf(xml, 'stopTimout'), 'stopTimout'],
      ],
    );
    const lines = error.message.split('\n');
    assert.equal(lines.length, 4);
    for (const [i, line] of lines.entries())
      assert.ok(line.startsWith(`${FILE}:${error.problems[i]?.line}: `), line);
  });
});

describe('refused registries', () => {
  test('unknown element, with "did you mean" when close', () => {
    const xml = registry(`${command}\n      <stopTimout>5</stopTimout>`);
    assertOneProblem(xml, {
      at: 'stopTimout',
      element: 'stopTimout',
      where: 'server "is"',
      message: /unknown element: did you mean <stopTimeout>\?/,
    });
  });

  test('unknown element that is only a case away says names are case-sensitive', () => {
    const xml = registry(`${command}\n      <StartPriority>2</StartPriority>`);
    assertOneProblem(xml, {
      at: 'StartPriority',
      element: 'StartPriority',
      message: /case-sensitive.*<startPriority>/,
    });
  });

  test('unknown element with nothing close lists what is allowed', () => {
    const xml = registry(`${command}\n      <frobnicate/>`);
    const problem = assertOneProblem(xml, {
      at: 'frobnicate',
      element: 'frobnicate',
      message: /expected .*<command>/,
    });
    assert.doesNotMatch(problem.message, /did you mean/);
  });

  test('a known element in the wrong place says where it belongs', () => {
    const xml = registry(`${command}\n      <tcpport>9910</tcpport>`);
    assertOneProblem(xml, { at: '<tcpport>', element: 'tcpport', message: /belongs in <config>/ });
  });

  test('a profile referring to a profile', () => {
    const xml = registry(
      '<profile ref="A"/>',
      '',
      '<profiles>\n    <profile id="A"><profile ref="B"/><command>x</command></profile>\n    <profile id="B"/>\n  </profiles>',
    );
    assertOneProblem(xml, {
      at: '<profile ref="B"/>',
      element: 'profile',
      where: 'profile "A"',
      message: /a profile cannot refer to another profile: put the <profile ref> on the server/,
    });
  });

  test('unknown element in config, with "did you mean"', () => {
    const xml = registry(command, '<tcpprot>9910</tcpprot>');
    assertOneProblem(xml, {
      at: 'tcpprot',
      element: 'tcpprot',
      where: 'config',
      message: /did you mean <tcpport>/,
    });
  });

  test('unknown attribute, with "did you mean"', () => {
    const xml = registry(`${command}\n      <restart policy="always" backofMax="5"/>`);
    assertOneProblem(xml, {
      at: '<restart',
      element: 'restart',
      message: /unknown attribute backofMax: did you mean backoffMax\?/,
    });
  });

  test('missing command', () => {
    const xml = registry('<description>Image Server</description>');
    assertOneProblem(xml, {
      at: '<server id="is">',
      element: 'command',
      where: 'server "is"',
      message: /missing: every server needs a <command>/,
    });
  });

  test('empty command', () => {
    const xml = registry('<command>  </command>');
    assertOneProblem(xml, {
      at: '<command>',
      element: 'command',
      message: /is empty: expected the program to run/,
    });
  });

  test('profile that is not defined (and no second complaint about the command it would have given)', () => {
    const xml = registry(
      '<profile ref="ImageServer46"/>',
      '',
      '<profiles><profile id="ImageServer64"><command>x</command></profile></profiles>',
    );
    assertOneProblem(xml, {
      at: 'ImageServer46',
      element: 'profile',
      where: 'server "is"',
      message: /profile "ImageServer46" is not defined: did you mean "ImageServer64"\?/,
    });
  });

  test('profile ref without a <profiles> section', () => {
    const xml = registry('<profile ref="Tomcat"/>');
    assertOneProblem(xml, {
      at: 'Tomcat',
      element: 'profile',
      message: /"Tomcat" is not defined \(there is no <profiles> section\)/,
    });
  });

  test('duplicate server id', () => {
    const xml = `<supervisor>
  <servers>
    <server id="is"><command>a</command></server>
    <server id="svg"><command>b</command></server>
    <server id="is"><command>c</command></server>
  </servers>
</supervisor>`;
    assertOneProblem(xml, {
      at: '<command>c',
      element: 'server',
      message: /duplicate server id "is" \(first defined on line 3\)/,
    });
  });

  test('duplicate profile id', () => {
    const xml = registry(
      command,
      '',
      `<profiles>
    <profile id="P"><user>a</user></profile>
    <profile id="P"><user>b</user></profile>
  </profiles>`,
    );
    assertOneProblem(xml, {
      at: '<user>b',
      element: 'profile',
      message: /duplicate profile id "P" \(first defined on line \d+\)/,
    });
  });

  test('server without an id, and an id that cannot be used in a URL', () => {
    const xml = `<supervisor>
  <servers>
    <server><command>a</command></server>
    <server id="image server"><command>b</command></server>
  </servers>
</supervisor>`;
    const problems = problemsOf(xml);
    assert.equal(problems.length, 2);
    assert.equal(problems[0]?.line, 3);
    assert.match(problems[0]?.message ?? '', /missing attribute id/);
    assert.equal(problems[1]?.line, 4);
    assert.match(problems[1]?.message ?? '', /"image server" is not a usable id/);
  });

  test('negative time', () => {
    const xml = registry(`${command}\n      <startDelay>-5</startDelay>`);
    assertOneProblem(xml, {
      at: 'startDelay',
      element: 'startDelay',
      message: /must not be negative, got "-5"/,
    });
  });

  test('negative time in an attribute', () => {
    const xml = registry(`${command}\n      <readiness type="tcp" port="80" interval="-1"/>`);
    assertOneProblem(xml, {
      at: 'readiness',
      element: 'readiness',
      message: /attribute interval: a time must not be negative/,
    });
  });

  test('malformed numbers: time, port, priority, trace level', () => {
    for (const [body, config, element, message] of [
      [
        `${command}<stopTimeout>1O</stopTimeout>`,
        '',
        'stopTimeout',
        /expected a number of seconds, got "1O"/,
      ],
      [`${command}<startDelay>5s</startDelay>`, '', 'startDelay', /expected a number of seconds, got "5s"/],
      [
        `${command}<startPriority>1.5</startPriority>`,
        '',
        'startPriority',
        /expected a whole number, got "1.5"/,
      ],
      [command, '<tcpport>99100</tcpport>', 'tcpport', /expected a TCP port from 0 to 65535, got 99100/],
      [command, '<tracelevel>9</tracelevel>', 'tracelevel', /expected a trace level .* from 1 to 4, got 9/],
      [
        command,
        '<restartIntensity max="ten"/>',
        'restartIntensity',
        /attribute max: expected a whole number of restarts, got "ten"/,
      ],
      [`${command}<stopTimeout>99999999</stopTimeout>`, '', 'stopTimeout', /too long \(at most 2147483\)/],
      [
        command,
        '<shutdownDelay>2 s</shutdownDelay>',
        'shutdownDelay',
        /expected a number of seconds, got "2 s"/,
      ],
      [
        command,
        '<logRetention days="1.5"/>',
        'logRetention',
        /attribute days: expected a whole number of days .*, got "1.5"/,
      ],
      [
        command,
        '<logBuffer lines="-1"/>',
        'logBuffer',
        /attribute lines: expected a whole number of lines \(0 keeps none\) from 0 to 1000000, got -1/,
      ],
      [
        command,
        '<logBuffer lines="many"/>',
        'logBuffer',
        /attribute lines: expected a whole number of lines/,
      ],
      [command, '<logBuffer size="5"/>', 'logBuffer', /unknown attribute size/],
    ] as const) {
      const xml = registry(body, config);
      const [problem] = problemsOf(xml);
      assert.equal(problem?.element, element, xml);
      assert.match(problem?.message ?? '', message);
      assert.equal(problem?.line, lineOf(xml, `<${element}`));
    }
  });

  test('unknown signal name', () => {
    const xml = registry(`${command}\n      <stopSignal>SIGSTOPP</stopSignal>`);
    assertOneProblem(xml, {
      at: 'SIGSTOPP',
      element: 'stopSignal',
      message: /unknown signal "SIGSTOPP": expected a name such as SIGTERM/,
    });
  });

  test('unknown check type, and fd as a liveness check', () => {
    const xml = registry(`${command}
      <readiness type="grpc" port="1"/>
      <liveness type="fd" fd="3"/>`);
    const problems = problemsOf(xml);
    assert.equal(problems.length, 2, problems.map((p) => p.message).join('\n'));
    assert.deepEqual([problems[0]?.line, problems[0]?.element], [lineOf(xml, 'grpc'), 'readiness']);
    assert.match(problems[0]?.message ?? '', /unknown check type "grpc": expected http, tcp, exec or fd/);
    assert.deepEqual([problems[1]?.line, problems[1]?.element], [lineOf(xml, '<liveness'), 'liveness']);
    assert.match(
      problems[1]?.message ?? '',
      /unknown check type "fd": expected http, tcp or exec \(fd is for readiness only\)/,
    );
  });

  test('check without type, without its target, with an attribute of another type', () => {
    for (const [check, message] of [
      ['<readiness url="http://x/"/>', /missing attribute type: expected type="http", "tcp", "exec", "fd"/],
      ['<readiness type="http"/>', /a http check needs attribute url/],
      ['<readiness type="tcp"/>', /a tcp check needs attribute port/],
      ['<readiness type="exec"/>', /a exec check needs attribute command/],
      ['<readiness type="fd"/>', /a fd check needs attribute fd/],
      [
        '<readiness type="fd" fd="1"/>',
        /attribute fd: expected a descriptor number .* from 3 to 1023, got 1/,
      ],
      [
        '<readiness type="http" url="ftp://x/"/>',
        /attribute url: expected an http:\/\/ or https:\/\/ URL, got "ftp:\/\/x\/"/,
      ],
      ['<readiness type="tcp" port="80" url="http://x/"/>', /attribute url does not apply to a tcp check/],
      [
        '<liveness type="http" url="http://x/" failureThreshold="0"/>',
        /attribute failureThreshold: expected a whole number of failures from 1/,
      ],
      [
        '<liveness type="http" url="http://x/" timeout="0"/>',
        /attribute timeout: expected more than 0 seconds/,
      ],
      ['<readiness type="tcp" port="80">text</readiness>', /takes attributes only, not text/],
    ] as const) {
      const xml = registry(`${command}\n      ${check}`);
      const problems = problemsOf(xml);
      assert.equal(problems.length, 1, `${check}: ${problems.map((p) => p.message).join(' | ')}`);
      assert.match(problems[0]?.message ?? '', message, check);
      assert.equal(problems[0]?.line, lineOf(xml, check));
    }
  });

  test('restart: unknown policy, a cap below the first backoff', () => {
    for (const [restart, message] of [
      [
        '<restart policy="sometimes"/>',
        /attribute policy: expected always, on-failure or never, got "sometimes"/,
      ],
      [
        '<restart backoffInitial="10" backoffMax="5"/>',
        /backoffMax \(5\) is less than backoffInitial \(10\)/,
      ],
    ] as const) {
      const xml = registry(`${command}\n      ${restart}`);
      assertOneProblem(xml, { at: restart, element: 'restart', message });
    }
  });

  test('critical and output take only their values', () => {
    const xml = registry(`${command}\n      <critical>maybe</critical>\n      <output>xml</output>`);
    const problems = problemsOf(xml);
    assert.deepEqual(
      problems.map((p) => p.element),
      ['critical', 'output'],
    );
    assert.match(problems[0]?.message ?? '', /expected true or false, got "maybe"/);
    assert.match(problems[1]?.message ?? '', /expected json or raw, got "xml"/);
  });

  test('a single-valued element given twice', () => {
    const xml = registry(`${command}\n      <command>bin/Other</command>`);
    assertOneProblem(xml, {
      at: 'bin/Other',
      element: 'command',
      message: /given twice \(first on line \d+\): only one <command>/,
    });
  });

  test('text where elements belong', () => {
    const xml = registry(`${command}\n      stray words`);
    assertOneProblem(xml, {
      at: '<server id="is">',
      element: 'server',
      message: /unexpected text "stray words": <server> holds elements/,
    });
  });

  test('an element inside a value', () => {
    const xml = registry('<command>bin/<b>x</b></command>');
    assertOneProblem(xml, {
      at: '<command>',
      element: 'b',
      message: /not allowed inside <command>: <command> takes a text value/,
    });
  });

  test('environment: missing name, duplicate variable', () => {
    const xml = registry(`${command}
      <environment>
        <variable>x</variable>
        <variable name="A">1</variable>
        <variable name="A">2</variable>
      </environment>`);
    const problems = problemsOf(xml);
    assert.equal(problems.length, 2);
    assert.match(problems[0]?.message ?? '', /missing attribute name/);
    assert.equal(problems[1]?.line, lineOf(xml, '>2<'));
    assert.match(problems[1]?.message ?? '', /variable A is set twice in one <environment>/);
  });

  test('the wrong root element', () => {
    const xml = '<?xml version="1.0"?>\n<Supervisor><servers/></Supervisor>';
    assertOneProblem(xml, {
      at: '<Supervisor>',
      element: 'Supervisor',
      message: /the root element must be <supervisor>.*case-sensitive/,
    });
  });

  test('no servers, and servers with no server in them', () => {
    assertOneProblem('<supervisor>\n  <config/>\n</supervisor>', {
      at: '<supervisor>',
      element: 'servers',
      message: /missing: a registry needs <servers>/,
    });
    assertOneProblem('<supervisor>\n  <servers>\n  </servers>\n</supervisor>', {
      at: '<servers>',
      element: 'servers',
      message: /no <server> in it: there is nothing to supervise/,
    });
  });

  test('an unset ${VAR} without a default', () => {
    const xml = registry(`${command}\n      <arguments><argument>\${IS_PORT}</argument></arguments>`);
    assertOneProblem(xml, {
      at: 'IS_PORT',
      element: 'argument',
      message: /environment variable IS_PORT is not set/,
    });
  });

  test('an unknown entity', () => {
    const xml = registry('<command>bin/a&nbsp;b</command>');
    assertOneProblem(xml, {
      at: '&nbsp;',
      element: 'command',
      message: /unknown entity &nbsp;: only &lt; &gt; &amp;/,
    });
  });

  test('a bare ampersand', () => {
    const xml = registry(`${command}\n      <description>Q & A</description>`);
    assertOneProblem(xml, {
      at: 'Q & A',
      element: '',
      message: /not well-formed XML: a bare "&" must be written &amp;/,
    });
  });
});

describe('files that are not registries', () => {
  test('empty file', () => {
    for (const text of ['', '\n\n   \n']) {
      const [problem, ...rest] = problemsOf(text);
      assert.equal(rest.length, 0);
      assert.equal(problem?.line, 1);
      assert.match(problem?.message ?? '', /the file is empty: expected a <supervisor> document/);
      assert.match(errorOf(text).message, /^conf\/SupervisorRegistry\.xml:1: the file is empty/);
    }
  });

  test('not XML', () => {
    const [problem, ...rest] = problemsOf('tcpport = 9910\nlog = logs/Supervisor.log\n');
    assert.equal(rest.length, 0);
    assert.equal(problem?.line, 1);
    assert.match(problem?.message ?? '', /not well-formed XML/);
  });

  test('unclosed tag names the tag and its line', () => {
    const xml =
      '<supervisor>\n  <servers>\n    <server id="is">\n      <command>x</command>\n  </servers>\n</supervisor>\n';
    const [problem, ...rest] = problemsOf(xml);
    assert.equal(rest.length, 0);
    assert.equal(problem?.element, 'server');
    assert.match(
      problem?.message ?? '',
      /not well-formed XML: Expected closing tag 'server' \(opened in line 3/,
    );
    assert.equal(problem?.line, 5);
  });

  test('truncated file', () => {
    const xml = '<supervisor>\n  <servers>\n    <server id="is">\n      <comm';
    const [problem, ...rest] = problemsOf(xml);
    assert.equal(rest.length, 0);
    assert.ok((problem?.line ?? 0) >= 1);
    assert.match(problem?.message ?? '', /not well-formed XML/);
    const cut = '<supervisor>\n  <servers>\n    <server id="is">\n';
    assertOneProblem(cut, {
      at: '<server id',
      element: 'server',
      message: /the file ends with tags still open: <supervisor>, <servers>, <server> \(is it truncated\?\)/,
    });
  });

  test('two root elements', () => {
    const xml =
      '<supervisor><servers><server id="a"><command>a</command></server></servers></supervisor>\n<supervisor/>';
    assertOneProblem(xml, { at: '<supervisor/>', element: 'supervisor', message: /a second root element/ });
  });

  test('a missing file, a directory, a FIFO: named, never a stack trace', async () => {
    const { execFileSync } = await import('node:child_process');
    const dir = makeTempDir();
    const fifo = join(dir, 'fifo.xml');
    execFileSync('mkfifo', [fifo]);
    mkdirSync(join(dir, 'conf'));
    for (const [file, message] of [
      [join(dir, 'nope.xml'), /nope\.xml: cannot read the registry: no such file/],
      [join(dir, 'conf'), /conf: is a directory, not a registry file/],
      [fifo, /fifo\.xml: is not a regular file/],
    ] as const) {
      assert.throws(
        () => loadRegistry(file, dir, {}),
        (error: unknown) =>
          error instanceof RegistryError && message.test(error.message) && error.problems[0]?.file === file,
      );
    }
  });

  test('a file larger than any registry is refused before it is parsed', () => {
    const dir = makeTempDir();
    const file = join(dir, 'big.xml');
    writeFileSync(file, `<supervisor>${' '.repeat(2 * 1024 * 1024)}</supervisor>`);
    assert.throws(() => loadRegistry(file, dir, {}), /larger than 1024 KiB/);
  });
});
