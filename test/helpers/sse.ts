// A small Server-Sent Events client for tests: over TCP or a Unix socket, every event kept as it
// arrives (comments too), so tests can wait on what they expect with waitFor.
import http from 'node:http';

export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

export interface SseClient {
  /** resolves with the status and headers once the answer's head arrived */
  response: Promise<{ status: number; headers: http.IncomingHttpHeaders; body?: string }>;
  events: SseEvent[];
  /** comment lines received (': keep-alive') */
  comments: string[];
  /** the raw text received so far */
  text(): string;
  /** JSON of the data of every `message` event */
  messages<T>(): T[];
  /** resolves when the stream ended (either side) */
  ended: Promise<void>;
  close(): void;
}

export function openSse(
  target: { url: string } | { socketPath: string; path: string },
  headers: Record<string, string> = {},
): SseClient {
  const options: http.RequestOptions =
    'url' in target
      ? { ...urlOptions(target.url), headers: { accept: 'text/event-stream', ...headers } }
      : {
          socketPath: target.socketPath,
          path: target.path,
          headers: { accept: 'text/event-stream', ...headers },
        };
  const events: SseEvent[] = [];
  const comments: string[] = [];
  let raw = '';
  let resolveEnded: () => void = () => {};
  const ended = new Promise<void>((resolve) => {
    resolveEnded = resolve;
  });
  const req = http.get(options);
  const response = new Promise<{ status: number; headers: http.IncomingHttpHeaders; body?: string }>(
    (resolve, reject) => {
      req.once('error', (error) => {
        reject(error);
        resolveEnded();
      });
      req.once('response', (res) => {
        const status = res.statusCode ?? 0;
        res.setEncoding('utf8');
        if (status !== 200) {
          let body = '';
          res.on('data', (chunk: string) => {
            body += chunk;
          });
          res.once('end', () => {
            resolve({ status, headers: res.headers, body });
            resolveEnded();
          });
          return;
        }
        resolve({ status, headers: res.headers });
        let pending = '';
        res.on('data', (chunk: string) => {
          raw += chunk;
          pending += chunk;
          let end = pending.indexOf('\n\n');
          while (end >= 0) {
            parseBlock(pending.slice(0, end), events, comments);
            pending = pending.slice(end + 2);
            end = pending.indexOf('\n\n');
          }
        });
        res.once('close', () => resolveEnded());
        res.once('error', () => resolveEnded());
      });
    },
  );
  response.catch(() => {});
  return {
    response,
    events,
    comments,
    text: () => raw,
    messages: <T>() => events.filter((e) => e.event === 'message').map((e) => JSON.parse(e.data) as T),
    ended,
    close: () => req.destroy(),
  };
}

function urlOptions(url: string): http.RequestOptions {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: parsed.port, path: `${parsed.pathname}${parsed.search}` };
}

function parseBlock(block: string, events: SseEvent[], comments: string[]): void {
  let id: string | undefined;
  let event = 'message';
  const data: string[] = [];
  let any = false;
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) {
      comments.push(line.slice(1).trim());
      continue;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') id = value;
    else if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else continue;
    any = true;
  }
  if (any && data.length > 0)
    events.push({ ...(id !== undefined ? { id } : {}), event, data: data.join('\n') });
}
