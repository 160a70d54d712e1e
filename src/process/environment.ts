// What a child process sees of the environment: ours, less what it must not see, under the
// variables the registry sets for it.

/** The control token is the operator's, never a component's or a check's (design.md §3 rev. 2). */
const WITHHELD_VARIABLES = ['S7SUPERVISOR_CONTROL_TOKEN'];

/**
 * `registryEnv` is the server's merged environment: its env files already beneath its <variable>s
 * (src/registry/read.ts), so what a file sets is withheld here like anything else.
 */
export function childEnvironment(
  registryEnv: Readonly<Record<string, string | undefined>>,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...registryEnv };
  for (const name of WITHHELD_VARIABLES) delete env[name];
  return env;
}
