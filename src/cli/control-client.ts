// Talking to the running supervisor over its control socket (design.md §4): plain HTTP on a Unix
// socket, the same API as the TCP port without a token. Every way of not reaching it becomes a
// ControlError with the exit code and a sentence an operator can act on.
import http from 'node:http';

/** exit codes of the control commands (status, start, stop, restart, reload) */
export const controlExit = {
  ok: 0,
  /** the supervisor answered but could not do it: shutting down, failed to start, timed out */
  failed: 1,
  /** usage error, an invalid registry on reload, or the registry (to find the socket) unreadable */
  usage: 2,
  /** no supervisor is running: no control socket, nobody listening, no answer */
  noSupervisor: 3,
  /** no component with that id */
  unknownComponent: 4,
} as const;

export const controlExitHelp = `exit codes: 0 done; 1 the supervisor could not do it (shutting down, the component failed or
  timed out); 2 usage error, an invalid registry, or the registry needed to find the socket cannot
  be read; 3 no supervisor is running (no control socket, or nothing answers on it);
  4 no component with that id.`;

export class ControlError extends Error {
  override name = 'ControlError';
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export interface ControlAnswer {
  status: number;
  /** the parsed JSON body (undefined when the body was not JSON) */
  json: unknown;
  text: string;
}

const REQUEST_TIMEOUT_MS = 30_000;

export class ControlClient {
  constructor(readonly socketPath: string) {}

  get(path: string): Promise<ControlAnswer> {
    return this.request('GET', path);
  }

  /** `body`, when given, is sent as JSON */
  post(path: string, body?: unknown): Promise<ControlAnswer> {
    return this.request('POST', path, body);
  }

  /**
   * A GET whose answer is read as it comes (a followed log): resolves with the response once its
   * head arrived, whatever its status. No timeout: a follow waits as long as it is wanted.
   * `abort` ends it from our side.
   */
  stream(path: string): { response: Promise<http.IncomingMessage>; abort: () => void } {
    const req = http.request({ socketPath: this.socketPath, method: 'GET', path });
    const response = new Promise<http.IncomingMessage>((resolve, reject) => {
      req.once('response', resolve);
      req.on('error', (error) => reject(this.unreachable(error)));
    });
    req.end();
    return { response, abort: () => req.destroy() };
  }

  private request(method: string, path: string, body?: unknown): Promise<ControlAnswer> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: http.OutgoingHttpHeaders = { accept: 'application/json' };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    return new Promise((resolve, reject) => {
      const req = http.request({ socketPath: this.socketPath, method, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (error) => reject(this.unreachable(error)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, json, text });
        });
      });
      req.setTimeout(REQUEST_TIMEOUT_MS, () =>
        req.destroy(
          new ControlError(
            `the supervisor did not answer on ${this.socketPath} within ${REQUEST_TIMEOUT_MS / 1000} s`,
            controlExit.noSupervisor,
          ),
        ),
      );
      req.on('error', (error) => reject(error instanceof ControlError ? error : this.unreachable(error)));
      req.end(payload);
    });
  }

  private unreachable(error: Error): ControlError {
    const path = this.socketPath;
    const code = (error as NodeJS.ErrnoException).code;
    switch (code) {
      case 'ENOENT':
        return new ControlError(
          `no supervisor is running (no control socket at ${path})`,
          controlExit.noSupervisor,
        );
      case 'ECONNREFUSED':
        return new ControlError(
          `no supervisor is running (nothing listens on the control socket ${path}: left by a run that did not exit cleanly)`,
          controlExit.noSupervisor,
        );
      case 'EACCES':
      case 'EPERM':
        return new ControlError(
          `cannot open the control socket ${path}: permission denied (it is mode 0600: run as the supervisor's user)`,
          controlExit.noSupervisor,
        );
      case 'ENOTSOCK':
        return new ControlError(`${path} is not a control socket`, controlExit.noSupervisor);
      case 'ECONNRESET':
        return new ControlError(
          `the supervisor closed the connection on ${path} (is it stopping?)`,
          controlExit.noSupervisor,
        );
      default:
        return new ControlError(
          `cannot reach the supervisor on ${path}: ${code ?? error.message}`,
          controlExit.noSupervisor,
        );
    }
  }
}

/** the `message` of an API error answer, or a description of an unexpected one */
export function answerMessage(answer: ControlAnswer): string {
  const json = answer.json as { message?: unknown } | undefined;
  if (json && typeof json.message === 'string') return json.message;
  return `the supervisor answered ${answer.status}: ${answer.text.trim().slice(0, 200)}`;
}
