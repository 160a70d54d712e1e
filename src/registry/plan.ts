// The resolved start plan, for people: what `check` prints. Environment values are never shown
// (they hold secrets), only the variable names.
import { EXIT_GAVE_UP } from '../supervisor/exit-codes.js';
import { startOrder, stopOrder } from '../supervisor/ordering.js';
import { parseSchedule } from './cron.js';
import { LOG_BUFFER_BYTES } from './defaults.js';
import type { CheckSpec, Registry, RestartSpec, ScheduleSpec, ServerSpec } from './model.js';
import { escapeControls, formatSize } from './values.js';

const traceLevels: Record<number, string> = { 1: 'warn', 2: 'info', 3: 'debug', 4: 'trace' };

/** `now` is what a schedule's next run is counted from (a parameter so that tests can fix it) */
export function formatPlan(registry: Registry, now: Date = new Date()): string {
  const { config } = registry;
  const lines: string[] = [];
  const row = (indent: string, label: string, value: string) =>
    lines.push(`${indent}${label.padEnd(19)}${escapeControls(value)}`);

  row('', 'registry', registry.file || '(none)');
  row('', 'home', registry.home);
  lines.push('', 'config');
  row('  ', 'endpoints', `http://${hostPort(config.host, config.tcpport)} (/livez /readyz /metrics /)`);
  row('  ', 'temp', config.temp);
  row(
    '  ',
    'log',
    config.log ? `${config.log} (daily files Supervisor-YYYY-MM-DD.log) and stdout` : 'stdout only',
  );
  if (config.log)
    row(
      '  ',
      'log retention',
      config.logRetentionDays > 0
        ? `daily files older than ${config.logRetentionDays} day${config.logRetentionDays === 1 ? '' : 's'} are deleted`
        : 'daily files are kept forever',
    );
  row('  ', 'tracelevel', `${config.tracelevel} (${traceLevels[config.tracelevel] ?? '?'})`);
  row(
    '  ',
    'stats interval',
    config.tracestatsinterval > 0 ? `every ${seconds(config.tracestatsinterval)}` : 'off',
  );
  row(
    '  ',
    'restart intensity',
    `at most ${config.restartIntensity.max} restarts in ${seconds(config.restartIntensity.period)}, then give up (exit ${EXIT_GAVE_UP})`,
  );
  row(
    '  ',
    'shutdown delay',
    config.shutdownDelay > 0
      ? `${seconds(config.shutdownDelay)} (/readyz 503 at once, components stop after it)`
      : 'none (components stop at once)',
  );
  row(
    '  ',
    'shutdown timeout',
    config.shutdownDelay > 0
      ? `${seconds(config.shutdownTimeout)} (from the end of the delay)`
      : seconds(config.shutdownTimeout),
  );
  row(
    '  ',
    'log buffer',
    config.logBuffer.lines > 0
      ? `last ${config.logBuffer.lines} output lines of each component kept in memory (at most ${LOG_BUFFER_BYTES / 1024 / 1024} MiB each)`
      : 'off (no output kept in memory: logs, the API and the status page show none)',
  );

  const groups = startOrder(registry.servers);
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  lines.push(
    '',
    `start plan: ${count(registry.servers.length, 'server')} in ${count(groups.length, 'priority group')}`,
  );
  groups.forEach(({ priority, members: servers }, index) => {
    const ids = servers.map((s) => s.id).join(', ');
    const previous = groups[index - 1];
    const when = previous ? `after priority ${previous.priority} is ready` : 'first';
    const inGroup = new Set(servers.map((s) => s.id));
    const ordered = servers.some((s) => s.dependsOn.some((d) => inGroup.has(d.server)));
    const together = servers.length > 1 ? (ordered ? 'together as dependencies allow, ' : 'together, ') : '';
    lines.push('', `priority ${priority}: ${ids} (${together}${when})`);
    for (const server of servers) formatServer(server, lines, now);
  });
  if (groups.length > 0) {
    // the order shutdown and a restart of everything stop in (supervisor/ordering.ts): dependents
    // before what they depend on, then by priority
    const order = stopOrder(registry.servers).map(
      ({ priority, members }) => `${members.map((s) => s.id).join(', ')} (${priority})`,
    );
    lines.push('', `shutdown order: ${order.join(', then ')}`);
  }
  return `${lines.join('\n')}\n`;
}

function formatServer(server: ServerSpec, lines: string[], now: Date): void {
  // whatever the registry held, the plan stays one line per setting with no control character
  const row = (label: string, value: string) => lines.push(`    ${label.padEnd(19)}${escapeControls(value)}`);
  lines.push(`  ${server.id}${server.description ? `: ${escapeControls(server.description)}` : ''}`);
  if (server.kind === 'oneshot')
    row('kind', 'oneshot (runs to completion; exit 0: completed, counts as ready)');
  if (server.dependsOn.length > 0)
    row('after', server.dependsOn.map((d) => `${d.server} (${d.condition})`).join(', '));
  if (server.schedule) row('schedule', describeSchedule(server.schedule, now));
  // as written: an expanded ${VAR} may be a secret (design.md §7)
  row('command', [server.shown.command, ...server.shown.args].map(shellQuote).join(' '));
  row('working directory', server.workingDirectory);
  if (server.user !== undefined) row('user', server.user);
  const names = Object.keys(server.env);
  if (names.length > 0) row('environment', `${names.join(', ')} (values not shown)`);
  for (const file of server.envFiles) {
    const state = file.found
      ? `${file.names.length > 0 ? file.names.join(', ') : 'no variables'}${file.optional ? '; optional' : ''}`
      : 'optional, not found: none set';
    row('env file', `${file.shown} (${state})`);
  }
  if (server.limits)
    row(
      'memory limit',
      `${formatSize(server.limits.memory)} resident for the whole process group, sampled every ${seconds(server.limits.checkInterval)}; above it 3 times in a row: restarted`,
    );
  row(
    'ready',
    server.kind === 'oneshot'
      ? 'when it exits 0 (completed)'
      : server.readiness
        ? describeCheck(server.readiness, 'not ready')
        : readyWithoutCheck(server.startDelay),
  );
  if (server.liveness) row('liveness', describeCheck(server.liveness, 'hung: killed and restarted'));
  row('stop', `${server.stopSignal}, SIGKILL after ${seconds(server.stopTimeout)}`);
  row('restart', describeRestart(server.restart));
  row('critical', server.critical ? 'yes (counts toward /readyz)' : 'no');
  row(
    'output',
    server.output === 'raw' ? 'raw (lines passed through)' : `${server.output} (one log record per line)`,
  );
}

function describeSchedule(spec: ScheduleSpec, now: Date): string {
  const parsed = parseSchedule(spec);
  // the registry was validated with the same function: this is only a guard
  if (!parsed.ok) return `${spec.cron} (${parsed.message})`;
  const schedule = parsed.value;
  if (spec.cron.trim().startsWith('@every'))
    return `${schedule.description} (first run at its turn, then on a fixed grid; a run due while one runs is skipped)`;
  const next = schedule.nextRun(now);
  return `${schedule.description}; next run ${formatTime(next, spec.timezone)} (a run due while one runs is skipped)`;
}

/** `2026-12-01 02:30 Europe/Berlin`: in the schedule's zone, else the local one, so it reads like the expression */
export function formatTime(time: Date, timezone: string | undefined): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: timezone ? undefined : 'short',
  }).formatToParts(time);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const zone = timezone ?? part('timeZoneName');
  return `${part('year')}-${part('month')}-${part('day')} ${part('hour')}:${part('minute')} ${zone}`;
}

function readyWithoutCheck(startDelay: number): string {
  return startDelay > 0 ? `${seconds(startDelay)} after start (startDelay)` : 'as soon as started';
}

function describeCheck(check: CheckSpec, failing: string): string {
  const timing = `every ${seconds(check.interval)}, timeout ${seconds(check.timeout)}`;
  const threshold = `${check.failureThreshold} failure${check.failureThreshold === 1 ? '' : 's'} in a row: ${failing}`;
  switch (check.type) {
    case 'http':
      return `http GET ${check.url} answers 200-399 (${timing}; ${threshold})`;
    case 'tcp':
      return `tcp connect to ${hostPort(check.host, check.port)} (${timing}; ${threshold})`;
    case 'exec':
      return `exec ${[check.shown.command, ...check.shown.args].map(shellQuote).join(' ')} exits 0 (${timing}; ${threshold})`;
    case 'fd':
      return `the component writes a newline to fd ${check.fd}`;
  }
}

function describeRestart(restart: RestartSpec): string {
  if (restart.policy === 'never') return 'never';
  const when = restart.policy === 'always' ? 'always' : 'on-failure (not after exit 0)';
  return `${when}; backoff ${seconds(restart.backoffInitial)} doubling to ${seconds(restart.backoffMax)}, immediate after a run of ${seconds(restart.resetAfter)} or more`;
}

function seconds(value: number): string {
  return `${value}s`;
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Shell quoting: a word that needs none is left alone, anything else is single-quoted; control
 * characters (a newline would break the plan's one line per setting) use bash's $'...' escapes.
 */
export function shellQuote(word: string): string {
  if (word === '') return "''";
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is looked for
  if (/[\x00-\x1f\x7f]/.test(word)) {
    const escaped = word
      .replace(/[\\']/g, (c) => `\\${c}`)
      .replace(
        // biome-ignore lint/suspicious/noControlCharactersInRegex: as above
        /[\x00-\x1f\x7f]/g,
        (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
      );
    return `$'${escaped}'`;
  }
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
