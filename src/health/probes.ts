// One probe of each kind, as Kubernetes does them: http (200-399), tcp (connect), exec (exit 0).
// Each is bounded by an AbortSignal and never blocks the event loop; the scheduler (schedule.ts)
// decides when they run.
import type http from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import type { Launched, ProcessHost, SpawnError } from '../process/host.js';
import { nodeProcessHost } from '../process/node-host.js';

export interface ProbeResult {
  ok: boolean;
  reason?: string;
}

/** exec checks launch as components do: the same <user> handling, environment and start errors */
const defaultHost = nodeProcessHost();

// loaded when the first http check runs, not before the first component is spawned (node:http
// costs ~1.5 ms of start-up); TLS only when a check needs it: most checks are plain http on loopback
const requireBuiltin = createRequire(import.meta.url);
const loadHttp = () => requireBuiltin('node:http') as typeof http;
const loadHttps = () => requireBuiltin('node:https') as typeof http;

/** Kubernetes reads at most this much of a probe's response body; so do we, then hang up. */
const MAX_BODY_BYTES = 10 * 1024;
/** what an exec probe's failure message quotes of its output */
const MAX_OUTPUT_CHARS = 200;

/**
 * GET `url`; success on a status from 200 to 399. Redirects are not followed (a 3xx is already a
 * success). Every probe uses a fresh connection that is closed afterwards (no keep-alive agent,
 * so a probe every second never piles up sockets). https certificates are not verified, as with
 * Kubernetes' httpGet probes: the check is about the component being up, not about its identity.
 */
export function probeHttp(url: string, signal: AbortSignal, userAgent: string): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      resolve({ ok: false, reason: `invalid URL ${url}` });
      return;
    }
    const client: typeof http = parsed.protocol === 'https:' ? loadHttps() : loadHttp();
    let status: number | undefined;
    let settled = false;
    const settle = (result: ProbeResult) => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    const fromStatus = (code: number): ProbeResult =>
      code >= 200 && code < 400 ? { ok: true } : { ok: false, reason: `HTTP ${code}` };
    const request = client.request(parsed, {
      method: 'GET',
      agent: false,
      signal,
      headers: { 'User-Agent': userAgent, Accept: '*/*', Connection: 'close' },
      ...(parsed.protocol === 'https:' ? { rejectUnauthorized: false } : {}),
    });
    request.on('response', (response) => {
      status = response.statusCode ?? 0;
      let bytes = 0;
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > MAX_BODY_BYTES) {
          settle(fromStatus(status ?? 0));
          request.destroy();
        }
      });
      response.on('end', () => settle(fromStatus(status ?? 0)));
      // a body cut short after a good status line still answered the question
      response.on('error', () => settle(fromStatus(status ?? 0)));
    });
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (status !== undefined) settle(fromStatus(status));
      else settle({ ok: false, reason: describeError(error, signal) });
    });
    request.end();
  });
}

/** Opens a TCP connection to host:port; success once it is established. */
export function probeTcp(host: string, port: number, signal: AbortSignal): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const finish = (result: ProbeResult) => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(result);
    };
    const onAbort = () => finish({ ok: false, reason: describeError(undefined, signal) });
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish({ ok: true }));
    socket.once('error', (error: NodeJS.ErrnoException) =>
      finish({ ok: false, reason: describeError(error, signal) }),
    );
  });
}

/**
 * Runs `command args` in its own process group; success on exit 0. When the signal aborts (the
 * timeout), the whole group is SIGKILLed. Whatever the command left behind in its group is killed
 * once it exits, so probes cannot accumulate stray processes. With `user` (the component's
 * <user>) it runs as that user, groups, HOME, USER and LOGNAME included; `shown` is how failure
 * reasons name the command (as written in the registry: the expanded one may hold a secret).
 */
export function probeExec(
  command: string,
  args: readonly string[],
  signal: AbortSignal,
  options: { user?: string; shown?: string; host?: ProcessHost } = {},
): Promise<ProbeResult> {
  const shown = options.shown ?? command;
  const host = options.host ?? defaultHost;
  return new Promise((resolve) => {
    host
      .launch({
        command,
        args,
        ...(options.user !== undefined ? { user: options.user } : {}),
        stdin: 'ignore',
        output: 'capture',
      })
      .then(
        (launched) => watchExecCheck(host, launched, signal, resolve),
        (error: SpawnError) =>
          resolve({
            ok: false,
            reason: `cannot run ${shown}: ${error.beforeSpawn ? error.message : error.code}`,
          }),
      );
  });
}

function watchExecCheck(
  host: ProcessHost,
  launched: Launched,
  signal: AbortSignal,
  resolve: (result: ProbeResult) => void,
): void {
  const { pid } = launched;
  const pipes = [launched.stdout, launched.stderr].filter((pipe) => pipe !== undefined);
  let output = '';
  const collect = (chunk: Buffer) => {
    if (output.length < MAX_OUTPUT_CHARS) output += chunk.toString('utf8');
  };
  for (const pipe of pipes) pipe.on('data', collect);
  let timedOut = false;
  const onAbort = () => {
    timedOut = true;
    host.signalGroup(pid, 'SIGKILL');
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  void launched.exited.then(({ code, signal: exitSignal }) => {
    signal.removeEventListener('abort', onAbort);
    // leftovers (a backgrounded grandchild holding our pipes) go with it
    host.signalGroup(pid, 'SIGKILL');
    for (const pipe of pipes) pipe.destroy();
    if (timedOut) {
      resolve({ ok: false, reason: describeError(undefined, signal) });
      return;
    }
    if (code === 0) {
      resolve({ ok: true });
      return;
    }
    const what = exitSignal ? `killed by ${exitSignal}` : `exit code ${code}`;
    const said = firstLine(output);
    resolve({ ok: false, reason: said ? `${what}: ${said}` : what });
  });
}

function firstLine(text: string): string {
  const line = text.trim().split('\n')[0] ?? '';
  return line.length > MAX_OUTPUT_CHARS ? `${line.slice(0, MAX_OUTPUT_CHARS)}…` : line;
}

function describeError(error: NodeJS.ErrnoException | undefined, signal: AbortSignal): string {
  if (signal.aborted) {
    const cause: unknown = signal.reason;
    if (cause instanceof Error && cause.name === 'TimeoutError') return cause.message;
    if (typeof cause === 'string') return cause;
    return 'aborted';
  }
  if (!error) return 'failed';
  const code = error.code;
  if (code === 'ECONNREFUSED') return 'connect ECONNREFUSED';
  if (code === 'ECONNRESET') return 'connection reset';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot resolve host (${code})`;
  return code ? `${code}: ${error.message}` : error.message;
}
