// Where the registry and the install folder are (design.md §1): a flag beats an environment
// variable beats the default. An empty environment variable counts as unset.
import { join, resolve } from 'node:path';

export const DEFAULT_REGISTRY = 'conf/SupervisorRegistry.xml';

export interface RegistryLocation {
  /** absolute */
  file: string;
  /** absolute: the install folder relative paths in the registry resolve against */
  home: string;
}

export function locateRegistry(
  opts: { registry?: string; home?: string },
  env: NodeJS.ProcessEnv,
  cwd = process.cwd(),
): RegistryLocation {
  const home = resolve(cwd, opts.home || env.S7SUPERVISOR_HOME || '.');
  const given = opts.registry || env.S7SUPERVISOR_REGISTRY;
  // a registry named on the command line or in the environment is relative to where the user is
  const file = given ? resolve(cwd, given) : join(home, DEFAULT_REGISTRY);
  return { file, home };
}
