// Server-Sent Events by hand (the format is a few lines: `id:`, `event:`, `data:`, a blank line;
// comments start with a colon), for GET /api/v1/events and the logs API with follow=1.
//
// What a library would have to be checked for, and this does: one heartbeat timer for every
// open stream (a comment every 15 s, so proxies and load balancers keep idle streams), started
// with the first stream and stopped with the last; a stream whose client went away is closed and
// forgotten at once (its unsubscribe functions run); and a client that does not read cannot make
// us hold its events without bound: past `maxBacklog` bytes not yet taken by its socket, it is
// dropped (its EventSource reconnects with Last-Event-ID and resumes from what is still kept).
import type { IncomingMessage, ServerResponse } from 'node:http';

export const HEARTBEAT_MS = 15_000;
/** what EventSource waits before it reconnects (the `retry:` field) */
export const RETRY_MS = 2000;
/** open streams at once, over every listener; one more gets 503 */
export const MAX_STREAMS = 256;

export class SseStream {
  private readonly closers: Array<() => void> = [];
  closed = false;
  /** why the stream ended on our side ('slow client'), for tests and the debug endpoint */
  droppedBecause: string | undefined;
  /** the backlog a client asked for may be large: it is allowed on top of maxBacklog */
  private allowance = 0;

  constructor(
    readonly res: ServerResponse,
    private readonly maxBacklog: number,
    private readonly hub: SseHub,
  ) {
    res.once('close', () => this.close());
  }

  /** one event; false when the stream is (now) closed */
  send(data: string, id?: number | string, event?: string): boolean {
    return this.write(
      `${id !== undefined ? `id: ${id}\n` : ''}${event ? `event: ${event}\n` : ''}data: ${data}\n\n`,
    );
  }

  /** a comment line (ignored by clients; keeps proxies from closing an idle stream) */
  comment(text: string): boolean {
    return this.write(`: ${text}\n\n`);
  }

  /** raw SSE text (several events at once); `initial`: the backlog the client asked for */
  write(text: string, { initial = false } = {}): boolean {
    if (this.closed) return false;
    if (text === '') return true;
    if (initial) this.allowance += text.length;
    this.res.write(text);
    if (this.res.writableLength > this.maxBacklog + this.allowance) {
      // a client that does not keep up: held bytes would grow without bound
      this.droppedBecause = 'slow client';
      this.res.destroy();
      this.close();
      return false;
    }
    return true;
  }

  /** runs `fn` when the stream closes, whoever closes it (subscriptions are undone here) */
  onClose(fn: () => void): void {
    if (this.closed) fn();
    else this.closers.push(fn);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.hub.forget(this);
    for (const fn of this.closers.splice(0)) fn();
    if (!this.res.writableEnded) this.res.end();
  }
}

/** every open stream, the limit on them, and the one heartbeat timer */
export class SseHub {
  private readonly streams = new Set<SseStream>();
  private heartbeat: NodeJS.Timeout | undefined;
  /** streams dropped for not reading (since start) */
  dropped = 0;

  constructor(
    private readonly limits: { maxStreams: number; heartbeatMs: number } = {
      maxStreams: MAX_STREAMS,
      heartbeatMs: HEARTBEAT_MS,
    },
  ) {}

  get size(): number {
    return this.streams.size;
  }

  /** whether the heartbeat timer runs (only while a stream is open) */
  get ticking(): boolean {
    return this.heartbeat !== undefined;
  }

  /**
   * Answers the request with an event stream, or with 503 when too many are open (then
   * undefined). `maxBacklog`: bytes the client may leave unread before it is dropped.
   */
  open(req: IncomingMessage, res: ServerResponse, maxBacklog: number): SseStream | undefined {
    if (req.method === 'HEAD') {
      // a stream without a body would stay open for nothing
      res
        .writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store' })
        .end();
      return undefined;
    }
    if (this.streams.size >= this.limits.maxStreams) {
      res
        .writeHead(503, {
          'Content-Type': 'application/json',
          'Retry-After': '10',
          'Cache-Control': 'no-store',
        })
        .end(
          `${JSON.stringify({ ok: false, message: `too many event streams open (${this.limits.maxStreams}): try again later` })}\n`,
        );
      return undefined;
    }
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      // nginx buffers responses unless told not to
      'X-Accel-Buffering': 'no',
      Connection: 'keep-alive',
    });
    const stream = new SseStream(res, maxBacklog, this);
    this.streams.add(stream);
    stream.write(`retry: ${RETRY_MS}\n\n`);
    if (!this.heartbeat) {
      this.heartbeat = setInterval(() => {
        for (const s of [...this.streams]) s.comment('keep-alive');
      }, this.limits.heartbeatMs);
      this.heartbeat.unref();
    }
    return stream;
  }

  /** @internal SseStream.close */
  forget(stream: SseStream): void {
    if (!this.streams.delete(stream)) return;
    if (stream.droppedBecause) this.dropped += 1;
    if (this.streams.size === 0 && this.heartbeat) {
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
    }
  }

  /** ends every stream (the listeners are closing) */
  closeAll(): void {
    for (const stream of [...this.streams]) stream.close();
  }
}

/**
 * The id a reconnecting EventSource sends (Last-Event-ID), else `?since=`: the last event the
 * client has. Undefined when neither is a whole number.
 */
export function lastEventId(req: IncomingMessage, since: unknown): number | undefined {
  const header = req.headers['last-event-id'];
  const text = typeof header === 'string' && header !== '' ? header : typeof since === 'string' ? since : '';
  return /^\d{1,15}$/.test(text) ? Number(text) : undefined;
}
