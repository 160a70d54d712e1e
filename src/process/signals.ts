// Which signals the supervisor takes for itself and which it passes on (design.md §3, §5).
import { constants } from 'node:os';

/**
 * Every signal a Node process can catch and pass on. Left out: SIGKILL/SIGSTOP (cannot be
 * caught), SIGCHLD (the reaper's), the synchronous fault signals (SIGSEGV, SIGBUS, SIGFPE,
 * SIGILL, SIGABRT, SIGTRAP, SIGSYS: a fault of ours, never a message for the child), SIGPIPE
 * (Node ignores it for itself) and SIGPROF (the profiler's).
 */
export const forwardableSignals: readonly NodeJS.Signals[] = (
  [
    'SIGHUP',
    'SIGINT',
    'SIGQUIT',
    'SIGTERM',
    'SIGUSR1',
    'SIGUSR2',
    'SIGALRM',
    'SIGWINCH',
    'SIGCONT',
    'SIGTSTP',
    'SIGTTIN',
    'SIGTTOU',
    'SIGURG',
    'SIGVTALRM',
    'SIGXCPU',
    'SIGXFSZ',
    'SIGIO',
    'SIGPWR',
  ] as const
).filter((signal) => signal in constants.signals);

export function signalNumber(signal: NodeJS.Signals): number {
  return constants.signals[signal] ?? 0;
}

/** Installs `handler` for each signal; returns a function that removes them again. */
export function onSignals(
  signals: readonly NodeJS.Signals[],
  handler: (signal: NodeJS.Signals) => void,
): () => void {
  for (const signal of signals) process.on(signal, handler);
  return () => {
    for (const signal of signals) process.off(signal, handler);
  };
}
