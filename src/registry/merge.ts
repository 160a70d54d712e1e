// Profiles into servers (design.md §2): the profiles in the order of the <profile ref>s, then the
// server's own elements on top. A single value is replaced by the later one, arguments are
// appended, the environment is merged variable by variable (the later one winning).
import type { ProfileDocument, RegistryDocument, ServerDocument, Settings } from './document.js';
import { emptySettings, setVariable, singleSettings } from './document.js';
import type { ProblemList } from './errors.js';
import { closest, quoted } from './values.js';

export interface MergedServer {
  id: string;
  line: number;
  settings: Settings;
}

export function mergeServers(document: RegistryDocument, problems: ProblemList): MergedServer[] {
  return document.servers.map((server) => ({
    id: server.id,
    line: server.line,
    settings: mergeSettings([...profilesOf(server, document.profiles, problems), server.settings]),
  }));
}

function profilesOf(
  server: ServerDocument,
  profiles: Map<string, ProfileDocument>,
  problems: ProblemList,
): Settings[] {
  const found: Settings[] = [];
  for (const ref of server.profileRefs) {
    const profile = profiles.get(ref.id);
    if (profile) {
      found.push(profile.settings);
      continue;
    }
    // suggestions are for typos in a registry of human size, not worth seconds on a generated one
    const near = problems.full || profiles.size > 1000 ? undefined : closest(ref.id, profiles.keys());
    const known = profiles.size === 0 ? ' (there is no <profiles> section)' : '';
    problems.add(
      ref.line,
      'profile',
      `profile ${quoted(ref.id)} is not defined${near ? `: did you mean ${quoted(near)}?` : known}`,
      `server "${server.id}"`,
    );
    // what an undefined profile would have set is unknown: do not also report it as missing
    found.push({ ...emptySettings(), invalid: new Set(['command']) });
  }
  return found;
}

/** later parts win; exported for the tests of the merge rules */
export function mergeSettings(parts: Settings[]): Settings {
  const merged = emptySettings();
  for (const part of parts) {
    for (const key of singleSettings) {
      copyDefined(key, part, merged);
      const line = part.lines[key];
      if (line !== undefined) merged.lines[key] = line;
    }
    merged.args.push(...part.args);
    merged.dependsOn.push(...part.dependsOn);
    merged.envFiles.push(...part.envFiles);
    for (const [name, value] of Object.entries(part.env)) setVariable(merged.env, name, value);
    for (const key of part.invalid) merged.invalid.add(key);
  }
  return merged;
}

function copyDefined<K extends (typeof singleSettings)[number]>(key: K, from: Settings, to: Settings): void {
  if (from[key] !== undefined) to[key] = from[key];
}
