// A component as the JSON API shows it (GET /api/v1/components), which is also what the CLI
// receives over the control socket and what the status page renders from: the status snapshot of
// the core plus what is read from /proc. Owned here, by the view, so that http (which serves it),
// the CLI (which prints it) and format.ts (which words it) all import it from below.
import type { ResourceReader } from '../metrics/resources.js';
import type { ComponentStatus } from '../supervisor/status.js';

/** a component as the JSON API shows it: its snapshot plus uptime and resources, never its environment */
export interface ComponentJson extends ComponentStatus {
  /** seconds since the last start, while its process runs */
  uptimeSeconds?: number;
  /** resident memory, CPU seconds and live processes of its process group, while it runs */
  resources?: { rssBytes: number; cpuSeconds: number; processes: number };
}

export function toJson(
  statuses: readonly ComponentStatus[],
  resources: ResourceReader,
  now = Date.now(),
): ComponentJson[] {
  const groups = resources.read(statuses);
  return statuses.map((status) => {
    const json: ComponentJson = { ...status };
    if (status.pid !== undefined && status.startedAt !== undefined)
      json.uptimeSeconds = Math.max(0, (now - status.startedAt) / 1000);
    const group = groups.get(status.id);
    if (group) json.resources = { ...group };
    return json;
  });
}
