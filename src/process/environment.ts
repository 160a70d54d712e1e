// What a child process sees of the environment: ours, less what it must not see, under the
// variables the registry sets for it.

/** The control token is the operator's, never a component's or a check's (design.md §3 rev. 2). */
const WITHHELD_VARIABLES = ['S7SUPERVISOR_CONTROL_TOKEN'];

/**
 * Ours, copied once: each read of process.env goes through Node's
 * C++ accessors, and copying it whole cost ~0.1 ms per start, on the way of every restart. Only
 * the process itself can change its environment, and nothing in the supervisor does, so the copy
 * never goes stale.
 */
let inherited: Readonly<NodeJS.ProcessEnv> | undefined;

/**
 * `registryEnv` is the server's merged environment: its env files already beneath its <variable>s
 * (src/registry/read.ts), so what a file sets is withheld here like anything else.
 */
export function childEnvironment(
  registryEnv: Readonly<Record<string, string | undefined>>,
): NodeJS.ProcessEnv {
  inherited ??= Object.freeze({ ...process.env });
  const env: NodeJS.ProcessEnv = { ...inherited, ...registryEnv };
  for (const name of WITHHELD_VARIABLES) delete env[name];
  return env;
}
