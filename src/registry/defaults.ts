// design.md §2, "Defaults where an element is absent". One table, used by the reader (attributes
// of an element that is present) and by the resolver (elements that are absent).
import type { RestartSpec } from './model.js';

/**
 * the most `<logBuffer lines>` accepts; the byte bound of each buffer (src/log/buffer.ts) keeps
 * memory bounded whatever the count, this only refuses a number that cannot have been meant
 */
export const MAX_LOG_BUFFER_LINES = 1_000_000;

/**
 * The byte bound of each component's output buffer: its lines' text plus LOG_LINE_OVERHEAD
 * bytes of bookkeeping per line. 1 MiB holds the default 1000 lines up to ~1 KiB each; 100
 * components cost at most 100 MiB, and far less in practice (a buffer grows only as it fills).
 */
export const LOG_BUFFER_BYTES = 1024 * 1024;
/** what one buffered line costs beyond its text (time, pid, stream, offsets): counted in the bound */
export const LOG_LINE_OVERHEAD = 32;

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
    /** output lines kept in memory per component for `logs`, the API and the status page */
    logBuffer: { lines: 1000 },
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
  /** rev. 2: a oneshot's restart policy is on-failure unless given */
  kind: 'longrun' as const,
  oneshotRestartPolicy: 'on-failure' as const,
  dependencyCondition: 'ready' as const,
  /** rev. 2: seconds between memory samples */
  limits: { checkInterval: 2 },
} as const;
