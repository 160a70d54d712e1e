// Admission control for everything on the TCP port except the probes: the status page, the JSON
// API, /metrics and whatever goes to express. The supervisor's job is supervising; serving 30,000
// status pages a second is not, and doing it is what hurt: every request allocates (node's own
// request and response objects at the least), and under a sustained storm V8 grows its young
// generation to its maximum (2 × 16 MB) and promotes what outlives a scavenge, memory it keeps
// long after the storm (there is no GC while the supervisor idles). A 503 does not help against
// a client that asks again at once: it costs as much as a cached answer.
//
// So requests are served at a bounded rate (a token bucket), and the ones beyond it wait in a
// bounded FIFO queue instead of being answered at once: a client that waits does not send its
// next request, so a storm of N clients is slowed to the rate, and the CPU and the allocation
// rate stay bounded whatever N is. Only when the queue is full, or a request has waited too
// long, is the answer a 503 with Retry-After. Probes never queue (health-handler.ts answers them
// first), so /livez and /readyz stay fast whatever is waiting here.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { throttledLog } from './throttled-log.js';

export interface AdmissionLimits {
  /** requests served per second, sustained */
  ratePerSecond: number;
  /** requests served at once above the rate after a quiet time */
  burst: number;
  /** requests that may wait; beyond that, 503 */
  maxQueued: number;
  /** a request that waited this long (ms) gets a 503 instead */
  maxWaitMs: number;
}

/**
 * Far more than a few browsers on the status page (one request every 2 s each), Prometheus and
 * the CLI ask for; a cached answer costs about 30 µs, so at this rate serving takes about 2% of a
 * core. Under a storm of N clients, each waits about N / 500 s (200 clients: 0.4 s).
 */
export const defaultAdmission: AdmissionLimits = {
  ratePerSecond: 500,
  burst: 100,
  maxQueued: 1024,
  maxWaitMs: 5000,
};

/** 503 with Retry-After: 1, about as cheap as an answer can be */
export function answerBusy(req: IncomingMessage, res: ServerResponse): void {
  const body = 'busy: too many requests, retry in a second\n';
  res.writeHead(503, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Retry-After': '1',
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** the queue is served in batches this often, not one wake-up per request */
const drainEveryMs = 10;

interface Waiting {
  req: IncomingMessage;
  res: ServerResponse;
  serve: () => void;
  since: number;
}

export interface Admission {
  readonly limits: AdmissionLimits;
  /** serves the request now, later (in arrival order), or answers 503 */
  admit(req: IncomingMessage, res: ServerResponse, serve: () => void): void;
  /** requests waiting now (for tests) */
  readonly queued: number;
}

export function createAdmission(
  limits: AdmissionLimits,
  logger?: Logger,
  now: () => number = () => performance.now(),
): Admission {
  let tokens = limits.burst;
  let last = now();
  const queue: Waiting[] = [];
  let head = 0; // queue[head] is the oldest; compacted as it drains
  let timer: NodeJS.Timeout | undefined;
  const refusal = throttledLog();

  const refill = (at: number) => {
    tokens = Math.min(limits.burst, tokens + ((at - last) / 1000) * limits.ratePerSecond);
    last = at;
  };

  const refuse = (req: IncomingMessage, res: ServerResponse, why: string) => {
    refusal((count) =>
      logger?.warn(
        { refused: count, ...limits },
        `HTTP: more requests than the supervisor serves (${why}): ${count} answered 503 since the last such line`,
      ),
    );
    answerBusy(req, res);
  };

  const gone = (w: Waiting) => w.res.destroyed || w.res.writableEnded || w.req.socket.destroyed;

  const drain = () => {
    timer = undefined;
    const at = now();
    refill(at);
    while (head < queue.length) {
      const waiting = queue[head]!;
      if (gone(waiting)) {
        head++;
        continue;
      }
      if (at - waiting.since > limits.maxWaitMs) {
        head++;
        refuse(waiting.req, waiting.res, 'waited too long');
        continue;
      }
      if (tokens < 1) break;
      tokens -= 1;
      head++;
      waiting.serve();
    }
    if (head === queue.length) {
      queue.length = 0;
      head = 0;
    } else if (head > 1024 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
    schedule();
  };

  const schedule = () => {
    if (timer || head === queue.length) return;
    // until the next token, but in batches: a wake-up every 10 ms at most (500/s: 5 at a time)
    const wait = Math.max(drainEveryMs, Math.ceil(((1 - tokens) / limits.ratePerSecond) * 1000));
    timer = setTimeout(drain, wait);
    timer.unref(); // open sockets keep the process alive; a queue alone must not
  };

  return {
    limits,
    get queued() {
      return queue.length - head;
    },
    admit(req, res, serve) {
      const at = now();
      refill(at);
      if (head === queue.length && tokens >= 1) {
        tokens -= 1;
        serve();
        return;
      }
      if (queue.length - head >= limits.maxQueued) {
        refuse(req, res, 'the queue is full');
        return;
      }
      queue.push({ req, res, serve, since: at });
      schedule();
    },
  };
}
