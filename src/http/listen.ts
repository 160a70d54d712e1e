// Starting the HTTP server: a port that is taken or forbidden is the user's problem to fix, so it
// becomes a StartupError with one readable line (run exits 2 with it), never a stack trace.
// Once listening, the server must never take the supervisor (PID 1) down: an 'error' it emits
// later (an accept() failing with EMFILE, say) is logged, and it keeps listening. Client errors
// (a malformed request, a reset, a request that timed out) are left to node's own handling, which
// answers 400/408/431 when it still can and destroys that one socket. Slow and idle clients are
// cut off by the timeouts below, and the number of connections is bounded so that they cannot use
// up the file descriptors the supervisor needs for its components.
import { lstatSync, readFileSync } from 'node:fs';
import type http from 'node:http';
import type { RequestListener } from 'node:http';
import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import { cutOffSlowClients, NODE_CHECK_DISABLED_MS } from './slow-clients.js';
import { throttledLog } from './throttled-log.js';

/** the server could not start for a reason the user can fix */
export class StartupError extends Error {
  override name = 'StartupError';
}

const explanations: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)',
  EADDRNOTAVAIL: 'address not available on this machine',
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'unknown host',
  EAFNOSUPPORT: 'address family not supported',
};

function where(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export interface ListenOptions {
  /** where errors after listening and dropped connections are said */
  logger?: Logger;
  /** connections at once; beyond it new ones are closed at once (default: from the open-file limit) */
  maxConnections?: number;
}

/** the timeouts every server gets (ms): a legitimate client sends its headers at once */
export const serverTimeouts = {
  /** the whole header block must arrive within this from the connection (or the previous response) */
  headersTimeout: 10_000,
  /** the whole request, body included (control requests have no body) */
  requestTimeout: 15_000,
  /** an idle keep-alive connection is closed after this */
  keepAliveTimeout: 5_000,
} as const;

/**
 * Connections one server accepts at once: half the open-file limit (the rest stays for the
 * components' pipes, checks and logs), at least 64, at most 4096. Node raises the soft limit to
 * the hard one at start-up, so this is usually 4096.
 */
export function defaultMaxConnections(limits = readLimits()): number {
  const match = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
  const files =
    match?.[1] === undefined ? 1024 : match[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(match[1]);
  return Math.max(64, Math.min(4096, Math.floor(files / 2)));
}

function readLimits(): string {
  try {
    return readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return '';
  }
}

function createServer(app: RequestListener, options: ListenOptions): http.Server {
  // loaded with the first server, not with this module: `run` binds its sockets before the first
  // spawn and serves them after (run.ts)
  const { createServer } = createRequire(import.meta.url)('node:http') as typeof http;
  // headers and request timeouts by our own timers, which exist only while a client owes us bytes
  const server = createServer({ connectionsCheckingInterval: NODE_CHECK_DISABLED_MS }, app);
  cutOffSlowClients(server, serverTimeouts);
  server.headersTimeout = serverTimeouts.headersTimeout;
  server.requestTimeout = serverTimeouts.requestTimeout;
  server.keepAliveTimeout = serverTimeouts.keepAliveTimeout;
  server.maxConnections = options.maxConnections ?? defaultMaxConnections();
  const dropped = throttledLog();
  // 'drop' (node 18.6+): a connection closed at once because maxConnections was reached
  server.on('drop', () =>
    dropped((count) =>
      options.logger?.warn(
        { dropped: count, maxConnections: server.maxConnections },
        `HTTP: ${count} connection(s) closed at once since the last such line: ${server.maxConnections} connections are open`,
      ),
    ),
  );
  return server;
}

/** from now on an error of the server is logged, never thrown at the process */
function survive(server: http.Server, where: string, logger: Logger | undefined): void {
  const failed = throttledLog();
  server.on('error', (error: NodeJS.ErrnoException) =>
    failed((count) =>
      logger?.error(
        { err: error, code: error.code, count },
        `HTTP server on ${where}: ${error.message} (${count} error(s) since the last such line); still listening`,
      ),
    ),
  );
}

function listen(
  server: http.Server,
  start: () => void,
  describe: (code: string, message: string) => string,
  listening: () => void,
) {
  return new Promise<http.Server>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      const code = error.code ?? '';
      reject(new StartupError(describe(code, explanations[code] ?? error.message)));
    };
    const onListening = () => {
      server.off('error', onError);
      // in the same tick: there is no moment without an 'error' listener
      listening();
      resolve(server);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    start();
  });
}

/** Listens on host:port (port 0: any free port; read it from server.address()). */
export async function listenHttp(
  app: RequestListener,
  host: string,
  port: number,
  options: ListenOptions = {},
): Promise<http.Server> {
  const server = createServer(app, options);
  await listen(
    server,
    () => server.listen(port, host),
    (_code, explanation) => `cannot listen on ${where(host, port)}: ${explanation}`,
    () => survive(server, where(host, port), options.logger),
  );
  return server;
}

/**
 * Listens on a Unix socket readable and writable by the owner only (mode 0600): the socket is
 * created under a restrictive umask, so there is no moment when others could connect. Removing a
 * stale socket file first is the caller's decision.
 */
export async function listenUnixSocket(
  app: RequestListener,
  path: string,
  options: ListenOptions = {},
): Promise<http.Server> {
  const server = createServer(app, options);
  await listen(
    server,
    () => {
      const previous = process.umask(0o177);
      try {
        server.listen(path);
      } finally {
        process.umask(previous);
      }
    },
    (code, explanation) =>
      `cannot listen on ${path}: ${
        code === 'EADDRINUSE'
          ? 'the socket file already exists'
          : code === 'EACCES'
            ? 'permission denied (set <temp> or S7SUPERVISOR_SOCKET to a writable place)'
            : explanation
      }`,
    () => survive(server, path, options.logger),
  );
  // no chmod afterwards: the umask already made it 0600, and a chmod by path after an await would
  // follow a symlink that someone with write access to the folder put there meanwhile
  const file = lstatSync(path, { throwIfNoEntry: false });
  if (!file?.isSocket() || (file.mode & 0o777) !== 0o600) {
    server.close();
    throw new StartupError(
      `cannot listen on ${path}: the socket file was replaced while it was being created`,
    );
  }
  return server;
}
