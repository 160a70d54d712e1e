// The terminal in tini mode (design.md §5 rev. 2): whether the child can have ours. The mechanism
// (a new process group in our session, tcsetpgrp) is in native/terminal.c and spawn.ts.
import { isatty } from 'node:tty';
import { loadNative } from './native.js';

export interface ChildTerminal {
  /** we are the terminal's foreground group, so the child becomes it (else it runs in the background) */
  takeForeground: boolean;
}

/**
 * When stdin is our controlling terminal, how the child gets it; undefined when there is no
 * terminal (or stdin is a terminal that is not ours to give: another session's), and then
 * nothing changes: the child gets a session of its own as every component does.
 */
export function terminalForChild(): ChildTerminal | undefined {
  if (!isatty(0)) return undefined;
  const native = loadNative();
  const foreground = native.foregroundGroup(0);
  if (foreground === -1) return undefined;
  // Started in the background (`run -- cmd &` from a shell): the child starts in the background
  // too and the shell's job control decides, rather than stealing the terminal as tini does.
  return { takeForeground: foreground === native.processGroup() };
}

/**
 * Once the child holds the terminal we are a background process: SIGTTOU (writing our log to a
 * terminal with `stty tostop`, or tcsetpgrp) and SIGTTIN must not stop us. Ignored, as tini does.
 */
export function ignoreTerminalStops(): void {
  loadNative().ignoreTerminalStops();
}
