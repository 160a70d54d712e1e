// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} in plain strings is the registry syntax under test
// Property-based: whatever text comes in (random, or a valid registry mutated the ways files get
// broken), the parser either returns a registry or throws a RegistryError whose every problem
// names the file and a line of it. Never another exception, never a line 0.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { RegistryError } from '../../src/registry/errors.js';
import { parseRegistry } from '../../src/registry/load.js';
import { repoRoot } from '../helpers/paths.js';
import { FILE, HOME } from './helpers.js';

const valid = readFileSync(join(repoRoot, 'test/fixtures/original/SupervisorRegistry.xml'), 'utf8');
const env = { IS_PORT: '27345', EMPTY: '' };

/** the property itself: a registry, or a RegistryError with well-formed problems */
function parsesOrExplains(text: string): 'parsed' | 'refused' {
  let result: unknown;
  try {
    result = parseRegistry(text, FILE, HOME, env);
  } catch (error) {
    if (!(error instanceof RegistryError)) {
      assert.fail(`threw ${error instanceof Error ? error.stack : String(error)}\nfor input:\n${text}`);
    }
    assert.ok(error.problems.length > 0, 'a RegistryError without problems');
    const lineCount = text.split(/\r\n|\r|\n/).length;
    for (const problem of error.problems) {
      assert.equal(problem.file, FILE);
      assert.ok(Number.isInteger(problem.line) && problem.line >= 1, `no line: ${JSON.stringify(problem)}`);
      assert.ok(
        problem.line <= lineCount,
        `line ${problem.line} past the end (${lineCount}): ${problem.message}`,
      );
      assert.equal(typeof problem.element, 'string');
      assert.ok(problem.message.length > 0);
    }
    const lines = error.message.split('\n');
    assert.equal(lines.length, error.problems.length, error.message);
    for (const line of lines) assert.ok(line.startsWith(`${FILE}:`), line);
    return 'refused';
  }
  assert.ok(result && typeof result === 'object' && 'servers' in result);
  return 'parsed';
}

const tagNames = [
  'supervisor',
  'config',
  'servers',
  'server',
  'profiles',
  'profile',
  'command',
  'arguments',
  'argument',
  'environment',
  'variable',
  'stopTimeout',
  'startPriority',
  'readiness',
  'liveness',
  'restart',
  'tcpport',
  '__proto__',
  'constructor',
  'x:y',
];
const fragments = fc.oneof(
  fc.constantFrom(
    '<',
    '>',
    '</',
    '/>',
    '<!--',
    '-->',
    '<![CDATA[',
    ']]>',
    '<?xml version="1.0"?>',
    '"',
    "'",
    '=',
    ' ',
  ),
  fc.constantFrom(
    '&',
    '&amp;',
    '&lt;',
    '&#0;',
    '&#x110000;',
    '&bogus;',
    '${',
    '}',
    '${IS_PORT}',
    '${NOPE}',
    ':-',
  ),
  fc.constantFrom('\n', '\r\n', '\r', '\t', '\u0000', '\uFEFF', '<!DOCTYPE x>', '<!ENTITY a "b">'),
  fc.constantFrom(...tagNames).map((name) => `<${name}>`),
  fc.constantFrom(...tagNames).map((name) => `</${name}>`),
  fc.constantFrom(' id="is"', ' ref="Common"', ' type="http"', ' url="http://x/"', ' port="-1"', ' fd="3"'),
  fc.string({ maxLength: 8 }),
  fc.integer({ min: -5, max: 99999 }).map(String),
);

test('random text', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 300, unit: 'binary' }), (text) => {
      parsesOrExplains(text);
    }),
    { numRuns: 500 },
  );
});

test('random XML-ish token soup', () => {
  fc.assert(
    fc.property(
      fc.array(fragments, { maxLength: 80 }).map((parts) => parts.join('')),
      (text) => {
        parsesOrExplains(text);
      },
    ),
    { numRuns: 1000 },
  );
});

// ---- mutations of a valid registry ------------------------------------------------------------

type Mutation = (text: string) => string;

const at = (fraction: number, length: number) => Math.floor(fraction * length);
const position = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

const mutations: fc.Arbitrary<Mutation> = fc.oneof(
  // truncate
  position.map((p) => (text: string) => text.slice(0, at(p, text.length))),
  // insert garbage
  fc
    .tuple(position, fc.oneof(fragments, fc.string({ maxLength: 20, unit: 'grapheme' })))
    .map(([p, garbage]) => (text: string) => {
      const i = at(p, text.length);
      return text.slice(0, i) + garbage + text.slice(i);
    }),
  // delete a span
  fc.tuple(position, fc.integer({ min: 1, max: 40 })).map(([p, n]) => (text: string) => {
    const i = at(p, text.length);
    return text.slice(0, i) + text.slice(i + n);
  }),
  // drop, duplicate or swap whole lines (whole elements, in this layout)
  fc.tuple(position, fc.constantFrom('drop', 'duplicate', 'swap')).map(([p, how]) => (text: string) => {
    const lines = text.split('\n');
    const i = at(p, lines.length);
    const line = lines[i] ?? '';
    if (how === 'drop') lines.splice(i, 1);
    else if (how === 'duplicate') lines.splice(i, 0, line);
    else if (i + 1 < lines.length) [lines[i], lines[i + 1]] = [lines[i + 1] ?? '', line];
    return lines.join('\n');
  }),
  // rename one element (open and close tag alike, or just one of them)
  fc
    .tuple(
      fc.constantFrom(...tagNames),
      fc.oneof(fc.constantFrom(...tagNames), fc.stringMatching(/^[A-Za-z_][\w.-]{0,10}$/)),
      fc.boolean(),
    )
    .map(
      ([from, to, both]) =>
        (text: string) =>
          both
            ? text.replaceAll(`<${from}>`, `<${to}>`).replaceAll(`</${from}>`, `</${to}>`)
            : text.replace(`<${from}>`, `<${to}>`),
    ),
  // replace the value of one element or attribute with something else
  fc
    .tuple(
      position,
      fc.oneof(fragments, fc.constantFrom('', '-1', '1e9', 'abc', '0.5', 'SIGKILL', 'TERM', 'true')),
    )
    .map(([p, value]) => (text: string) => {
      const values = [...text.matchAll(/>([^<>]*)<\/|="([^"]*)"/g)];
      const match = values[at(p, values.length)];
      if (!match || match.index === undefined) return text;
      const inner = match[1] ?? match[2] ?? '';
      const start = match.index + match[0].indexOf(inner, 1);
      return text.slice(0, start) + value + text.slice(start + inner.length);
    }),
);

test('a valid registry mutated: dropped, duplicated, renamed elements, garbage, truncation', () => {
  assert.equal(parsesOrExplains(valid), 'parsed');
  const outcomes = { parsed: 0, refused: 0 };
  fc.assert(
    fc.property(fc.array(mutations, { minLength: 1, maxLength: 5 }), (steps) => {
      outcomes[parsesOrExplains(steps.reduce((text, step) => step(text), valid))]++;
    }),
    { numRuns: 2000 },
  );
  // the mutations reach both sides: some survive as valid registries, most are refused
  assert.ok(outcomes.parsed > 0 && outcomes.refused > outcomes.parsed, JSON.stringify(outcomes));
});
