// Hostile or broken input (issue 10): a binary file, control characters, terminal escape
// sequences, nesting 60,000 deep, a file far too big. Every problem is one line of bounded length
// naming the file and the line, with control characters shown escaped; nothing overflows the stack.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { formatProblem, MAX_MESSAGE_CHARS } from '../../src/registry/errors.js';
import { formatPlan } from '../../src/registry/plan.js';
import { escapeControls, quoted } from '../../src/registry/values.js';
import { MAX_NESTING, MAX_REGISTRY_BYTES, nestingTooDeep } from '../../src/registry/xml.js';
import { makeTempDir } from '../helpers/paths.js';
import { killAllStarted, type RunningCli, runCli } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';
import { assertOneProblem, errorOf, FILE, parse, problemsOf, registry } from './helpers.js';

after(killAllStarted);

/** the CLI's exit code, waited for with a deadline */
const exitWithin = (cli: RunningCli, timeout = 20_000) =>
  waitFor(() => cli.exitCode(), { timeout, message: 'the CLI to exit' });

/** any C0 control but the line feed that ends each line, DEL, C1 controls, bidi overrides */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is looked for
const rawControl = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028-\u202e\u2066-\u2069]/;
const stackTrace = /^\s+at .*:\d+:\d+\)?$/m;
/** file:line: ..., nothing longer than a path, an element, a where and a bounded message */
const MAX_LINE = 200 + 20 + 70 + 110 + MAX_MESSAGE_CHARS + 10;

async function check(text: string | Buffer) {
  const home = makeTempDir('s7sup-hostile-');
  mkdirSync(join(home, 'conf'));
  writeFileSync(join(home, 'conf/SupervisorRegistry.xml'), text);
  const cli = runCli(['check', '--registry', 'conf/SupervisorRegistry.xml'], { cwd: home });
  const code = await exitWithin(cli);
  return { code, stdout: cli.stdout.join('\n'), stderr: cli.stderr.join('\n'), lines: cli.stderr };
}

function assertSafeLines(lines: string[]): void {
  assert.ok(lines.length > 0, 'at least one problem line');
  for (const line of lines) {
    assert.doesNotMatch(line, rawControl, `raw control character in ${JSON.stringify(line)}`);
    assert.ok(line.length <= MAX_LINE, `line of ${line.length} characters`);
    assert.match(line, /^conf\/SupervisorRegistry\.xml:\d+: /);
  }
}

/** a deterministic "binary file": an ELF-like header, then every byte value, then noise */
function binaryFile(): Buffer {
  const bytes: number[] = [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  for (let i = 0; i < 256; i++) bytes.push(i);
  let seed = 12345;
  for (let i = 0; i < 4096; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    bytes.push(seed & 0xff);
  }
  return Buffer.from(bytes);
}

test('check on a binary file: exit 2, one line naming file and line, no raw control character', async () => {
  const result = await check(binaryFile());
  assert.equal(result.code, 2);
  assert.equal(result.stdout, '');
  assertSafeLines(result.lines);
  assert.equal(result.lines.length, 1);
  assert.match(
    result.stderr,
    /:1: not well-formed XML: character \\x02 is not allowed in XML \(is this a binary file\?\)/,
  );
  assert.doesNotMatch(result.stderr, stackTrace);
});

test('a NUL, an escape sequence or a bell inside a value: refused at its line, shown escaped', async () => {
  for (const [bad, shown] of [
    ['\x00', '\\x00'],
    ['\x1b[2J', '\\x1b'],
    ['\x07', '\\x07'],
    ['\x0c', '\\x0c'],
  ] as const) {
    const xml = registry(`<command>bin/is</command>\n      <description>a${bad}b</description>`);
    const result = await check(xml);
    assert.equal(result.code, 2, `${JSON.stringify(bad)}: ${result.stdout}`);
    assertSafeLines(result.lines);
    assert.equal(result.lines.length, 1, result.stderr);
    const line = xml.split('\n').findIndex((l) => l.includes('<description>')) + 1;
    assert.ok(result.stderr.startsWith(`conf/SupervisorRegistry.xml:${line}: `), result.stderr);
    assert.ok(result.stderr.includes(`character ${shown} is not allowed`), result.stderr);
  }
});

test('a character reference to a control character is refused like the character itself', () => {
  assertOneProblem(registry('<command>bin/is</command>\n<description>x&#x1b;[31m</description>'), {
    at: '<description>',
    element: 'description',
    message: /&#x1b; is not a character XML allows/,
  });
  assertOneProblem(registry('<command>bin/is</command>\n<description>x&#0;</description>'), {
    at: '<description>',
    element: 'description',
    message: /&#0; is not a character XML allows/,
  });
  // tab, line feed and carriage return are characters XML allows
  assert.equal(parse(registry('<command>a&#9;b</command>')).servers[0]?.command, 'a\tb');
});

test('names and values with control characters are shown escaped, in messages and in the plan', () => {
  // the validator quotes a bad tag name; the problem line shows its control characters escaped
  const badName = errorOf(registry('<command>x</command>\n<fo\x7fo\u202e/>'));
  assert.doesNotMatch(badName.message, rawControl);
  assert.match(badName.message, /fo\\x7fo\\u202e/);
  // a value with allowed but unprintable characters (DEL, C1, bidi override, line breaks)
  const plan = formatPlan(
    parse(
      registry(
        '<command>bin/is</command><description>Image\u202eServer\x85 &#10;next line</description><workingDirectory>/srv/\x7f</workingDirectory><arguments><argument>a\u2028b</argument></arguments>',
      ),
    ),
  );
  assert.doesNotMatch(plan.replace(/\n/g, ''), rawControl);
  assert.match(plan, /is: Image\\u202eServer\\x85 \\nnext line/);
  assert.match(plan, /working directory +\/srv\/\\x7f/);
});

test('formatProblem: one line, control characters escaped, message and path bounded', () => {
  const line = formatProblem({
    file: `/tmp/${'d'.repeat(5000)}\x1b[31m/registry.xml`,
    line: 7,
    element: `x\x00${'e'.repeat(500)}`,
    message: `bad\r\n\x00\x1b[2J\u2028${'m'.repeat(100_000)}`,
    where: 'server "is"',
  });
  assert.doesNotMatch(line, rawControl);
  assert.ok(!line.includes('\n'));
  assert.ok(line.length <= MAX_LINE, `${line.length} characters`);
  assert.match(
    line,
    /^\.\.\.d+\\x1b\[31m\/registry\.xml:7: <x\\x00e+\.\.\.> in server "is": bad\\r\\n\\x00\\x1b\[2J\\u2028m+\.\.\.$/,
  );
});

test('escapeControls and quoted: escapes, quotes, bounds, never cut inside an escape or a pair', () => {
  assert.equal(escapeControls('a\x00b\tc\x1b\x9b\u202e\ud800'), 'a\\x00b\\tc\\x1b\\x9b\\u202e\\ud800');
  assert.equal(escapeControls('emoji 😀 ok'), 'emoji 😀 ok');
  assert.equal(escapeControls('\x00\x00\x00', 9), '\\x00\\x00...');
  assert.equal(escapeControls('ab😀', 3), 'ab...');
  assert.equal(quoted('say "hi"\\\x00'), '"say \\"hi\\"\\\\\\x00"');
  assert.equal(quoted('x'.repeat(100)), `"${'x'.repeat(60)}..."`);
});

test(`nesting: ${MAX_NESTING} levels pass the limit, one more is refused at its line`, () => {
  const nest = (depth: number) => `${'<a>\n'.repeat(depth)}${'</a>'.repeat(depth)}`;
  assert.equal(nestingTooDeep(nest(MAX_NESTING), MAX_NESTING), undefined);
  assert.deepEqual(nestingTooDeep(nest(MAX_NESTING + 1), MAX_NESTING), { at: MAX_NESTING * 4, name: 'a' });
  // self-closing tags, comments, CDATA, processing instructions and ">" or "/>" inside quoted
  // attribute values do not nest
  const flat = `<?xml version="1.0"?><r>${'<x a="/>" b=\'>\'/><!-- <y> --><![CDATA[<z>]]><?pi <w>?>'.repeat(1000)}</r>`;
  assert.equal(nestingTooDeep(flat, 1), undefined);
  assert.deepEqual(nestingTooDeep('<r><x a="/"><y/></x></r>', 1), { at: 3, name: 'x' });
});

test('a registry nested 60,000 deep is refused at the line where it passed the limit, quickly', () => {
  const depth = 60_000;
  const head = '<?xml version="1.0"?>\n<supervisor>\n  <servers>\n    <server id="is">\n';
  const xml = `${head}${'<a>\n'.repeat(depth)}${'</a>'.repeat(depth)}\n</server></servers></supervisor>\n`;
  const started = performance.now();
  const problems = problemsOf(xml);
  const ms = performance.now() - started;
  assert.equal(problems.length, 1);
  const [problem] = problems;
  // supervisor, servers, server and MAX_NESTING - 3 <a>s fit; the next <a> is one too many
  assert.equal(problem?.line, 4 + MAX_NESTING - 3 + 1);
  assert.equal(problem?.element, 'a');
  assert.match(problem?.message ?? '', new RegExp(`nested more than ${MAX_NESTING} deep`));
  assert.ok(ms < 1000, `took ${ms.toFixed(0)} ms`);
  // all on one line: still a line, and no stack overflow whatever the shape
  const oneLine = `<supervisor>${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}</supervisor>`;
  assert.match(problemsOf(oneLine)[0]?.message ?? '', /nested more than/);
  const unclosed = `<supervisor>\n${'<a>'.repeat(depth)}`;
  assert.match(problemsOf(unclosed)[0]?.message ?? '', /nested more than/);
});

test('check on a registry nested 60,000 deep: exit 2, the line, no stack trace', async () => {
  const depth = 60_000;
  const xml = `<supervisor>\n<servers>\n${'<a>\n'.repeat(depth)}${'</a>'.repeat(depth)}\n</servers></supervisor>\n`;
  const result = await check(xml);
  assert.equal(result.code, 2);
  assertSafeLines(result.lines);
  assert.deepEqual(result.lines, [
    `conf/SupervisorRegistry.xml:${2 + MAX_NESTING - 2 + 1}: <a>: elements nested more than ${MAX_NESTING} deep: a registry needs about 6 levels, this is not one`,
  ]);
});

test('size: a file over the limit is refused before it is read, even a sparse 20 GiB one', async () => {
  const home = makeTempDir('s7sup-hostile-');
  mkdirSync(join(home, 'conf'));
  const file = join(home, 'conf/SupervisorRegistry.xml');
  const valid = registry('<command>bin/is</command>');
  // one byte over the limit: refused; at the limit: read (and then refused as not XML past the end)
  writeFileSync(file, valid.padEnd(MAX_REGISTRY_BYTES + 1, ' '));
  let cli = runCli(['check', '--registry', file]);
  assert.equal(await exitWithin(cli), 2);
  assert.deepEqual(cli.stderr, [`${file}: the file is larger than 1024 KiB: not a registry`]);
  writeFileSync(file, valid.padEnd(MAX_REGISTRY_BYTES, ' '));
  cli = runCli(['check', '--registry', file]);
  assert.equal(await exitWithin(cli), 0, cli.stderr.join('\n'));

  // sparse: 20 GiB that a reader would take minutes (and all memory) to read
  writeFileSync(file, 'x');
  truncateSync(file, 20 * 1024 ** 3);
  try {
    assert.equal(statSync(file).size, 20 * 1024 ** 3);
    const started = performance.now();
    cli = runCli(['check', '--registry', file]);
    assert.equal(await exitWithin(cli), 2);
    assert.deepEqual(cli.stderr, [`${file}: the file is larger than 1024 KiB: not a registry`]);
    assert.ok(performance.now() - started < 10_000);
  } finally {
    rmSync(file);
  }
});

test('size: text given directly is measured in bytes, not characters', () => {
  // 400 Ki three-byte characters: fewer than 1 Mi characters, more than 1 MiB of UTF-8
  const text = registry(`<command>bin/is</command><description>${'€'.repeat(400 * 1024)}</description>`);
  assert.ok(text.length < MAX_REGISTRY_BYTES && Buffer.byteLength(text) > MAX_REGISTRY_BYTES);
  assertOneProblem(text, { at: '<?xml', element: '', message: /larger than 1024 KiB/ });
});

test('names the parser treats specially are reported as written, at their line', () => {
  for (const name of ['toString', 'hasOwnProperty', 'valueOf']) {
    assertOneProblem(registry(`<command>x</command>\n<${name}/>`), {
      at: `<${name}/>`,
      element: name,
      message: /unknown element inside <server>/,
    });
  }
  for (const [text, at] of [
    ['<command>x</command>\n<__proto__/>', '<__proto__/>'],
    ['<command>x</command>\n<description __proto__="y">d</description>', '__proto__='],
    ['<command>x</command>\n<constructor/>', '<constructor/>'],
  ] as const) {
    const problems = problemsOf(registry(text));
    assert.equal(problems.length, 1);
    assert.equal(problems[0]?.file, FILE);
    assert.equal(
      problems[0]?.line,
      registry(text)
        .split('\n')
        .findIndex((l) => l.includes(at)) + 1,
      problems[0]?.message,
    );
  }
});
