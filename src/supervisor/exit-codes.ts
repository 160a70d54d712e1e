// The exit codes of `s7supervisor run` (design.md §1), named once: the CLI returns them and the
// start plan of `check` quotes them. Imports nothing, so every layer may use it.

/** stopped on SIGTERM/SIGINT (or a stop of the supervisor), every component stopped */
export const EXIT_STOPPED = 0;
/** gave up: the restart intensity was exceeded, so the orchestrator restarts the container */
export const EXIT_GAVE_UP = 1;
/** usage or registry error at start-up: nothing was started (also `check` of an invalid registry) */
export const EXIT_USAGE = 2;
/** tini mode: the command exists but cannot be executed (as a shell says it) */
export const EXIT_CANNOT_EXECUTE = 126;
/** tini mode: the command was not found */
export const EXIT_NOT_FOUND = 127;
/** a bug of ours (sysexits' EX_SOFTWARE) */
export const EXIT_INTERNAL_ERROR = 70;

/** killed by signal `n` (a forced stop, or tini mode's child): 128+N, as shells report it */
export function exitForSignal(n: number): number {
  return 128 + n;
}
