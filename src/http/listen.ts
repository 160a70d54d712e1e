// Starting the HTTP server: a port that is taken or forbidden is the user's problem to fix, so it
// becomes a StartupError with one readable line (run exits 2 with it), never a stack trace.
import { lstatSync } from 'node:fs';
import type { RequestListener } from 'node:http';
import http from 'node:http';

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

function configure(server: http.Server): void {
  // probes and scrapes are short; do not let idle or slow clients hold sockets for long
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
}

function listen(server: http.Server, start: () => void, describe: (code: string, message: string) => string) {
  return new Promise<http.Server>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      const code = error.code ?? '';
      reject(new StartupError(describe(code, explanations[code] ?? error.message)));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve(server);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    start();
  });
}

/** Listens on host:port (port 0: any free port; read it from server.address()). */
export function listenHttp(app: RequestListener, host: string, port: number): Promise<http.Server> {
  const server = http.createServer(app);
  configure(server);
  return listen(
    server,
    () => server.listen(port, host),
    (_code, explanation) => `cannot listen on ${where(host, port)}: ${explanation}`,
  );
}

/**
 * Listens on a Unix socket readable and writable by the owner only (mode 0600): the socket is
 * created under a restrictive umask, so there is no moment when others could connect. Removing a
 * stale socket file first is the caller's decision.
 */
export async function listenUnixSocket(app: RequestListener, path: string): Promise<http.Server> {
  const server = http.createServer(app);
  configure(server);
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
