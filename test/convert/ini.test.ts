// The supervisord INI reader against Python's configparser set up as supervisord sets it up
// (RawConfigParser, inline_comment_prefixes=(';', '#'), strict=False): the expected values are what
// configparser returned for the same text.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseIni } from '../../src/convert/ini.js';
import { ConvertError } from '../../src/convert/model.js';

const sample = `; full-line comment
# another
[DEFAULT]
shared = from default

[program:nginx]
command=/usr/sbin/nginx -g "daemon off;"   ; inline comment
user: www-data
Directory = /var/www ;comment after a space
url = http://x/#anchor
hash=a#b
environment=
    A="1",

    B="2"
  ; an indented comment inside a value
    C="3"
empty =
[program:nginx]
priority = 10
`;

test('configparser rules: comments, ":" and "=", continuation lines, [DEFAULT], repeated sections', () => {
  const sections = parseIni(sample, 'supervisord.conf');
  assert.deepEqual(
    sections.map((s) => s.name),
    ['program:nginx'],
  );
  const options = Object.fromEntries([...(sections[0]?.options ?? [])].map(([k, v]) => [k, v.value]));
  assert.deepEqual(options, {
    shared: 'from default',
    command: '/usr/sbin/nginx -g "daemon off;"',
    user: 'www-data',
    directory: '/var/www',
    url: 'http://x/#anchor',
    hash: 'a#b',
    environment: '\nA="1",\n\nB="2"\nC="3"',
    empty: '',
    priority: '10',
  });
  assert.equal(sections[0]?.options.get('command')?.line, 7);
  assert.equal(sections[0]?.options.get('priority')?.line, 20);
});

test('text before any section, or a line that is no option: an error naming the file and line', () => {
  assert.throws(
    () => parseIni('command=x\n[program:a]\n', 'a.conf'),
    (error: unknown) => error instanceof ConvertError && error.message.startsWith('a.conf:1: '),
  );
  assert.throws(
    () => parseIni('[program:a]\ncommand=x\njust words\n', 'a.conf'),
    (error: unknown) =>
      error instanceof ConvertError && /^a\.conf:3: cannot parse "just words"/.test(error.message),
  );
});
