// The registry's front door: text or file in, resolved Registry out, or a RegistryError listing
// every problem of the file. Nothing here throws anything else for a user's mistake.
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { resolve } from 'node:path';
import { ProblemList, RegistryError } from './errors.js';
import { mergeServers } from './merge.js';
import type { Registry } from './model.js';
import { readDocument } from './read.js';
import { readWhole } from './read-whole.js';
import { resolveRegistry } from './resolve.js';
import { quoted } from './values.js';
import { MAX_REGISTRY_BYTES, parseXml } from './xml.js';

/**
 * Parses registry text. `file` names it in messages (and, made absolute, in the result); `home` is
 * the install folder relative paths resolve against; `env` is what ${VAR}s expand from.
 */
export function parseRegistry(text: string, file: string, home: string, env: NodeJS.ProcessEnv): Registry {
  const problems = new ProblemList(file);
  const root = parseXml(text, problems);
  problems.throwIfAny();
  if (!root) throw new RegistryError([{ file, line: 1, element: '', message: 'no document' }]);
  const document = readDocument(root, env, problems, resolve(home));
  const merged = mergeServers(document, problems);
  const registry = resolveRegistry(document.config, merged, resolve(file), resolve(home), problems);
  problems.throwIfAny();
  return registry;
}

export function loadRegistry(file: string, home: string, env: NodeJS.ProcessEnv): Registry {
  return parseRegistry(readRegistryText(file), file, home, env);
}

/** Reads the file as text; refuses what is not a small regular file before reading it. */
export function readRegistryText(file: string): string {
  const fail = (message: string): never => {
    throw new RegistryError([{ file, line: 0, element: '', message }]);
  };
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO named as the registry must not hang the open (it is refused just below)
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    return fail(`cannot read the registry: ${describe(error)}`);
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) return fail('is a directory, not a registry file');
    if (!stat.isFile()) return fail('is not a regular file');
    if (stat.size > MAX_REGISTRY_BYTES) {
      return fail(`the file is larger than ${MAX_REGISTRY_BYTES / 1024} KiB: not a registry`);
    }
    return decode(readWhole(fd, stat.size), fail);
  } catch (error) {
    if (error instanceof RegistryError) throw error;
    return fail(`cannot read the registry: ${describe(error)}`);
  } finally {
    closeSync(fd);
  }
}

/** UTF-8 unless the XML declaration names a Latin-1 family encoding, as older registries may. */
function decode(bytes: Buffer, fail: (message: string) => never): string {
  const head = bytes.subarray(0, 200).toString('latin1');
  const declared = /^(?:\uFEFF|\xEF\xBB\xBF)?<\?xml[^>]*\bencoding\s*=\s*["']([^"']+)["']/.exec(head)?.[1];
  const encoding = declared?.toLowerCase();
  if (encoding === undefined || encoding === 'utf-8' || encoding === 'utf8' || encoding === 'us-ascii') {
    return bytes.toString('utf8');
  }
  if (['iso-8859-1', 'latin1', 'latin-1', 'windows-1252', 'cp1252', 'iso-8859-15'].includes(encoding)) {
    return new TextDecoder(encoding === 'latin-1' ? 'latin1' : encoding).decode(bytes);
  }
  return fail(`encoding ${quoted(declared ?? '')} is not supported: save the registry as UTF-8`);
}

function describe(error: unknown): string {
  if (error && typeof error === 'object' && 'code' in error) {
    const code = String(error.code);
    if (code === 'ENOENT') return 'no such file';
    if (code === 'EACCES') return 'permission denied';
    if (code === 'EISDIR') return 'is a directory, not a registry file';
    return code;
  }
  return error instanceof Error ? error.message : String(error);
}
