// How a component's status reads to a person: the `status` table and the status page show the
// same words, so both format through here. Input is the JSON API's shape (ComponentJson), which
// is what the CLI receives over the socket and what the page renders from.
import type { ComponentJson } from './component-json.js';

/** 42s, 3m12s, 2h03m, 3d04h: two units at most, like `docker ps` and `kubectl get` */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  const pad = (n: number) => String(n).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${pad(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86_400)}d${pad(Math.floor((s % 86_400) / 3600))}h`;
}

/** binary units, as `free -h` and Grafana's bytes(IEC) show resident memory */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** `code 3`, `SIGKILL`, `SIGTERM (stopped)`, `SIGKILL (unhealthy)`, `SIGTERM (memory)`, then how long ago */
export function formatLastExit(component: Pick<ComponentJson, 'lastExit'>, now: number): string {
  const exit = component.lastExit;
  if (!exit) return '-';
  const how = exit.signal ?? `code ${exit.code}`;
  // exited/signaled are already said by code/signal; stopped, unhealthy and memory say who ended it
  const why = exit.reason === 'exited' || exit.reason === 'signaled' ? '' : ` (${exit.reason})`;
  return `${how}${why}, ${formatDuration((now - exit.at) / 1000)} ago`;
}

/** why it is not ready, or why it could not start; empty when it is ready */
export function formatNote(component: ComponentJson): string {
  if (component.startError) return `cannot start: ${component.startError.message}`;
  if (component.ready) return '';
  return component.notReadyReason ?? component.state;
}

/** a scheduled oneshot: `next run in 4m10s (14:15:00 UTC)`; empty when it has no run ahead */
export function formatNextRun(component: Pick<ComponentJson, 'nextRunAt'>, now: number): string {
  const at = component.nextRunAt;
  if (at === undefined) return '';
  const inSeconds = Math.max(0, Math.ceil((at - now) / 1000));
  return `next run in ${formatDuration(inSeconds)} (${new Date(at).toISOString().slice(11, 19)} UTC)`;
}

export function formatUptime(component: ComponentJson): string {
  return component.uptimeSeconds === undefined ? '-' : formatDuration(component.uptimeSeconds);
}

export function formatMemory(component: ComponentJson): string {
  return component.resources ? formatBytes(component.resources.rssBytes) : '-';
}

/** CPU use as a share of one core: `0.4%`, `12%`, `-` without a process */
export function formatCpu(percent: number | undefined): string {
  if (percent === undefined || !Number.isFinite(percent)) return '-';
  const value = Math.max(0, percent);
  return value < 10 ? `${value.toFixed(1)}%` : `${Math.round(value)}%`;
}

/** restarts within `seconds` before `now` (from the status's bounded list of restart times) */
export function restartsWithin(
  component: Pick<ComponentJson, 'restartTimes'>,
  now: number,
  seconds: number,
): number {
  const since = now - seconds * 1000;
  return (component.restartTimes ?? []).filter((at) => at > since && at <= now).length;
}

/**
 * A crash loop, as the S7SupervisorComponentCrashLooping alert sees one: 3 or more restarts in
 * the last 5 minutes.
 */
export function isCrashLooping(component: Pick<ComponentJson, 'restartTimes'>, now: number): boolean {
  return restartsWithin(component, now, 300) >= 3;
}
