// design.md §2, "Defaults where an element is absent". One table, used by the reader (attributes
// of an element that is present) and by the resolver (elements that are absent).
import type { RestartSpec } from './model.js';

export const defaults = {
  config: {
    tcpport: 9910,
    host: '0.0.0.0',
    temp: 'temp',
    tracelevel: 2,
    tracestatsinterval: 600,
    restartIntensity: { max: 10, period: 60 },
    /** rev. 2: seconds between SIGTERM (/readyz 503) and the start of the stop */
    shutdownDelay: 0,
    /** rev. 2: daily <log> files older than this many days are deleted (0: kept forever) */
    logRetentionDays: 14,
    /** added to the sum of the longest stop timeout of each priority group */
    shutdownMargin: 5,
  },
  server: {
    description: '',
    startPriority: 1,
    startDelay: 0,
    stopTimeout: 10,
    stopSignal: 'SIGTERM' as NodeJS.Signals,
    critical: true,
    output: 'json' as const,
  },
  restart: { policy: 'always', backoffInitial: 1, backoffMax: 30, resetAfter: 10 } satisfies RestartSpec,
  check: { interval: 10, timeout: 1, failureThreshold: 3, tcpHost: '127.0.0.1' },
} as const;
