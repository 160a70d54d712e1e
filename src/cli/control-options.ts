// What the control commands share: their location flags and finding the running supervisor's
// control socket (design.md §4): --socket, else $S7SUPERVISOR_SOCKET, else <temp>/s7supervisor.sock
// of the registry `run` would use (--registry, $S7SUPERVISOR_REGISTRY, conf/... under --home).
import { join } from 'node:path';
import { RegistryError } from '../registry/errors.js';
import { loadRegistry } from '../registry/load.js';
import { locateRegistry } from '../registry/locate.js';
import { ControlError, controlExit } from './control-client.js';
import { registryOptions } from './options.js';

export const socketOptions = {
  ...registryOptions,
  socket: { type: 'string' },
} as const;

export const socketOptionsHelp = `  --socket PATH       the supervisor's control socket (else $S7SUPERVISOR_SOCKET, else
                      <temp>/s7supervisor.sock of the registry below)
  --registry FILE     the registry the supervisor runs (else $S7SUPERVISOR_REGISTRY, else
                      conf/SupervisorRegistry.xml under home): only read to find <temp>
  --home DIR          install folder (else $S7SUPERVISOR_HOME, else the working directory)
  -h, --help          this text`;

export function findControlSocket(
  values: { socket?: string | undefined; registry?: string | undefined; home?: string | undefined },
  env: NodeJS.ProcessEnv,
): string {
  if (values.socket) return values.socket;
  if (env.S7SUPERVISOR_SOCKET) return env.S7SUPERVISOR_SOCKET;
  const { file, home } = locateRegistry(
    {
      ...(values.registry ? { registry: values.registry } : {}),
      ...(values.home ? { home: values.home } : {}),
    },
    env,
  );
  try {
    return join(loadRegistry(file, home, env).config.temp, 's7supervisor.sock');
  } catch (error) {
    if (!(error instanceof RegistryError)) throw error;
    throw new ControlError(
      `cannot find the control socket: it is in the <temp> folder of the registry, and the registry cannot be read:\n${error.message}\n(give --socket PATH, or set S7SUPERVISOR_SOCKET, or --registry/--home to the registry the supervisor runs)`,
      controlExit.usage,
    );
  }
}
