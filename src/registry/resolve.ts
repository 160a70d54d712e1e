// Merged servers to the resolved model: defaults of design.md §2 filled in, relative paths made
// absolute against the install folder, the shutdown timeout computed when it is not given.
import { resolve } from 'node:path';
import { type DependencyNode, dependencyProblems, stopWaves } from '../supervisor/dependencies.js';
import { defaults } from './defaults.js';
import type { ConfigDocument } from './document.js';
import type { ProblemList } from './errors.js';
import type { MergedServer } from './merge.js';
import type { CheckSpec, Registry, RegistryConfig, ServerSpec } from './model.js';
import { closest, quoted } from './values.js';

export function resolveRegistry(
  config: ConfigDocument,
  merged: MergedServer[],
  file: string,
  home: string,
  problems: ProblemList,
): Registry {
  const servers: ServerSpec[] = [];
  for (const server of merged) {
    const spec = resolveServer(server, home, problems);
    if (spec) servers.push(spec);
  }
  checkKinds(merged, problems);
  checkDependencies(merged, problems);
  return { file, home, config: resolveConfig(config, servers, home), servers };
}

function resolveServer(
  { id, line, settings }: MergedServer,
  home: string,
  problems: ProblemList,
): ServerSpec | undefined {
  if (settings.command === undefined) {
    if (!settings.invalid.has('command')) {
      problems.add(
        line,
        'command',
        'missing: every server needs a <command>, on the server or in a profile it refers to',
        `server "${id}"`,
      );
    }
    return undefined;
  }
  const d = defaults.server;
  const command = resolveCommand(settings.command.value, home);
  const kind = settings.kind ?? defaults.kind;
  const policy =
    settings.restart?.policy ??
    (kind === 'oneshot' ? defaults.oneshotRestartPolicy : defaults.restart.policy);
  return {
    id,
    description: settings.description ?? d.description,
    command,
    args: settings.args.map((arg) => arg.value),
    shown: {
      command: shownCommand(settings.command.written, command),
      args: settings.args.map((arg) => arg.written),
    },
    env: settings.env,
    envFiles: settings.envFiles,
    workingDirectory: resolve(home, settings.workingDirectory ?? '.'),
    ...(settings.user !== undefined ? { user: settings.user } : {}),
    startPriority: settings.startPriority ?? d.startPriority,
    startDelay: settings.startDelay ?? d.startDelay,
    stopTimeout: settings.stopTimeout ?? d.stopTimeout,
    stopSignal: settings.stopSignal ?? d.stopSignal,
    restart: { ...defaults.restart, ...settings.restart, policy },
    ...(settings.readiness ? { readiness: resolveCheck(settings.readiness, home, settings.user) } : {}),
    ...(settings.liveness ? { liveness: resolveCheck(settings.liveness, home, settings.user) } : {}),
    critical: settings.critical ?? d.critical,
    output: settings.output ?? d.output,
    kind,
    dependsOn: settings.dependsOn.map(({ server, condition }) => ({ server, condition })),
    ...(settings.schedule ? { schedule: settings.schedule } : {}),
    ...(settings.limits ? { limits: settings.limits } : {}),
  };
}

const UNUSED_ON_ONESHOT = {
  readiness: 'a oneshot is ready when it exits 0, not by a check: remove <readiness> (or make it a longrun)',
  liveness:
    'a oneshot runs to completion and is not watched for liveness: remove <liveness> (or make it a longrun)',
} as const;

/**
 * A schedule is for oneshots: a longrun is always running, there is nothing to run again. And a
 * oneshot is not watched by checks (it is ready when it exits 0, and runs to completion): a check
 * on one would be silently unused, so it is refused where it is written.
 */
function checkKinds(merged: MergedServer[], problems: ProblemList): void {
  for (const { id, settings } of merged) {
    const oneshot = (settings.kind ?? defaults.kind) === 'oneshot';
    if (settings.schedule && !oneshot) {
      problems.add(
        settings.lines.schedule ?? 0,
        'schedule',
        'a schedule is for oneshots only (a longrun is kept running): add <kind>oneshot</kind> or remove <schedule>',
        `server "${id}"`,
      );
    }
    if (!oneshot) continue;
    for (const check of ['readiness', 'liveness'] as const)
      if (settings[check])
        problems.add(settings.lines[check] ?? 0, check, UNUSED_ON_ONESHOT[check], `server "${id}"`);
  }
}

/**
 * The graph of every server, including those with another problem (a missing command), so that a
 * dependency on one of them is not also reported as unknown.
 */
function checkDependencies(merged: MergedServer[], problems: ProblemList): void {
  const nodes: DependencyNode[] = merged.map(({ id, settings }) => ({
    id,
    startPriority: settings.startPriority ?? defaults.server.startPriority,
    kind: settings.kind ?? defaults.kind,
    dependsOn: settings.dependsOn,
  }));
  const byId = new Map(merged.map((server) => [server.id, server]));
  // the <dependsOn> element a problem is about: its line, and where it was written
  const at = (server: string, dependency: string) => {
    const found = byId.get(server)?.settings.dependsOn.find((d) => d.server === dependency);
    return { line: found?.line ?? byId.get(server)?.line ?? 0, where: found?.where ?? `server "${server}"` };
  };
  for (const problem of dependencyProblems(nodes)) {
    if (problem.type === 'cycle') {
      const first = problem.path[0] ?? '';
      const second = problem.path[1] ?? first;
      const { line } = at(first, second);
      const others = problem.servers.filter((id) => !problem.path.includes(id));
      problems.add(
        line,
        'dependsOn',
        `dependency cycle: ${problem.path.join(' -> ')}${others.length > 0 ? ` (also on cycles with them: ${others.join(', ')})` : ''}: each waits for the next, so none of ${problem.servers.map((id) => quoted(id)).join(', ')} could start`,
        `server "${first}"`,
      );
      continue;
    }
    const { line, where } = at(problem.server, problem.dependency);
    const forServer = where.startsWith('server ') ? where : `server "${problem.server}" (from ${where})`;
    switch (problem.type) {
      case 'unknown': {
        const near =
          problems.full || merged.length > 1000
            ? undefined
            : closest(
                problem.dependency,
                merged.map((s) => s.id),
              );
        problems.add(
          line,
          'dependsOn',
          `server ${quoted(problem.dependency)} is not defined${near ? `: did you mean ${quoted(near)}?` : ''}`,
          forServer,
        );
        break;
      }
      case 'condition':
        problems.add(
          line,
          'dependsOn',
          `condition ${problem.condition} needs a oneshot, and ${quoted(problem.dependency)} is a longrun (it never completes): use started or ready, or give it <kind>oneshot</kind>`,
          forServer,
        );
        break;
      case 'priority':
        problems.add(
          line,
          'dependsOn',
          `${quoted(problem.dependency)} has startPriority ${problem.dependencyPriority}, after this server's ${problem.priority}: it would wait for a server that waits for it; give ${quoted(problem.dependency)} the same or a lower startPriority`,
          forServer,
        );
        break;
    }
  }
}

/** A command with a slash is a path (relative ones under home); a bare name is looked up in PATH. */
export function resolveCommand(command: string, home: string): string {
  return command.includes('/') ? resolve(home, command) : command;
}

/** What logs and the plan show of a command: as written when it uses ${VAR}s, else resolved. */
function shownCommand(written: string, resolved: string): string {
  return written.includes('${') ? written : resolved;
}

/** an exec check: its command resolved like the server's, run as the server's user */
function resolveCheck(check: CheckSpec, home: string, user: string | undefined): CheckSpec {
  if (check.type !== 'exec') return check;
  const command = resolveCommand(check.command, home);
  return {
    ...check,
    command,
    shown: { ...check.shown, command: shownCommand(check.shown.command, command) },
    ...(user !== undefined ? { user } : {}),
  };
}

function resolveConfig(config: ConfigDocument, servers: ServerSpec[], home: string): RegistryConfig {
  const d = defaults.config;
  return {
    tcpport: config.tcpport ?? d.tcpport,
    host: config.host ?? d.host,
    ...(config.log !== undefined ? { log: resolve(home, config.log) } : {}),
    temp: resolve(home, config.temp ?? d.temp),
    tracelevel: config.tracelevel ?? d.tracelevel,
    tracestatsinterval: config.tracestatsinterval ?? d.tracestatsinterval,
    restartIntensity: config.restartIntensity ?? { ...d.restartIntensity },
    shutdownTimeout: config.shutdownTimeout ?? defaultShutdownTimeout(servers),
    shutdownDelay: config.shutdownDelay ?? d.shutdownDelay,
    logRetentionDays: config.logRetentionDays ?? d.logRetentionDays,
    logBuffer: config.logBuffer ?? { ...d.logBuffer },
  };
}

/**
 * Waves stop one after the other, all servers of a wave at once: the longest stop timeout of each
 * wave, summed, plus a margin. A wave is a priority group, or part of one when dependencies inside
 * it make dependents stop first (src/supervisor/dependencies.ts).
 */
export function defaultShutdownTimeout(
  servers: Array<
    Pick<ServerSpec, 'startPriority' | 'stopTimeout'> & Partial<Pick<ServerSpec, 'id' | 'dependsOn'>>
  >,
): number {
  const nodes = servers.map((server, index) => ({
    id: server.id ?? `#${index}`,
    startPriority: server.startPriority,
    dependsOn: server.dependsOn ?? [],
    stopTimeout: server.stopTimeout,
  }));
  let sum = defaults.config.shutdownMargin;
  for (const wave of stopWaves(nodes, (node) => node))
    sum += Math.max(0, ...wave.members.map((node) => node.stopTimeout));
  return sum;
}
