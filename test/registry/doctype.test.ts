// A DOCTYPE is refused before anything is parsed: no entity is declared, so none is expanded
// (entity bombs) or fetched (external entities pointing at local files).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { makeTempDir } from '../helpers/paths.js';
import { killAllStarted, runCli } from '../helpers/processes.js';
import { assertOneProblem, errorOf, parse, registry } from './helpers.js';

after(killAllStarted);

const billionLaughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<supervisor>
  <servers>
    <server id="is"><command>bin/x</command><description>&lol9;</description></server>
  </servers>
</supervisor>
`;

const externalEntity = (path: string) => `<?xml version="1.0"?>
<!DOCTYPE supervisor [ <!ENTITY secret SYSTEM "file://${path}"> ]>
<supervisor>
  <servers>
    <server id="is"><command>bin/x</command><description>&secret;</description></server>
  </servers>
</supervisor>
`;

test('an entity-expansion bomb is refused at its DOCTYPE, nothing expanded', () => {
  const problem = assertOneProblem(billionLaughs, {
    at: '<!DOCTYPE',
    element: '!DOCTYPE',
    message: /a DOCTYPE is not allowed in a registry/,
  });
  assert.doesNotMatch(problem.message, /lollol/);
});

test('an external entity is refused, and the file it names does not reach the result', () => {
  const dir = makeTempDir();
  const secret = join(dir, 'secret.txt');
  writeFileSync(secret, 'TOP-SECRET-CONTENT');
  const error = errorOf(externalEntity(secret));
  assert.equal(error.problems.length, 1);
  assert.equal(error.problems[0]?.line, 2);
  assert.doesNotMatch(error.message, /TOP-SECRET-CONTENT/);
  const passwd = errorOf(externalEntity('/etc/passwd'));
  assert.doesNotMatch(passwd.message, /root:/);
});

test('any spelling of DOCTYPE is refused; one mentioned in a comment is not', () => {
  for (const doctype of [
    '<!doctype supervisor>',
    '<!DocType supervisor SYSTEM "x.dtd">',
    '<!ENTITY x "y">',
  ]) {
    const xml = `<?xml version="1.0"?>\n<!-- registry -->\n${doctype}\n${registry('<command>x</command>').replace('<?xml version="1.0"?>\n', '')}`;
    assertOneProblem(xml, { at: doctype, element: '!DOCTYPE', message: /DOCTYPE is not allowed/ });
  }
  const commented = `<!-- we used to have <!DOCTYPE supervisor> here -->\n${registry('<command>x</command>').replace('<?xml version="1.0"?>\n', '')}`;
  assert.equal(parse(commented).servers[0]?.command, 'x');
});

test('check on a bomb and on an external entity pointing at a FIFO: exit 2 at once, nothing read', async () => {
  const home = makeTempDir();
  mkdirSync(join(home, 'conf'));
  // Opening a FIFO for reading blocks until a writer comes: had anything tried to read the
  // entity, check would hang here instead of exiting.
  const fifo = join(home, 'entity.fifo');
  execFileSync('mkfifo', [fifo]);
  for (const text of [billionLaughs, externalEntity(fifo)]) {
    const file = join(home, 'conf/SupervisorRegistry.xml');
    writeFileSync(file, text);
    const cli = runCli(['check', '--home', home]);
    const code = await Promise.race([
      cli.exited,
      new Promise<string>((resolve) => setTimeout(() => resolve('still running after 20 s'), 20_000).unref()),
    ]);
    cli.kill();
    assert.equal(code, 2);
    const stderr = cli.stderr.join('\n');
    assert.match(stderr, /SupervisorRegistry\.xml:2: <!DOCTYPE>: a DOCTYPE is not allowed/);
    assert.doesNotMatch(stderr, /lollol|at .*\.js:\d+/);
    assert.equal(cli.stdout.join(''), '');
  }
});
