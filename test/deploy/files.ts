// Reading the shipped deployment files the way their consumers do (YAML, JSON, the registry XML).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { parseAllDocuments } from 'yaml';
import { demoHome, repoRoot } from '../helpers/paths.js';

export type Json = Record<string, unknown>;

export function repoFile(path: string): string {
  return join(repoRoot, path);
}

/** every document of a YAML file, parse errors thrown with the file's name */
export function readYamlDocuments(path: string): Json[] {
  return parseAllDocuments(readFileSync(repoFile(path), 'utf8')).map((doc, index) => {
    if (doc.errors.length > 0) throw new Error(`${path} document ${index + 1}: ${doc.errors[0]?.message}`);
    return doc.toJSON() as Json;
  });
}

export function readYaml(path: string): Json {
  const [doc, ...rest] = readYamlDocuments(path);
  if (!doc || rest.length > 0) throw new Error(`${path}: expected exactly one YAML document`);
  return doc;
}

/** walks a parsed document: at(obj, 'spec', 'template', 'spec') */
export function at(value: unknown, ...path: Array<string | number>): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

export interface DemoRegistryTimes {
  /** stopTimeout of every server (default 10 s when absent, as design.md §2 says) */
  stopTimeouts: Map<string, number>;
  /** startPriority of every server (default 1) */
  priorities: Map<string, number>;
  /** <shutdownTimeout>, when the registry sets one */
  shutdownTimeout?: number;
  /** <shutdownDelay> with its variables unset (default 0), and the variable that sets it, if any */
  shutdownDelay: number;
  shutdownDelayVariable?: string;
  tcpport: number;
}

/** `${VAR:-default}` as the registry would expand it with VAR unset; a plain number as is */
function seconds(raw: unknown, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const text = String(raw).replace(/\$\{\w+:-([^}]*)\}/g, '$1');
  const value = Number(text);
  if (!Number.isFinite(value)) throw new Error(`not a number of seconds: ${String(raw)}`);
  return value;
}

/** the demo registry's stop timeouts and port (a plain XML read, independent of src/registry) */
export function demoRegistryTimes(): DemoRegistryTimes {
  const xml = readFileSync(join(demoHome, 'conf/SupervisorRegistry.xml'), 'utf8');
  const doc = new XMLParser({ ignoreAttributes: false, parseTagValue: false }).parse(xml) as Json;
  const config = at(doc, 'supervisor', 'config');
  const servers = at(doc, 'supervisor', 'servers', 'server');
  const list = (Array.isArray(servers) ? servers : [servers]) as Json[];
  const stopTimeouts = new Map<string, number>();
  const priorities = new Map<string, number>();
  for (const server of list) {
    stopTimeouts.set(String(server['@_id']), seconds(server.stopTimeout, 10));
    priorities.set(String(server['@_id']), seconds(server.startPriority, 1));
  }
  const shutdown = at(config, 'shutdownTimeout');
  const delay = at(config, 'shutdownDelay');
  const delayVariable = /^\$\{(\w+)(:-[^}]*)?\}$/.exec(String(delay ?? ''))?.[1];
  return {
    stopTimeouts,
    priorities,
    shutdownDelay: seconds(delay, 0),
    ...(delayVariable ? { shutdownDelayVariable: delayVariable } : {}),
    ...(shutdown === undefined ? {} : { shutdownTimeout: seconds(shutdown, 0) }),
    tcpport: seconds(at(config, 'tcpport'), 9910),
  };
}

/**
 * How long the supervisor's whole stop may take: the drain (<shutdownDelay>, `delay` when the
 * deployment sets its variable) and then the ordered shutdown, which counts from the end of it.
 */
export function stopBudget(times: DemoRegistryTimes, delay = times.shutdownDelay): number {
  return delay + shutdownBudget(times);
}

/**
 * How long the supervisor's ordered stop may take: <shutdownTimeout>, else its design.md §2 default,
 * the longest stopTimeout of each priority group summed, plus 5 s.
 */
export function shutdownBudget(times: DemoRegistryTimes): number {
  if (times.shutdownTimeout !== undefined) return times.shutdownTimeout;
  const longest = new Map<number, number>();
  for (const [id, timeout] of times.stopTimeouts) {
    const priority = times.priorities.get(id) ?? 1;
    longest.set(priority, Math.max(longest.get(priority) ?? 0, timeout));
  }
  return sum(longest.values()) + 5;
}

export function sum(values: Iterable<number>): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}

/** a duration as Compose writes it (1m30s, 60s, 1.5s) in seconds */
export function composeDuration(text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) throw new Error(`bad duration ${text}`);
  const unit: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001, us: 0.000001 };
  return sum(parts.map(([, n, u]) => Number(n) * (unit[u ?? 's'] ?? 1)));
}

export interface Run {
  status: number | null;
  output: string;
}

/** runs a tool to completion (promtool and the like), output captured for the assertion message */
export function runTool(command: string, args: string[], cwd = repoRoot): Run {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  if (result.error) throw new Error(`${command}: ${result.error.message}`);
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}
