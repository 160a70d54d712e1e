// `<user>`: which uid/gid a component runs as: `name`, `uid`, `name:group` or `uid:gid`. Node
// has no getpwnam, and /etc/passwd and /etc/group are what it reads in a container (no NSS
// services there), so they are read directly.
import { readFileSync } from 'node:fs';

export interface UserIds {
  uid: number;
  gid: number;
}

/** Resolves a <user> value; undefined when the user (or group) does not exist. */
export function lookupUser(
  spec: string,
  passwdFile = '/etc/passwd',
  groupFile = '/etc/group',
): UserIds | undefined {
  const [user = '', group] = spec.split(':', 2);
  const ids = lookupEntry(passwdFile, user);
  if (!ids) return undefined;
  if (group === undefined || group === '') return ids;
  const gid = lookupEntry(groupFile, group)?.uid;
  return gid === undefined ? undefined : { uid: ids.uid, gid };
}

/** name or number → the 3rd and 4th fields of passwd (for group files only the 3rd matters) */
function lookupEntry(file: string, nameOrId: string): UserIds | undefined {
  const numeric = /^\d+$/.test(nameOrId);
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // no such file: only numeric ids can be resolved
  }
  for (const line of text.split('\n')) {
    const [name, , id, gid] = line.split(':');
    if (name === undefined || id === undefined) continue;
    if (numeric ? id === nameOrId : name === nameOrId) return { uid: Number(id), gid: Number(gid ?? id) };
  }
  // a bare number with no entry is still a valid identity (gid = uid, as `docker run -u` does)
  return numeric ? { uid: Number(nameOrId), gid: Number(nameOrId) } : undefined;
}
