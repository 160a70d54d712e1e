// The shlex port against what CPython 3.11's shlex gives for the same input (the expected values
// were produced by shlex.split and by supervisord's dict_of_key_value_pairs, not written by hand).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keyValuePairs, ShlexError, shlexSplit } from '../../src/convert/shlex.js';

test('shlexSplit splits as Python shlex.split does (supervisord command=)', () => {
  const cases: Array<[string, string[]]> = [
    ['/usr/sbin/nginx -g "daemon off;"', ['/usr/sbin/nginx', '-g', 'daemon off;']],
    [`a\\ b 'c d' "e \\"f\\" \\\\g \\h"`, ['a b', 'c d', 'e "f" \\g \\h']],
    [`x''y "" ''`, ['xy', '', '']],
    [`it\\'s\\ ok`, ["it's ok"]],
    [`--opt="a b"c 'single \\ back'`, ['--opt=a bc', 'single \\ back']],
    ['  lead   trail  ', ['lead', 'trail']],
    ['tab\tsep\nnl', ['tab', 'sep', 'nl']],
    ['ÜNï cødé', ['ÜNï', 'cødé']],
    ['', []],
    ['a|b $HOME ;', ['a|b', '$HOME', ';']],
  ];
  for (const [input, expected] of cases) assert.deepEqual(shlexSplit(input), expected, input);
});

test('shlexSplit fails where Python does', () => {
  assert.throws(() => shlexSplit('"open'), new ShlexError('No closing quotation'));
  assert.throws(() => shlexSplit("it's"), new ShlexError('No closing quotation'));
  assert.throws(() => shlexSplit('end\\'), new ShlexError('No escaped character'));
});

test('keyValuePairs reads environment= as supervisord does', () => {
  const cases: Array<[string, Array<[string, string]>]> = [
    [
      'A="x",B="y"',
      [
        ['A', 'x'],
        ['B', 'y'],
      ],
    ],
    [
      'PATH="/usr/local/bin:/usr/bin",HOME=/var/www',
      [
        ['PATH', '/usr/local/bin:/usr/bin'],
        ['HOME', '/var/www'],
      ],
    ],
    ['A=x y', [['A', 'x']]],
    [
      `A="a,b",B='c d'`,
      [
        ['A', 'a,b'],
        ['B', 'c d'],
      ],
    ],
    [
      'A=1 # comment\n,B=2',
      [
        ['A', '1'],
        ['B', '2'],
      ],
    ],
    ['KEY="a \\"q\\" b"', [['KEY', 'a "q" b']]],
    [
      'A=x,B=y,',
      [
        ['A', 'x'],
        ['B', 'y'],
      ],
    ],
    [
      '\n    QUEUE_CONNECTION="redis",\n    REDIS_HOST="127.0.0.1"',
      [
        ['QUEUE_CONNECTION', 'redis'],
        ['REDIS_HOST', '127.0.0.1'],
      ],
    ],
    ['A=""', [['A', '']]],
    ['A=%x', [['A', '%']]],
    ['A=1,A=2', [['A', '2']]],
  ];
  for (const [input, expected] of cases) assert.deepEqual(keyValuePairs(input), expected, input);
  // an unquoted '?' is a token of its own, which leaves "q" without "=": supervisord refuses it too
  assert.throws(() => keyValuePairs('URL=http://h:80/p?q'), ShlexError);
});
