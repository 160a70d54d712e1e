// Tini mode (`run -- CMD ARG...`, design.md §5) has no registry file: this builds the one-component
// registry it stands for, with the defaults of design.md §2 wherever tini mode has no say.
import { defaults } from './defaults.js';
import type { Registry, RestartPolicy } from './model.js';

export interface TiniRegistryOptions {
  command: string;
  args: string[];
  restart: RestartPolicy;
  output: 'inherit' | 'json';
  home: string;
  port: number;
  host: string;
}

/** the one component of tini mode */
export const tiniComponentId = 'main';

export function tiniRegistry(options: TiniRegistryOptions): Registry {
  const stopTimeout = 10;
  return {
    file: '',
    home: options.home,
    config: {
      tcpport: options.port,
      host: options.host,
      temp: `${options.home}/temp`,
      tracelevel: 2,
      tracestatsinterval: 0,
      restartIntensity: { max: 10, period: 60 },
      shutdownTimeout: stopTimeout + 5,
      // the signals go to the child as they come: there is nothing to drain first
      shutdownDelay: 0,
      logRetentionDays: 14,
      logBuffer: { ...defaults.config.logBuffer },
    },
    servers: [
      {
        id: tiniComponentId,
        description: [options.command, ...options.args].join(' '),
        command: options.command,
        args: options.args,
        // given on the command line, nothing expanded: shown as it is
        shown: { command: options.command, args: options.args },
        env: {},
        envFiles: [],
        workingDirectory: process.cwd(),
        startPriority: 1,
        startDelay: 0,
        stopTimeout,
        stopSignal: 'SIGTERM',
        restart: { policy: options.restart, backoffInitial: 1, backoffMax: 30, resetAfter: 10 },
        critical: true,
        output: options.output,
        kind: 'longrun',
        dependsOn: [],
      },
    ],
  };
}
