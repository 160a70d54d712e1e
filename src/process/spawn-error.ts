// How a start ends or fails, apart from how processes are started (spawn.ts), so that the core and
// its test host can speak of it without loading the spawning code.

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** a child on our terminal: we made ourselves its foreground group again after it exited */
  terminalTakenBack?: true;
}

/** Start failures that trying again cannot cure: the component is `fatal`. */
const FATAL_CODES = new Set(['ENOENT', 'EACCES', 'ENOEXEC', 'EPERM', 'ENOTDIR', 'ELOOP', 'ENAMETOOLONG']);

export class SpawnError extends Error {
  override name = 'SpawnError';
  /** true when retrying cannot help (see FATAL_CODES); else a shortage to retry with backoff */
  readonly fatal: boolean;

  constructor(
    message: string,
    /** the errno name (ENOENT, EMFILE...), or EUSER for an unknown user */
    readonly code: string,
    /** found before any spawn (unknown user, no permission to switch to it): the message says more than the code */
    readonly beforeSpawn = false,
  ) {
    super(message);
    this.fatal = isFatalSpawnCode(code);
  }
}

export function isFatalSpawnCode(code: string): boolean {
  return FATAL_CODES.has(code) || code === 'EUSER';
}
