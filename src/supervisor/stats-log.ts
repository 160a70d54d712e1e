// <tracestatsinterval>: every N seconds one log record with each component's state, pid,
// uptime, restarts and resident memory (of its whole process group, from /proc).
import type { Logger } from 'pino';
import { createResourceReader, type ResourceReader } from '../metrics/resources.js';
import type { SupervisorView } from './status.js';

export function startStatsLog(
  view: SupervisorView,
  logger: Logger,
  intervalSeconds: number,
  /** the shared /proc reading of the HTTP endpoints and metrics, so the log adds no pass of its own */
  resources: ResourceReader = createResourceReader(),
): { stop(): void } {
  if (intervalSeconds <= 0) return { stop() {} };
  const timer = setInterval(() => {
    const components = view.components();
    const stats = resources.read(components);
    const now = Date.now();
    logger.info(
      {
        stats: components.map((c) => {
          const group = stats.get(c.id);
          return {
            component: c.id,
            state: c.state,
            pid: c.pid ?? null,
            uptimeSeconds:
              c.pid !== undefined && c.startedAt !== undefined ? Math.round((now - c.startedAt) / 1000) : 0,
            restarts: c.restarts,
            residentMemoryBytes: group?.rssBytes ?? 0,
          };
        }),
      },
      'component stats',
    );
  }, intervalSeconds * 1000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
