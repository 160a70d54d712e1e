// `<user>`: which uid/gid a component runs as: `name`, `uid`, `name:group` or `uid:gid`. Node
// has no getpwnam, and /etc/passwd and /etc/group are what it reads in a container (no NSS
// services there), so they are read directly.
//
// Running as a user also means that user's supplementary groups and its HOME, USER and LOGNAME
// (design.md §3 rev. 2). The spawn cannot give a child supplementary groups: when it switches
// uid/gid, it calls setgroups(0) (libuv does, and the addon as libuv) and the child has none. So
// the switch is left to util-linux's setpriv (Essential in Debian, so in every Debian and
// Debian-slim image): `setpriv --reuid=U --regid=G --init-groups -- CMD ARGS` switches and
// execs, the pid stays the component's. Where setpriv is missing, the spawn's uid/gid switch is
// the fallback, without supplementary groups, and says so.
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface UserIds {
  uid: number;
  gid: number;
}

/** a <user> resolved against /etc/passwd and /etc/group */
export interface UserAccount extends UserIds {
  /** the passwd name; undefined for a bare uid that has no entry */
  name?: string;
  /** the passwd home directory ('/' when there is no entry or it is empty) */
  home: string;
  /** every group the user is in: `gid` first, then the groups listing the user as a member */
  groups: number[];
}

/** Resolves a <user> value; undefined when the user (or group) does not exist. */
export function lookupUser(
  spec: string,
  passwdFile = '/etc/passwd',
  groupFile = '/etc/group',
): UserIds | undefined {
  const account = lookupAccount(spec, passwdFile, groupFile);
  return account && { uid: account.uid, gid: account.gid };
}

/** Resolves a <user> value with what running as that user takes; undefined when it does not exist. */
export function lookupAccount(
  spec: string,
  passwdFile = '/etc/passwd',
  groupFile = '/etc/group',
): UserAccount | undefined {
  const [user = '', group] = spec.split(':', 2);
  const entry = passwdEntry(readLines(passwdFile), user);
  if (!entry) return undefined;
  const groupLines = readLines(groupFile);
  let gid = entry.gid;
  if (group !== undefined && group !== '') {
    const found = groupEntry(groupLines, group);
    if (found === undefined) return undefined;
    gid = found;
  }
  const groups = [gid];
  const add = (id: number) => {
    if (!groups.includes(id)) groups.push(id);
  };
  // what initgroups(3) gives: the passwd group, then every group that lists the user
  if (entry.name !== undefined) {
    add(entry.gid);
    for (const line of groupLines) {
      const [, , id, members = ''] = line.split(':');
      if (id !== undefined && /^\d+$/.test(id) && members.split(',').includes(entry.name)) add(Number(id));
    }
  }
  return {
    uid: entry.uid,
    gid,
    ...(entry.name !== undefined ? { name: entry.name } : {}),
    home: entry.home,
    groups,
  };
}

function readLines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n');
  } catch (error) {
    // no such file: only numeric ids can be resolved. Anything else (EMFILE, ENFILE, EIO) says
    // nothing about the user: it goes up, to be treated as the shortage it is
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** a passwd line by name or uid; a bare uid with no entry is still an identity (gid = uid, as `docker run -u` does) */
function passwdEntry(
  lines: string[],
  nameOrId: string,
): { name?: string; uid: number; gid: number; home: string } | undefined {
  const numeric = /^\d+$/.test(nameOrId);
  for (const line of lines) {
    const [name, , uid, gid, , home] = line.split(':');
    if (name === undefined || uid === undefined || !/^\d+$/.test(uid)) continue;
    if (numeric ? uid === nameOrId : name === nameOrId) {
      return { name, uid: Number(uid), gid: Number(gid ?? uid), home: home || '/' };
    }
  }
  return numeric ? { uid: Number(nameOrId), gid: Number(nameOrId), home: '/' } : undefined;
}

/** a group's gid by name or number; a bare number is a gid whether or not it has an entry */
function groupEntry(lines: string[], nameOrId: string): number | undefined {
  if (/^\d+$/.test(nameOrId)) return Number(nameOrId);
  for (const line of lines) {
    const [name, , gid] = line.split(':');
    if (name === nameOrId && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return undefined;
}

/** How to spawn a command as a user: what the one spawning place is given. */
export interface SpawnPlan {
  file: string;
  args: string[];
  /**
   * Added to the inherited environment: the registry's variables over the user's HOME, USER and
   * LOGNAME (undefined removes an inherited one: a uid without a passwd entry has no name).
   */
  env: Record<string, string | undefined>;
  /** for the spawn's own uid/gid switch (no setpriv needed, or none found) */
  uid?: number;
  gid?: number;
  /** setpriv is missing: the fallback loses the supplementary groups (log it once: see firstTime) */
  warning?: string;
}

export type SpawnPlanResult =
  | { ok: true; plan: SpawnPlan }
  | {
      ok: false;
      /** as Node's spawn errors are: EUSER (no such user), EPERM, ENOENT, EACCES */
      code: string;
      message: string;
    };

export interface SpawnPlanOptions {
  /** the setpriv to use; null: as if it were missing. Default: found in PATH, /usr/bin or /bin */
  setpriv?: string | null;
  passwdFile?: string;
  groupFile?: string;
  /** the supervisor's own ids (default: process.getuid(), process.getgid()) */
  self?: UserIds;
  /** where a bare command is looked up when the registry does not set PATH (default process.env) */
  env?: NodeJS.ProcessEnv;
}

/**
 * Turns a command and a <user> into what to spawn: the command itself when there is no user (or
 * it is the supervisor's own), else setpriv switching to the user with its groups, else (no
 * setpriv) the command with Node's uid/gid. The user's HOME, USER and LOGNAME are added unless
 * the registry's environment sets them.
 */
export function planSpawn(
  target: { command: string; args: readonly string[]; env?: Readonly<Record<string, string>> },
  user: string | undefined,
  options: SpawnPlanOptions = {},
): SpawnPlanResult {
  const registryEnv = { ...target.env };
  if (user === undefined)
    return { ok: true, plan: { file: target.command, args: [...target.args], env: registryEnv } };
  let account: UserAccount | undefined;
  try {
    account = lookupAccount(user, options.passwdFile, options.groupFile);
  } catch (error) {
    // could not read /etc/passwd or /etc/group now (EMFILE...): a shortage, retried with backoff
    const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
    return { ok: false, code, message: `cannot look up user "${user}": ${(error as Error).message}` };
  }
  if (!account) return { ok: false, code: 'EUSER', message: `user "${user}" does not exist` };
  const identity =
    account.name !== undefined
      ? { HOME: account.home, USER: account.name, LOGNAME: account.name }
      : { HOME: account.home, USER: undefined, LOGNAME: undefined };
  const env: Record<string, string | undefined> = { ...identity, ...registryEnv };
  const self = options.self ?? { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  if (account.uid === self.uid && account.gid === self.gid) {
    // already that user: nothing to switch (and, not being root, nothing it could switch)
    return { ok: true, plan: { file: target.command, args: [...target.args], env } };
  }
  if (self.uid !== 0) {
    return {
      ok: false,
      code: 'EPERM',
      message: `running as user "${user}" (uid ${account.uid}) needs the supervisor to run as root; it runs as uid ${self.uid}`,
    };
  }
  // Only supplementary groups need setpriv: without any, the spawn's own uid/gid switch gives the same
  // identity, costs no extra exec, and reports a failure to exec (EAGAIN at the user's process
  // limit) as a start failure, where setpriv could only exit 126 like a crashed command
  if (account.groups.every((id) => id === account.gid)) {
    return {
      ok: true,
      plan: { file: target.command, args: [...target.args], env, uid: account.uid, gid: account.gid },
    };
  }
  const setpriv = options.setpriv === undefined ? findSetpriv() : options.setpriv;
  if (setpriv === null) {
    return {
      ok: true,
      plan: {
        file: target.command,
        args: [...target.args],
        env,
        uid: account.uid,
        gid: account.gid,
        warning: `setpriv (util-linux) not found: components with a <user> run as its uid and gid without its supplementary groups`,
      },
    };
  }
  // setpriv reports a command it cannot run by exiting 127 or 126, after the spawn succeeded: find
  // out first, as that user, so that such a command is still a start failure (fatal), not a crash
  const search = env.PATH ?? options.env?.PATH ?? process.env.PATH ?? '';
  const missing = findExecutable(target.command, search, account);
  if (missing) return { ok: false, ...missing };
  return {
    ok: true,
    plan: {
      file: setpriv,
      args: [
        `--reuid=${account.uid}`,
        `--regid=${account.gid}`,
        // initgroups needs the passwd name; a bare uid gets no supplementary groups
        account.name !== undefined ? '--init-groups' : '--clear-groups',
        '--',
        target.command,
        ...target.args,
      ],
      env,
    },
  };
}

let setprivPath: string | null | undefined;

/** setpriv's absolute path (looked for once: PATH, then /usr/bin and /bin), or null */
export function findSetpriv(): string | null {
  if (setprivPath !== undefined) return setprivPath;
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/bin'].filter((d) =>
    d.startsWith('/'),
  );
  setprivPath = null;
  for (const dir of dirs) {
    const candidate = join(dir, 'setpriv');
    try {
      accessSync(candidate, constants.X_OK);
      setprivPath = candidate;
      break;
    } catch {
      // not here
    }
  }
  return setprivPath;
}

/**
 * What execvp would say running `command` as `account`: undefined when it would find an
 * executable file, else ENOENT or EACCES (EACCES when a file was there but not executable).
 * Directory search permissions on the way are not checked.
 */
function findExecutable(
  command: string,
  search: string,
  account: UserAccount,
): { code: string; message: string } | undefined {
  const candidates = command.includes('/')
    ? [command]
    : search.split(delimiter).map((dir) => join(dir || '.', command));
  let denied: string | undefined;
  for (const candidate of candidates) {
    let stat: ReturnType<typeof statSync>;
    try {
      stat = statSync(candidate);
    } catch {
      continue;
    }
    if (stat.isDirectory() || !canExecute(stat, account)) {
      denied ??= candidate;
      continue;
    }
    return undefined;
  }
  if (denied !== undefined) {
    return { code: 'EACCES', message: `${command}: permission denied for user uid ${account.uid} (EACCES)` };
  }
  return { code: 'ENOENT', message: `${command}: no such file (ENOENT)` };
}

function canExecute(stat: { mode: number; uid: number; gid: number }, account: UserAccount): boolean {
  if (account.uid === 0) return (stat.mode & 0o111) !== 0;
  if (stat.uid === account.uid) return (stat.mode & 0o100) !== 0;
  if (account.groups.includes(stat.gid)) return (stat.mode & 0o010) !== 0;
  return (stat.mode & 0o001) !== 0;
}

const said = new Set<string>();

/** true the first time a message is seen in this process: for warnings logged once */
export function firstTime(message: string): boolean {
  if (said.has(message)) return false;
  said.add(message);
  return true;
}
