// `<user>`: which uid/gid a component runs as. Node has no getpwnam, and /etc/passwd is what
// getpwnam reads in a container (no NSS services there), so it is read directly.
import { readFileSync } from 'node:fs';

export interface UserIds {
  uid: number;
  gid: number;
}

/** Looks a user up by name or numeric uid; undefined when /etc/passwd has no such user. */
export function lookupUser(user: string, passwdFile = '/etc/passwd'): UserIds | undefined {
  let text: string;
  try {
    text = readFileSync(passwdFile, 'utf8');
  } catch {
    return undefined;
  }
  const numeric = /^\d+$/.test(user);
  for (const line of text.split('\n')) {
    const [name, , uid, gid] = line.split(':');
    if (name === undefined || uid === undefined || gid === undefined) continue;
    if (numeric ? uid === user : name === user) return { uid: Number(uid), gid: Number(gid) };
  }
  // a bare uid with no passwd entry is still a valid identity (gid = uid, as `docker run -u` does)
  return numeric ? { uid: Number(user), gid: Number(user) } : undefined;
}
