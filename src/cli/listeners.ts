// The listeners of `run` (the HTTP port and the control socket) as they are now, and moving them
// when a reload brings a new <tcpport>, <host> or <temp> (design.md §3: reload applies the
// registry). A listener that cannot move stays where it is, and the reload's answer says why.
import type http from 'node:http';
import type { RequestListener } from 'node:http';
import type { Logger } from 'pino';
import { openControlSocket } from '../http/control-socket.js';
import { listenHttp, StartupError } from '../http/listen.js';

/** where the listeners should be: port 0 turns the HTTP endpoints off, no socketPath no socket */
export interface ListenerTarget {
  host: string;
  port: number;
  socketPath?: string;
}

export interface LiveListeners {
  /** every open server, for run to close at exit (kept up to date by moveListeners) */
  servers: http.Server[];
  http?: { server: http.Server; host: string; port: number };
  socket?: { server: http.Server; path: string };
  /** the move under way: two reloads at once move one after the other */
  moving?: Promise<unknown>;
  /** what answers on the HTTP port and on the control socket (the same listener each time) */
  httpApp(): RequestListener;
  socketApp(): RequestListener;
}

export interface ListenerChanges {
  /** what moved, for the reload's answer */
  applied: string[];
  /** what could not move, and why (the old listener is still in place) */
  failed: string[];
}

const where = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

function replace(live: LiveListeners, old: http.Server | undefined, next: http.Server | undefined): void {
  live.servers = live.servers.filter((server) => server !== old);
  if (next) live.servers.push(next);
  // a request still under way (the reload's own, on the old port) is answered before it goes
  old?.close();
}

/** Moves the listeners to `target`; nothing is touched where they already are. */
export function moveListeners(
  live: LiveListeners,
  target: ListenerTarget,
  logger: Logger,
): Promise<ListenerChanges> {
  const move = async () => {
    const changes: ListenerChanges = { applied: [], failed: [] };
    await moveHttp(live, target, logger, changes);
    await moveSocket(live, target, logger, changes);
    return changes;
  };
  const next = (live.moving ?? Promise.resolve()).then(move, move);
  live.moving = next.catch(() => {});
  return next;
}

async function moveHttp(
  live: LiveListeners,
  target: ListenerTarget,
  logger: Logger,
  changes: ListenerChanges,
) {
  const current = live.http;
  const wanted = target.port === 0 ? undefined : { host: target.host, port: target.port };
  if (current?.host === wanted?.host && current?.port === wanted?.port) return;
  if (!wanted) {
    replace(live, current?.server, undefined);
    live.http = undefined;
    logger.info('reload: <tcpport> is 0: the HTTP endpoints are closed');
    changes.applied.push('HTTP endpoints closed (<tcpport> 0)');
    return;
  }
  const to = where(wanted.host, wanted.port);
  let server: http.Server;
  try {
    // the new one first: the old one serves until the new one listens
    server = await listenHttp(live.httpApp(), wanted.host, wanted.port, { logger });
  } catch (error) {
    if (!(error instanceof StartupError)) throw error;
    // the same port on another address (0.0.0.0 -> 127.0.0.1) overlaps our own old listener:
    // that one has to go first, and comes back if the new one still cannot listen
    if (!current || current.port !== wanted.port || !/address already in use/.test(error.message)) {
      failHttp(current, error.message, logger, changes);
      return;
    }
    await new Promise((resolve) => current.server.close(resolve));
    live.servers = live.servers.filter((s) => s !== current.server);
    live.http = undefined;
    try {
      server = await listenHttp(live.httpApp(), wanted.host, wanted.port, { logger });
    } catch (again) {
      if (!(again instanceof StartupError)) throw again;
      const back = await listenHttp(live.httpApp(), current.host, current.port, { logger }).catch(
        () => undefined,
      );
      if (back) {
        live.servers.push(back);
        live.http = { server: back, host: current.host, port: current.port };
      }
      failHttp(back ? current : undefined, again.message, logger, changes);
      return;
    }
  }
  replace(live, live.http?.server, server);
  live.http = { server, host: wanted.host, port: wanted.port };
  logger.info(
    { host: wanted.host, port: wanted.port, ...(current ? { was: where(current.host, current.port) } : {}) },
    `reload: HTTP endpoints moved to ${to}`,
  );
  changes.applied.push(
    current
      ? `HTTP endpoints moved from ${where(current.host, current.port)} to ${to}`
      : `HTTP endpoints on ${to}`,
  );
}

function failHttp(
  current: LiveListeners['http'],
  reason: string,
  logger: Logger,
  changes: ListenerChanges,
): void {
  const stay = current
    ? `the HTTP endpoints stay on ${where(current.host, current.port)}`
    : 'the HTTP endpoints stay off';
  logger.error({ reason }, `reload: ${reason}: ${stay}`);
  changes.failed.push(`${reason}: ${stay}`);
}

async function moveSocket(
  live: LiveListeners,
  target: ListenerTarget,
  logger: Logger,
  changes: ListenerChanges,
) {
  const current = live.socket;
  if (current?.path === target.socketPath) return;
  if (target.socketPath === undefined) return; // tini mode without a socket: nothing to move
  let server: http.Server;
  try {
    server = await openControlSocket(live.socketApp(), target.socketPath, { logger });
  } catch (error) {
    if (!(error instanceof StartupError)) throw error;
    const stay = current ? `the control socket stays at ${current.path}` : 'there is no control socket';
    logger.error({ reason: error.message }, `reload: ${error.message}: ${stay}`);
    changes.failed.push(`${error.message}: ${stay}`);
    return;
  }
  // closing the old one removes its file
  replace(live, current?.server, server);
  live.socket = { server, path: target.socketPath };
  logger.info(
    { socket: target.socketPath, ...(current ? { was: current.path } : {}) },
    `reload: control socket moved to ${target.socketPath}`,
  );
  changes.applied.push(
    current
      ? `control socket moved from ${current.path} to ${target.socketPath}`
      : `control socket at ${target.socketPath}`,
  );
}
