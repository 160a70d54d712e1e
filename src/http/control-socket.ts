// The control socket (design.md §4): the same API as the TCP port, control routes included and
// no token asked, to whoever may open the file (mode 0600). This module only deals with the file:
// a stale socket left by a crashed run is replaced, a live one means another supervisor runs.
import { mkdirSync, rmSync, statSync } from 'node:fs';
import type http from 'node:http';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { type ListenOptions, listenUnixSocket, StartupError } from './listen.js';

/** where the running supervisor's control socket is: flag, then environment, then <temp> */
export function controlSocketPath(flag: string | undefined, env: NodeJS.ProcessEnv, temp: string): string {
  return flag ?? (env.S7SUPERVISOR_SOCKET || `${temp}/s7supervisor.sock`);
}

/** true when something accepts connections on the socket file */
export function socketAnswers(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    const done = (answer: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export async function openControlSocket(
  app: http.RequestListener,
  path: string,
  options: ListenOptions = {},
): Promise<http.Server> {
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new StartupError(
      `cannot create the folder of the control socket ${path}: ${reason} (set <temp> or S7SUPERVISOR_SOCKET to a writable place)`,
    );
  }
  if (isSocketFile(path)) {
    if (await socketAnswers(path)) throw new StartupError(`another supervisor is running: ${path} answers`);
    // left behind by a run that did not exit cleanly: nobody listens, so it is safe to replace
    rmSync(path, { force: true });
  }
  const server = await listenUnixSocket(app, path, options);
  // removed on exit, so the next run (and the CLI) never meets a dead socket
  server.once('close', () => rmSync(path, { force: true }));
  return server;
}

function isSocketFile(path: string): boolean {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
}
