// Reload as a difference (design.md §3): which servers to stop, start, restart, or leave alone.
// Pure: compares two resolved registries.
import { isDeepStrictEqual } from 'node:util';
import type { ServerSpec } from '../registry/model.js';

/**
 * Settings the supervisor applies to a running component without restarting it: they change
 * how it is supervised, not the process. Everything else (command, arguments, environment,
 * working directory, user, output, checks, stop signal) needs a new process.
 */
const appliedInPlace = [
  'description',
  'critical',
  'startPriority',
  'startDelay',
  'stopTimeout',
  'restart',
  // how the command line is written for logs: a new spelling of the same values is no new process
  'shown',
  // rev. 2: when it starts and how it is watched, not the process; an env file's variables are in
  // `env`, so a changed file is a change, while a file renamed with the same content is not
  'dependsOn',
  'schedule',
  'limits',
  'envFiles',
] as const;

export interface RegistryDiff {
  removed: string[];
  added: ServerSpec[];
  /** the process must be replaced */
  changed: ServerSpec[];
  /** only in-place settings differ */
  updated: ServerSpec[];
  unchanged: string[];
}

export function diffServers(current: readonly ServerSpec[], next: readonly ServerSpec[]): RegistryDiff {
  const before = new Map(current.map((spec) => [spec.id, spec]));
  const after = new Set(next.map((spec) => spec.id));
  const diff: RegistryDiff = {
    removed: current.filter((spec) => !after.has(spec.id)).map((spec) => spec.id),
    added: [],
    changed: [],
    updated: [],
    unchanged: [],
  };
  for (const spec of next) {
    const old = before.get(spec.id);
    if (!old) diff.added.push(spec);
    else if (isDeepStrictEqual(old, spec)) diff.unchanged.push(spec.id);
    else if (isDeepStrictEqual(withoutInPlace(old), withoutInPlace(spec))) diff.updated.push(spec);
    else diff.changed.push(spec);
  }
  return diff;
}

function withoutInPlace(spec: ServerSpec): Partial<ServerSpec> {
  const copy: Partial<ServerSpec> = { ...spec };
  for (const key of appliedInPlace) delete copy[key];
  return copy;
}
