// The resolved registry: what SupervisorRegistry.xml means once profiles are merged, defaults
// filled in, ${VAR}s expanded and paths made absolute (design.md §2). Everything downstream of
// the registry folder works on these types only, never on XML.

export type RestartPolicy = 'always' | 'on-failure' | 'never';
/** rev. 2: a longrun is kept running; a oneshot runs to completion (design.md §3) */
export type ServerKind = 'longrun' | 'oneshot';
/**
 * rev. 2: what a dependency must have reached before its dependent starts: `started` spawned,
 * `ready` counts as ready, `completed` a oneshot that exited (any code), `succeeded` exited 0
 */
export type DependencyCondition = 'started' | 'ready' | 'completed' | 'succeeded';
export const dependencyConditions: readonly DependencyCondition[] = [
  'started',
  'ready',
  'completed',
  'succeeded',
];

export interface DependencySpec {
  /** the id of the server depended on (validated: it exists, and there is no cycle) */
  server: string;
  condition: DependencyCondition;
}

/** rev. 2: when a scheduled oneshot runs again; see src/registry/cron.ts for what the expression may be */
export interface ScheduleSpec {
  /** as written: five cron fields, a nickname such as `@hourly`, or `@every DURATION` */
  cron: string;
  /** an IANA zone such as Europe/Berlin; absent: the supervisor's local time */
  timezone?: string;
}

/** rev. 2: the resident memory of the whole process group above `memory` 3 samples in a row: restart */
export interface LimitsSpec {
  /** bytes */
  memory: number;
  /** seconds between samples */
  checkInterval: number;
}

/**
 * rev. 2: a dotenv file an `<environment file>` named. Its variables are already merged into
 * ServerSpec.env; this is for the plan, which shows the file and the names, never the values.
 */
export interface EnvFileSpec {
  /** absolute path, or as written when it used ${VAR}s */
  shown: string;
  optional: boolean;
  /** false: an optional file that was not there when the registry was read */
  found: boolean;
  /** the variable names it set, in file order */
  names: string[];
}
/** 'inherit' is not a registry value: tini mode gives the child the supervisor's own stdio */
export type OutputMode = 'json' | 'raw' | 'inherit';

export interface RestartSpec {
  policy: RestartPolicy;
  /** seconds before the first restart after a short run */
  backoffInitial: number;
  /** cap of the doubling backoff, seconds */
  backoffMax: number;
  /** a run at least this long (seconds) was stable: the next restart is immediate */
  resetAfter: number;
}

interface CheckTiming {
  /** seconds between checks */
  interval: number;
  /** seconds one check may take */
  timeout: number;
  /** failures in a row that count (liveness: a crash; readiness: not ready) */
  failureThreshold: number;
}

/**
 * A command line as the registry wrote it, `${VAR}`s unexpanded: what logs and `check` show, since
 * the expanded one may hold secrets (design.md §7 rev. 2). A command written without `${` is shown
 * resolved (an absolute path, or the bare name looked up in PATH).
 */
export interface ShownCommand {
  command: string;
  args: string[];
}

export type CheckSpec =
  | (CheckTiming & { type: 'http'; url: string })
  | (CheckTiming & { type: 'tcp'; host: string; port: number })
  | (CheckTiming & {
      type: 'exec';
      command: string;
      args: string[];
      shown: ShownCommand;
      /** the component's <user>: its exec checks run as that user too (design.md §3 rev. 2) */
      user?: string;
    })
  /** readiness only: the component writes a newline to this descriptor when it is ready (s6 style) */
  | (CheckTiming & { type: 'fd'; fd: number });

export type CheckType = CheckSpec['type'];

export interface ServerSpec {
  id: string;
  description: string;
  /** absolute path when the registry's command had a slash; a bare name is looked up in PATH */
  command: string;
  args: string[];
  /** command and arguments as written, for logs and the plan (never the expanded ones) */
  shown: ShownCommand;
  /**
   * only the variables the registry sets, env files included (each `<environment>` block's file
   * beneath its `<variable>`s, blocks merged in profile order); the supervisor's own environment is
   * inherited beneath them. Values are secrets: never logged or shown.
   */
  env: Record<string, string>;
  /** rev. 2: the env files behind `env`, in merge order (names only, for the plan) */
  envFiles: EnvFileSpec[];
  /** absolute */
  workingDirectory: string;
  user?: string;
  startPriority: number;
  /** seconds; with no readiness check the component is ready this long after start */
  startDelay: number;
  /** seconds between stopSignal and SIGKILL */
  stopTimeout: number;
  /** a signal name such as 'SIGTERM' */
  stopSignal: NodeJS.Signals;
  restart: RestartSpec;
  readiness?: CheckSpec;
  liveness?: CheckSpec;
  critical: boolean;
  output: OutputMode;
  /** rev. 2 */
  kind: ServerKind;
  /** rev. 2: one entry per server depended on, in registry order (profiles' first) */
  dependsOn: DependencySpec[];
  /** rev. 2: oneshots only */
  schedule?: ScheduleSpec;
  /** rev. 2 */
  limits?: LimitsSpec;
}

export interface RegistryConfig {
  tcpport: number;
  host: string;
  /** absolute path of the optional file log, or undefined for stdout only */
  log?: string;
  /** absolute */
  temp: string;
  /** 1 warn, 2 info, 3 debug, 4 trace */
  tracelevel: number;
  /** seconds between resource-stats log records; 0 turns them off */
  tracestatsinterval: number;
  restartIntensity: { max: number; period: number };
  /** seconds for the whole stop before everything is SIGKILLed (counted from the end of shutdownDelay) */
  shutdownTimeout: number;
  /** rev. 2: seconds between the first SIGTERM/SIGINT (/readyz turns 503 at once) and the stop */
  shutdownDelay: number;
  /** rev. 2: daily <log> files older than this many days are deleted; 0 keeps them all */
  logRetentionDays: number;
  /** output lines of each component kept in memory (`logs`, the API, the status page); 0: none */
  logBuffer: { lines: number };
}

export interface Registry {
  /** absolute path of the file it came from ('' when built in memory, as in tini mode) */
  file: string;
  /** the install folder relative paths were resolved against */
  home: string;
  config: RegistryConfig;
  /** in document order */
  servers: ServerSpec[];
}
