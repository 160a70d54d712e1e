// Merged servers to the resolved model: defaults of design.md §2 filled in, relative paths made
// absolute against the install folder, the shutdown timeout computed when it is not given.
import { resolve } from 'node:path';
import { defaults } from './defaults.js';
import type { ConfigDocument } from './document.js';
import type { ProblemList } from './errors.js';
import type { MergedServer } from './merge.js';
import type { CheckSpec, Registry, RegistryConfig, ServerSpec } from './model.js';

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
    workingDirectory: resolve(home, settings.workingDirectory ?? '.'),
    ...(settings.user !== undefined ? { user: settings.user } : {}),
    startPriority: settings.startPriority ?? d.startPriority,
    startDelay: settings.startDelay ?? d.startDelay,
    stopTimeout: settings.stopTimeout ?? d.stopTimeout,
    stopSignal: settings.stopSignal ?? d.stopSignal,
    restart: settings.restart ?? { ...defaults.restart },
    ...(settings.readiness ? { readiness: resolveCheck(settings.readiness, home, settings.user) } : {}),
    ...(settings.liveness ? { liveness: resolveCheck(settings.liveness, home, settings.user) } : {}),
    critical: settings.critical ?? d.critical,
    output: settings.output ?? d.output,
  };
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
 * Groups stop one after the other, all servers of a group at once: the longest stop timeout of
 * each group, summed, plus a margin.
 */
export function defaultShutdownTimeout(
  servers: Array<Pick<ServerSpec, 'startPriority' | 'stopTimeout'>>,
): number {
  const longest = new Map<number, number>();
  for (const { startPriority, stopTimeout } of servers) {
    longest.set(startPriority, Math.max(longest.get(startPriority) ?? 0, stopTimeout));
  }
  let sum = defaults.config.shutdownMargin;
  for (const timeout of longest.values()) sum += timeout;
  return sum;
}
