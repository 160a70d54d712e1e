// Which metrics a PromQL expression reads, to hold dashboards and alert rules to design.md §6.
// Not a PromQL parser (promtool checks syntax): it strips what is not a metric name (strings,
// label matchers, ranges, grouping label lists, function calls, keywords, numbers) and keeps the rest.

/** design.md §6: the supervisor's own metrics */
export const designMetrics = [
  's7supervisor_component_up',
  's7supervisor_component_ready',
  's7supervisor_component_state',
  's7supervisor_component_restarts_total',
  's7supervisor_component_exits_total',
  's7supervisor_component_last_exit_code',
  's7supervisor_component_start_time_seconds',
  's7supervisor_component_resident_memory_bytes',
  's7supervisor_component_cpu_seconds_total',
  's7supervisor_check_duration_seconds',
  's7supervisor_check_failures_total',
  's7supervisor_zombies_reaped_total',
  's7supervisor_reloads_total',
  's7supervisor_info',
  's7supervisor_log_dropped_bytes_total',
  's7supervisor_component_memory_limit_bytes',
] as const;

const histograms = new Set<string>(['s7supervisor_check_duration_seconds']);

/** a metric name an expression may use: §6 (histogram series included), prom-client's defaults, `up` */
export function isKnownMetric(name: string): boolean {
  if ((designMetrics as readonly string[]).includes(name)) return !histograms.has(name);
  const series = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (series?.[1] && histograms.has(series[1])) return true;
  // prom-client's collectDefaultMetrics() names, and the scrape's own series
  return name === 'up' || /^(process|nodejs)_[a-z0-9_]+$/.test(name) || name.startsWith('scrape_');
}

const keywords = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring']);

/** the metric names an expression selects */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\b[a-zA-Z_][a-zA-Z0-9_]*\s*\(/g, ' (')
    .replace(/\b\d+(ms|s|m|h|d|w|y)\b/g, ' ')
    .replace(/\b\d+(\.\d+)?(e[+-]?\d+)?\b/gi, ' ');
  const names = stripped.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? [];
  return [...new Set(names.filter((name) => !keywords.has(name)))];
}
