// The registry as written, validated but not yet merged or defaulted: what each profile and
// server says for itself. Lines are kept for the problems that merging can still find.
import type {
  CheckSpec,
  DependencyCondition,
  EnvFileSpec,
  LimitsSpec,
  RestartPolicy,
  RestartSpec,
  ScheduleSpec,
  ServerKind,
} from './model.js';

/** a value expanded (${VAR}) and as it was written, for showing it without what the variables held */
export interface Written {
  value: string;
  written: string;
}

/** a <restart> as written: the policy's default depends on the kind, known only after merging */
export type RestartSetting = Omit<RestartSpec, 'policy'> & { policy?: RestartPolicy };

/** a <dependsOn>, with where it was written for the problems found once every server is known */
export interface DependencySetting {
  server: string;
  condition: DependencyCondition;
  line: number;
  /** the server or profile it was written in ('profile "P"', 'server "is"'), for messages */
  where: string;
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
  restart?: RestartSetting;
  readiness?: CheckSpec;
  liveness?: CheckSpec;
  critical?: boolean;
  output?: 'json' | 'raw';
  /** rev. 2 */
  kind?: ServerKind;
  /** rev. 2: appended across profiles, like arguments */
  dependsOn: DependencySetting[];
  schedule?: ScheduleSpec;
  limits?: LimitsSpec;
  /** rev. 2: the env files whose variables are in `env`, appended across profiles */
  envFiles: EnvFileSpec[];
  /** line of each single-valued element given here, for problems found after merging */
  lines: Partial<Record<SingleSetting, number>>;
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
  'kind',
  'dependsOn',
  'schedule',
  'limits',
] as const;

type MergedElement = 'arguments' | 'environment' | 'dependsOn';
type SingleSetting = Exclude<(typeof settingElements)[number], MergedElement>;

/** the settings holding one value, which a later profile or the server replaces (the rest merge) */
export const singleSettings = settingElements.filter(
  (element): element is SingleSetting =>
    element !== 'arguments' && element !== 'environment' && element !== 'dependsOn',
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
  return { args: [], env: {}, dependsOn: [], envFiles: [], lines: {}, invalid: new Set() };
}

/** defineProperty, so that a variable named __proto__ is a variable and not a prototype */
export function setVariable(env: Record<string, string>, name: string, value: string): void {
  Object.defineProperty(env, name, { value, enumerable: true, writable: true, configurable: true });
}
