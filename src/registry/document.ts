// The registry as written, validated but not yet merged or defaulted: what each profile and
// server says for itself. Lines are kept for the problems that merging can still find.
import type { CheckSpec, RestartSpec } from './model.js';

/** a value expanded (${VAR}) and as it was written, for showing it without what the variables held */
export interface Written {
  value: string;
  written: string;
}

/** What a profile or a server sets; absent means "not said here". */
export interface Settings {
  description?: string;
  command?: Written;
  args: Written[];
  env: Record<string, string>;
  workingDirectory?: string;
  user?: string;
  startPriority?: number;
  startDelay?: number;
  stopTimeout?: number;
  stopSignal?: NodeJS.Signals;
  restart?: RestartSpec;
  readiness?: CheckSpec;
  liveness?: CheckSpec;
  critical?: boolean;
  output?: 'json' | 'raw';
  /** settings that were present but invalid (already reported): not to be reported again as missing */
  invalid: Set<string>;
}

/** the elements a profile or a server may hold, in the order messages list them */
export const settingElements = [
  'description',
  'command',
  'arguments',
  'environment',
  'workingDirectory',
  'user',
  'startPriority',
  'startDelay',
  'stopTimeout',
  'stopSignal',
  'restart',
  'readiness',
  'liveness',
  'critical',
  'output',
] as const;

type SingleSetting = Exclude<(typeof settingElements)[number], 'arguments' | 'environment'>;

/** the settings holding one value, which a later profile or the server replaces (the rest merge) */
export const singleSettings = settingElements.filter(
  (element): element is SingleSetting => element !== 'arguments' && element !== 'environment',
) satisfies ReadonlyArray<keyof Settings>;

export interface ProfileDocument {
  id: string;
  line: number;
  settings: Settings;
}

export interface ServerDocument {
  id: string;
  line: number;
  profileRefs: Array<{ id: string; line: number }>;
  settings: Settings;
}

export interface ConfigDocument {
  tcpport?: number;
  host?: string;
  log?: string;
  temp?: string;
  tracelevel?: number;
  tracestatsinterval?: number;
  restartIntensity?: { max: number; period: number };
  shutdownTimeout?: number;
  shutdownDelay?: number;
  logRetentionDays?: number;
  logBuffer?: { lines: number };
}

export interface RegistryDocument {
  config: ConfigDocument;
  profiles: Map<string, ProfileDocument>;
  servers: ServerDocument[];
}

export function emptySettings(): Settings {
  return { args: [], env: {}, invalid: new Set() };
}

/** defineProperty, so that a variable named __proto__ is a variable and not a prototype */
export function setVariable(env: Record<string, string>, name: string, value: string): void {
  Object.defineProperty(env, name, { value, enumerable: true, writable: true, configurable: true });
}
