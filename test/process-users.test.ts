// <user> (design.md §3 rev. 2): the component runs with the user's supplementary groups and gets
// its HOME, USER and LOGNAME unless <environment> sets them; its exec checks run as that user too.
// The real tests create a user and a group of their own (as root) and remove them afterwards.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { findSetpriv, lookupAccount, lookupUser, planSpawn } from '../src/process/users.js';
import { makeTempDir } from './helpers/paths.js';
import { killAllStarted, type RunningCli, runCli } from './helpers/processes.js';
import { writeRegistry } from './helpers/registry.js';
import { waitFor } from './helpers/wait.js';

/** the CLI's exit code, waited for with a deadline */
const exitWithin = (cli: RunningCli, timeout = 20_000) =>
  waitFor(() => cli.exitCode(), { timeout, message: 'the CLI to exit' });

function fixtures() {
  const dir = makeTempDir();
  const passwd = join(dir, 'passwd');
  const group = join(dir, 'group');
  writeFileSync(
    passwd,
    'root:x:0:0:root:/root:/bin/sh\nimgsrv:x:1001:1002::/opt/is:/bin/false\nnohome:x:1003:1003:::/bin/false\n',
  );
  writeFileSync(
    group,
    'root:x:0:\nimgsrv:x:1002:\nimages:x:2000:imgsrv\nfonts:x:2001:other,imgsrv\nother:x:2002:other\n',
  );
  return { dir, passwd, group };
}

test('<user>: name, uid, name:group, uid:gid, unknown', () => {
  const { passwd, group } = fixtures();
  assert.deepEqual(lookupUser('imgsrv', passwd, group), { uid: 1001, gid: 1002 });
  assert.deepEqual(lookupUser('1001', passwd, group), { uid: 1001, gid: 1002 });
  assert.deepEqual(lookupUser('imgsrv:images', passwd, group), { uid: 1001, gid: 2000 });
  assert.deepEqual(lookupUser('4242:4343', passwd, group), { uid: 4242, gid: 4343 });
  assert.deepEqual(lookupUser('4242', passwd, group), { uid: 4242, gid: 4242 });
  assert.equal(lookupUser('nobody-here', passwd, group), undefined);
  assert.equal(lookupUser('imgsrv:nogroup', passwd, group), undefined);
});

test('lookupAccount: home, name and the groups initgroups would give', () => {
  const { passwd, group } = fixtures();
  assert.deepEqual(lookupAccount('imgsrv', passwd, group), {
    uid: 1001,
    gid: 1002,
    name: 'imgsrv',
    home: '/opt/is',
    groups: [1002, 2000, 2001],
  });
  // name:group: that group first, the passwd group still among the supplementary ones
  assert.deepEqual(lookupAccount('imgsrv:fonts', passwd, group)?.groups, [2001, 1002, 2000]);
  assert.equal(lookupAccount('nohome', passwd, group)?.home, '/');
  // a bare uid without an entry: no name, home /, no other group
  assert.deepEqual(lookupAccount('4242:4343', passwd, group), {
    uid: 4242,
    gid: 4343,
    home: '/',
    groups: [4343],
  });
});

describe('planSpawn', () => {
  const { dir, passwd, group } = fixtures();
  const root = { uid: 0, gid: 0 };
  const files = { passwdFile: passwd, groupFile: group, self: root };
  const tool = join(dir, 'tool');
  writeFileSync(tool, '#!/bin/sh\n');
  chmodSync(tool, 0o755);
  const private_ = join(dir, 'private-tool');
  writeFileSync(private_, '#!/bin/sh\n');
  chmodSync(private_, 0o700);

  test('no user: the command as it is, the registry environment only', () => {
    assert.deepEqual(planSpawn({ command: 'x', args: ['-a'], env: { A: '1' } }, undefined), {
      ok: true,
      plan: { file: 'x', args: ['-a'], env: { A: '1' } },
    });
  });

  test('a user, as root with setpriv: setpriv switches, with the groups; HOME, USER, LOGNAME added', () => {
    const result = planSpawn({ command: tool, args: ['-a', 'b c'], env: { A: '1' } }, 'imgsrv', {
      ...files,
      setpriv: '/usr/bin/setpriv',
    });
    assert.deepEqual(result, {
      ok: true,
      plan: {
        file: '/usr/bin/setpriv',
        args: ['--reuid=1001', '--regid=1002', '--init-groups', '--', tool, '-a', 'b c'],
        env: { HOME: '/opt/is', USER: 'imgsrv', LOGNAME: 'imgsrv', A: '1' },
      },
    });
  });

  test('<environment> setting HOME, USER or LOGNAME wins', () => {
    const result = planSpawn(
      { command: tool, args: [], env: { HOME: '/srv/custom', USER: 'svc' } },
      'imgsrv',
      {
        ...files,
        setpriv: '/usr/bin/setpriv',
      },
    );
    assert.ok(result.ok);
    assert.deepEqual(result.plan.env, { HOME: '/srv/custom', USER: 'svc', LOGNAME: 'imgsrv' });
  });

  test('a bare uid without an entry: no supplementary groups, so no setpriv; HOME /, no inherited USER or LOGNAME', () => {
    const result = planSpawn({ command: tool, args: [] }, '4242:4343', {
      ...files,
      setpriv: '/usr/bin/setpriv',
    });
    assert.ok(result.ok);
    // Node's own switch: the same identity, one exec less, and EAGAIN at exec is a start failure
    assert.deepEqual(result.plan, {
      file: tool,
      args: [],
      env: { HOME: '/', USER: undefined, LOGNAME: undefined },
      uid: 4242,
      gid: 4343,
    });
  });

  test('setpriv missing: Node switches uid and gid, and a warning says the groups are lost', () => {
    const result = planSpawn({ command: tool, args: ['-a'] }, 'imgsrv', { ...files, setpriv: null });
    assert.ok(result.ok);
    assert.equal(result.plan.file, tool);
    assert.deepEqual([result.plan.uid, result.plan.gid], [1001, 1002]);
    assert.match(
      result.plan.warning ?? '',
      /setpriv \(util-linux\) not found: .*without its supplementary groups/,
    );
  });

  test('a command the user cannot run is a start failure (ENOENT, EACCES), as a spawn error would be', () => {
    const options = { ...files, setpriv: '/usr/bin/setpriv' };
    const missing = planSpawn({ command: join(dir, 'nope'), args: [] }, 'imgsrv', options);
    assert.deepEqual(missing.ok ? undefined : missing.code, 'ENOENT');
    const denied = planSpawn({ command: private_, args: [] }, 'imgsrv', options);
    assert.deepEqual(denied.ok ? undefined : denied.code, 'EACCES');
    // root may run it; a bare name is looked up in the PATH the component gets
    assert.equal(planSpawn({ command: private_, args: [] }, 'root:images', options).ok, true);
    assert.equal(
      planSpawn({ command: 'tool', args: [], env: { PATH: `/nonexistent:${dir}` } }, 'imgsrv', options).ok,
      true,
    );
    const notInPath = planSpawn(
      { command: 'tool', args: [], env: { PATH: '/nonexistent' } },
      'imgsrv',
      options,
    );
    assert.deepEqual(notInPath.ok ? undefined : notInPath.code, 'ENOENT');
  });

  test('not root: the own user needs no switch; another one is EPERM, said plainly', () => {
    const self = { uid: 1001, gid: 1002 };
    const same = planSpawn({ command: tool, args: [] }, 'imgsrv', { ...files, self });
    assert.deepEqual(same, {
      ok: true,
      plan: { file: tool, args: [], env: { HOME: '/opt/is', USER: 'imgsrv', LOGNAME: 'imgsrv' } },
    });
    const other = planSpawn({ command: tool, args: [] }, 'root', { ...files, self });
    assert.ok(!other.ok);
    assert.equal(other.code, 'EPERM');
    assert.match(other.message, /needs the supervisor to run as root; it runs as uid 1001/);
    assert.equal(planSpawn({ command: tool, args: [] }, 'ghost', files).ok, false);
  });
});

// ---- real processes, a real user with a supplementary group ---------------------------------------

const isRoot = process.getuid?.() === 0;
const haveTools = [
  '/usr/sbin/useradd',
  '/usr/sbin/groupadd',
  '/usr/sbin/userdel',
  '/usr/sbin/groupdel',
].every((tool) => existsSync(tool));
const skip = !isRoot
  ? 'needs root (to create a user and switch to it)'
  : !haveTools
    ? 'needs useradd and groupadd'
    : findSetpriv() === null
      ? 'needs setpriv (util-linux)'
      : false;

describe('a component and its exec check as a real user', { skip }, () => {
  const suffix = `${process.pid}`;
  const userName = `s7t-user-${suffix}`;
  const groupName = `s7t-extra-${suffix}`;
  const home = makeTempDir('s7sup-userhome-');
  let account: ReturnType<typeof lookupAccount>;

  const setUp = () => {
    if (account) return account;
    execFileSync('/usr/sbin/groupadd', [groupName]);
    execFileSync('/usr/sbin/useradd', [
      '--no-create-home',
      '--home-dir',
      home,
      '--shell',
      '/bin/sh',
      '-G',
      groupName,
      userName,
    ]);
    account = lookupAccount(userName);
    assert.ok(account, 'the user was created');
    chownSync(home, account.uid, account.gid);
    return account;
  };
  after(() => {
    killAllStarted();
    // the user's processes are gone (killed above): now the user and the group can go
    if (account) execFileSync('/usr/sbin/userdel', [userName]);
    try {
      execFileSync('/usr/sbin/groupdel', [groupName]);
    } catch {
      // never created
    }
    rmSync(home, { recursive: true, force: true });
  });

  const report = (file: string) =>
    `{ echo "uid=$(id -u) gid=$(id -g) groups=$(id -G) home=$HOME user=$USER logname=$LOGNAME"; } > ${file}`;
  const fields = (line: string) =>
    Object.fromEntries(
      line
        .trim()
        .split(/ (?=\w+=)/)
        .map((field) => field.split('=', 2) as [string, string]),
    );

  async function supervise(prefix: string[] = []): Promise<{ cli: RunningCli; dir: string }> {
    const user = setUp();
    const dir = join(home, `run-${Math.random().toString(36).slice(2)}`);
    mkdirSync(dir);
    chownSync(dir, user.uid, user.gid);
    const registryHome = writeRegistry([
      {
        id: 'plain',
        command: '/bin/sh',
        args: ['-c', `${report(join(dir, 'plain'))}; exec sleep 1000`],
        extra: `<user>${userName}</user>
          <readiness type="exec" command="/bin/sh" interval="30"><argument>-c</argument><argument>${report(join(dir, 'check'))}</argument></readiness>`,
      },
      {
        id: 'custom',
        command: '/bin/sh',
        args: ['-c', `${report(join(dir, 'custom'))}; exec sleep 1000`],
        env: { HOME: '/srv/custom-home' },
        extra: `<user>${userName}</user>`,
      },
    ]);
    const cli = runCli(['run', '--home', registryHome, '--port', '0'], { prefix });
    return { cli, dir };
  }

  const read = (file: string) =>
    waitFor(
      () => existsSync(file) && readFileSync(file, 'utf8').includes('\n') && readFileSync(file, 'utf8'),
      {
        timeout: 15_000,
        message: `${file} to be written`,
      },
    );

  test('with setpriv: the supplementary group, the user HOME/USER/LOGNAME, <environment> HOME wins, the check as the user', async () => {
    const user = setUp();
    const extraGid = Number(execFileSync('getent', ['group', groupName], { encoding: 'utf8' }).split(':')[2]);
    const { cli, dir } = await supervise();
    const plain = fields(await read(join(dir, 'plain')));
    assert.equal(plain.uid, String(user.uid));
    assert.equal(plain.gid, String(user.gid));
    assert.ok(plain.groups?.split(' ').includes(String(extraGid)), `groups ${plain.groups} lack ${extraGid}`);
    assert.ok(!plain.groups?.split(' ').includes('0'), `groups ${plain.groups} still hold root's`);
    assert.deepEqual([plain.home, plain.user, plain.logname], [home, userName, userName]);

    const custom = fields(await read(join(dir, 'custom')));
    assert.deepEqual(
      [custom.uid, custom.home, custom.user],
      [String(user.uid), '/srv/custom-home', userName],
    );

    const check = fields(await read(join(dir, 'check')));
    assert.equal(check.uid, String(user.uid));
    assert.ok(check.groups?.split(' ').includes(String(extraGid)), `check groups ${check.groups}`);
    assert.deepEqual([check.home, check.user], [home, userName]);

    // the component's pid is the one the supervisor knows (setpriv execs, it does not fork)
    const started = cli.records().find((r) => r.msg === 'component started' && r.component === 'plain');
    const pid = Number(started?.pid);
    await waitFor(() => readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep'), {
      message: 'the component to be sleep under its own pid',
    });
    assert.ok(!cli.records().some((r) => String(r.msg).includes('setpriv')), 'no setpriv warning');
    cli.child.kill('SIGTERM');
    assert.equal(await exitWithin(cli), 0);
  });

  test('without setpriv: the user ids, no supplementary groups, one warning', async () => {
    const user = setUp();
    // setpriv hidden in a mount namespace of its own: /dev/null (not executable) over it
    const prefix = [
      'unshare',
      '--mount',
      '--',
      '/bin/sh',
      '-c',
      'mount --bind /dev/null "$0" && exec "$@"',
      findSetpriv()!,
    ];
    const { cli, dir } = await supervise(prefix);
    const plain = fields(await read(join(dir, 'plain')));
    assert.deepEqual(
      [plain.uid, plain.gid, plain.groups],
      [String(user.uid), String(user.gid), String(user.gid)],
    );
    assert.deepEqual([plain.home, plain.user], [home, userName]);
    await read(join(dir, 'custom'));
    const check = fields(await read(join(dir, 'check')));
    assert.equal(check.uid, String(user.uid));
    const warnings = cli.records().filter((r) => String(r.msg).startsWith('setpriv (util-linux) not found'));
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    cli.child.kill('SIGTERM');
    assert.equal(await exitWithin(cli), 0);
  });
});
