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

/** a signal an operator named: its name when it has one, and its number */
export interface NamedSignal {
  /** 'SIGHUP'; absent for a number with no name here (a real-time signal) */
  name?: NodeJS.Signals;
  number: number;
}

/** the highest signal number Linux has (SIGRTMAX) */
const MAX_SIGNAL = 64;

/**
 * `HUP`, `SIGHUP`, `hup` or `1` (design.md §1 `signal`): the signal it means, or undefined when
 * this system has no such signal. 0 (which only checks that a process exists) is refused.
 */
export function parseSignalArgument(text: string): NamedSignal | undefined {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) {
    const number = Number(trimmed);
    if (number < 1 || number > MAX_SIGNAL) return undefined;
    const name = (Object.keys(constants.signals) as NodeJS.Signals[]).find(
      (candidate) => constants.signals[candidate] === number,
    );
    return name ? { name, number } : { number };
  }
  const upper = trimmed.toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  if (!/^SIG[A-Z0-9]+$/.test(name) || !Object.hasOwn(constants.signals, name)) return undefined;
  return { name: name as NodeJS.Signals, number: constants.signals[name as NodeJS.Signals] };
}

/** how a signal reads in messages: SIGHUP, or "signal 40" */
export function describeSignal(signal: NamedSignal): string {
  return signal.name ?? `signal ${signal.number}`;
}
