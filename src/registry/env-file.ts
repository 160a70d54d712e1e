// `<environment file="…">` (design.md §2 rev. 2): a dotenv file read with dotenv's own parser.
// Why dotenv and not Node's util.parseEnv: the package supports Node >= 20, and parseEnv exists
// only from 20.12 and is still marked "active development" there, while the image runs Node 24:
// one file must mean the same under every Node we support. dotenv's grammar is one documented,
// versioned thing (5 KB, no dependencies): KEY=value, `export KEY=value`, # comments, single,
// double and backtick quotes, multi-line values in double quotes, \n expanded in double quotes.
// Values are never expanded (${VAR} stays as written), as with Docker's --env-file.
//
// Nothing here ever puts a value in a message: they are secrets.
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { parse } from 'dotenv';
import { readWhole } from './read-whole.js';

/** an env file larger than this is not an env file */
export const MAX_ENV_FILE_BYTES = 1024 * 1024;

export type EnvFileResult =
  | { ok: true; variables: Record<string, string> }
  | { ok: false; missing: boolean; message: string };

/** The variables of the dotenv file at `path` (absolute), in file order. */
export function readEnvFile(path: string): EnvFileResult {
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO must not hang the registry's reading (it is refused just below)
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT') return { ok: false, missing: true, message: 'no such file' };
    return { ok: false, missing: false, message: describeCode(code) };
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) return { ok: false, missing: false, message: 'is a directory, not an env file' };
    if (!stat.isFile()) return { ok: false, missing: false, message: 'is not a regular file' };
    if (stat.size > MAX_ENV_FILE_BYTES) {
      return {
        ok: false,
        missing: false,
        message: `larger than ${MAX_ENV_FILE_BYTES / 1024} KiB: not an env file`,
      };
    }
    return { ok: true, variables: parseEnvText(readWhole(fd, stat.size).toString('utf8')) };
  } catch (error) {
    return { ok: false, missing: false, message: describeCode(errorCode(error)) };
  } finally {
    closeSync(fd);
  }
}

/** dotenv's grammar; a variable named __proto__ stays a variable (defineProperty) */
export function parseEnvText(text: string): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const [name, value] of Object.entries(parse(text))) {
    // execve ends a value at a NUL: keep what the component would get, so reload compares that
    const clean = value.includes('\0') ? value.slice(0, value.indexOf('\0')) : value;
    Object.defineProperty(variables, name, {
      value: clean,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return variables;
}

function errorCode(error: unknown): string {
  return error && typeof error === 'object' && 'code' in error ? String(error.code) : 'unreadable';
}

function describeCode(code: string): string {
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory, not an env file';
  return `cannot be read (${code})`;
}
