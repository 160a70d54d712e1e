// The command line forgives typos (issue 14): "did you mean" for a mistyped command or option,
// one line each, exit 2, none of node:util parseArgs' own wording; `help CMD` and `version`.
// Through the installed binary (its shebang), as users run it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { repoRoot } from '../helpers/paths.js';
import { killAllStarted, runCli } from '../helpers/processes.js';

after(killAllStarted);

async function s7(...args: string[]) {
  const cli = runCli(args, { asInstalled: true });
  const code = await cli.exited;
  return { code, stdout: cli.stdout.join('\n'), stderr: cli.stderr.join('\n'), stderrLines: cli.stderr };
}

const parseArgsWording = /To specify a positional argument|argument missing|<value>|ERR_PARSE_ARGS/;

test('a mistyped command: one line naming the closest command, exit 2', async () => {
  const typos: Array<[string, string]> = [
    ['stauts', 'status'],
    ['chekc', 'check'],
    ['relaod', 'reload'],
    ['covnert', 'convert'],
    ['verison', 'version'],
  ];
  for (const [typed, meant] of typos) {
    const { code, stdout, stderrLines } = await s7(typed);
    assert.equal(code, 2, typed);
    assert.equal(stdout, '');
    assert.deepEqual(stderrLines, [`s7supervisor: unknown command '${typed}' (did you mean ${meant}?)`]);
  }
  const far = await s7('frobnicate');
  assert.equal(far.code, 2);
  assert.equal(far.stderrLines.length, 1);
  assert.match(
    far.stderr,
    /^s7supervisor: unknown command 'frobnicate' \(the commands are run, check, status, .*convert.*, help, version\)$/,
  );
});

test('an unknown option: one line naming the command and the closest option, exit 2', async () => {
  const cases: Array<[string[], string]> = [
    [['run', '--prot', '9910'], "s7supervisor run: unknown option '--prot' (did you mean --port?)"],
    [
      ['run', '--registy=conf/x.xml'],
      "s7supervisor run: unknown option '--registy' (did you mean --registry?)",
    ],
    [['run', '-p', '9910'], "s7supervisor run: unknown option '-p' (did you mean --port?)"],
    [['check', '--hmoe', '.'], "s7supervisor check: unknown option '--hmoe' (did you mean --home?)"],
    [['status', '--jsno'], "s7supervisor status: unknown option '--jsno' (did you mean --json?)"],
    [
      ['probe', 'livez', '--timeuot', '1'],
      "s7supervisor probe: unknown option '--timeuot' (did you mean --timeout?)",
    ],
    [
      ['convert', 'Procfile', '--fromat', 'procfile'],
      "s7supervisor convert: unknown option '--fromat' (did you mean --format?)",
    ],
    [['run', '--verbose'], "s7supervisor run: unknown option '--verbose' (see s7supervisor help run)"],
    [['run', '--port'], 's7supervisor run: --port needs a value'],
    [['check', '--help=yes'], 's7supervisor check: --help takes no value'],
  ];
  for (const [args, expected] of cases) {
    const { code, stdout, stderrLines } = await s7(...args);
    assert.equal(code, 2, args.join(' '));
    assert.equal(stdout, '', args.join(' '));
    assert.deepEqual(stderrLines, [expected]);
    assert.doesNotMatch(stderrLines.join('\n'), parseArgsWording);
  }
});

test("help COMMAND prints that command's help, the same text as COMMAND --help", async () => {
  for (const command of ['run', 'check', 'status', 'start', 'reload', 'logs', 'probe', 'convert']) {
    const viaHelp = await s7('help', command);
    const viaFlag = await s7(command, '--help');
    assert.equal(viaHelp.code, 0, command);
    assert.match(viaHelp.stdout, new RegExp(`^usage: s7supervisor ${command}`));
    assert.equal(viaHelp.stdout, viaFlag.stdout);
  }
  const list = await s7('help');
  assert.equal(list.code, 0);
  assert.match(list.stdout, /^ {2}convert +print a registry equivalent to a supervisord\.conf/m);
  assert.match(list.stdout, /^ {2}logs +print the last lines the components printed/m);
  assert.match(list.stdout, /^ {2}help +this list, or a command's help/m);
  assert.match(list.stdout, /^ {2}version +print the version/m);
  const typo = await s7('help', 'stauts');
  assert.equal(typo.code, 2);
  assert.deepEqual(typo.stderrLines, ["s7supervisor: unknown command 'stauts' (did you mean status?)"]);
});

test('version prints the package version, as --version does', async () => {
  const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  for (const args of [['version'], ['--version'], ['-V']]) {
    const { code, stdout, stderr } = await s7(...args);
    assert.equal(code, 0, stderr);
    assert.equal(stdout, version);
  }
  const extra = await s7('version', 'now');
  assert.equal(extra.code, 2);
  assert.deepEqual(extra.stderrLines, ["s7supervisor version: unexpected argument 'now'"]);
});
