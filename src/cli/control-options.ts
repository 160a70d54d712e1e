// What the control commands share: their location flags and finding the running supervisor's
// control socket (design.md §4): --socket, else $S7SUPERVISOR_SOCKET, else <temp>/s7supervisor.sock
// of the registry `run` would use (--registry, $S7SUPERVISOR_REGISTRY, conf/... under --home).
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defaults } from '../registry/defaults.js';
import { ProblemList, RegistryError } from '../registry/errors.js';
import { expandVariables } from '../registry/expand.js';
import { loadRegistry, readRegistryText } from '../registry/load.js';
import { locateRegistry } from '../registry/locate.js';
import { parseXml, type XmlElement } from '../registry/xml.js';
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

const SOCKET_NAME = 's7supervisor.sock';

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
    return join(loadRegistry(file, home, env).config.temp, SOCKET_NAME);
  } catch (error) {
    if (!(error instanceof RegistryError)) throw error;
    // The file may have been broken by the very edit that `reload` is about to report: its
    // <temp> alone (or the default one) still says where the running supervisor listens.
    // No registry here at all: a registry's defaults still say where a socket would be (<temp>
    // under the install folder). That is where `npm start` puts the demo's, so that
    // `npx s7supervisor status` from the repository root finds it.
    const temp = existsSync(file)
      ? tempOfInvalidRegistry(file, home, env)
      : resolve(home, defaults.config.temp);
    if (temp !== undefined && isSocket(join(temp, SOCKET_NAME))) return join(temp, SOCKET_NAME);
    throw new ControlError(
      `cannot find the control socket: it is in the <temp> folder of the registry, and the registry cannot be read:\n${error.message}\n(give --socket PATH, or set S7SUPERVISOR_SOCKET, or --registry/--home to the registry the supervisor runs)`,
      controlExit.usage,
    );
  }
}

/** <config><temp> of a registry that does not load as a whole, if it can be read at all */
function tempOfInvalidRegistry(file: string, home: string, env: NodeJS.ProcessEnv): string | undefined {
  let root: XmlElement | undefined;
  try {
    root = parseXml(readRegistryText(file), new ProblemList(file));
  } catch {
    return undefined;
  }
  const temp = root?.children.find((c) => c.name === 'config')?.children.find((c) => c.name === 'temp');
  if (!temp) return resolve(home, defaults.config.temp);
  const { value, errors } = expandVariables(temp.text.trim(), env);
  return errors.length > 0 || value === '' ? undefined : resolve(home, value);
}

function isSocket(path: string): boolean {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
}
