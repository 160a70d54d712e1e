// The live routes (design.md §4 rev. 2): GET /api/v1/events (state changes as Server-Sent
// Events), the components' output (GET /api/v1/components/ID/logs, and GET /api/v1/logs for
// several or all components at once, which `s7supervisor logs` uses), and, on the control
// socket only, GET /api/v1/debug/listeners (what tests use to see that no client leaves a
// listener behind).
import type { Express, Request, RequestHandler, Response } from 'express';
import type { LogBuffers, LogLine } from '../log/buffer.js';
import type { SupervisorView } from '../supervisor/status.js';
import { StateEvents } from './events.js';
import { lastEventId, SseHub } from './sse.js';

/** the feeds every listener (TCP port and control socket) shares */
export interface LiveFeeds {
  events: StateEvents;
  /** absent: output is not kept (tests of the HTTP layer alone) */
  logs?: LogBuffers;
  sse: SseHub;
}

/**
 * The feeds of the live routes: made by `run` before anything starts (the events feed keeps the
 * first state changes for a client that connects later), by createHttpApp when none are given.
 */
export function liveFeeds(view: SupervisorView, logs?: LiveFeeds['logs']): LiveFeeds {
  return { events: new StateEvents(view), sse: new SseHub(), ...(logs ? { logs } : {}) };
}

/** lines of each component a logs request gives when it does not say (as `logs -n`) */
export const DEFAULT_TAIL = 100;
/** unread bytes an events client may leave before it is dropped (hundreds of events) */
export const EVENTS_BACKLOG = 64 * 1024;
/** unread bytes a logs follower may leave, beyond the backlog it asked for, before it is dropped */
export const LOGS_BACKLOG = 1024 * 1024;

export function addLiveRoutes(
  app: Express,
  view: SupervisorView,
  feeds: LiveFeeds,
  options: { logsGuard: RequestHandler | undefined; trusted: boolean },
): void {
  const { events, sse } = feeds;
  app.get('/api/v1/events', (req, res) => {
    const stream = sse.open(req, res, EVENTS_BACKLOG);
    if (!stream) return;
    const since = lastEventId(req, req.query.since);
    if (since !== undefined) {
      const missed = events.since(since);
      // too old, or from an earlier supervisor: the client should take a fresh look
      if (!missed) stream.send(JSON.stringify({ lastId: events.lastId }), events.lastId, 'reset');
      else for (const event of missed) stream.send(event.data, event.id, event.type);
    }
    stream.onClose(events.subscribe((event) => stream.send(event.data, event.id, event.type)));
  });

  const before = options.logsGuard ? [options.logsGuard] : [];
  app.get('/api/v1/components/:id/logs', ...before, (req, res) => {
    serveLogs(req, res, view, feeds, [String(req.params.id)]);
  });
  app.get('/api/v1/logs', ...before, (req, res) => {
    const ids = req.query.component;
    const list = ids === undefined ? undefined : (Array.isArray(ids) ? ids : [ids]).map(String);
    serveLogs(req, res, view, feeds, list);
  });

  if (options.trusted) {
    app.get('/api/v1/debug/listeners', (_req, res) => {
      res.json({
        supervisor: Object.fromEntries(
          (['state', 'check', 'reaped', 'reload', 'removed'] as const).map((name) => [
            name,
            view.listenerCount(name),
          ]),
        ),
        events: { subscribers: events.subscribers, lastId: events.lastId },
        logs: {
          followers: feeds.logs?.followers ?? 0,
          buffers: feeds.logs?.components().length ?? 0,
          allocatedBytes: feeds.logs?.allocatedBytes() ?? 0,
        },
        streams: { open: sse.size, dropped: sse.dropped },
        memory: process.memoryUsage(),
      });
    });
  }
}

/** a logs request on TCP without a token configured: refused, and says how to get it */
export const logsForbidden: RequestHandler = (_req, res) => {
  res.status(403).json({
    ok: false,
    message:
      'component output may hold secrets: over TCP it needs the control token (set S7SUPERVISOR_CONTROL_TOKEN and send Authorization: Bearer <token>), or use the control socket',
  });
};

function serveLogs(
  req: Request,
  res: Response,
  view: SupervisorView,
  feeds: LiveFeeds,
  ids: string[] | undefined,
): void {
  const known = view.components().map((c) => c.id);
  const unknown = ids?.find((id) => !known.includes(id));
  if (unknown !== undefined) {
    res.status(404).json({
      ok: false,
      message: `no component "${unknown}"${known.length > 0 ? ` (the components are: ${known.join(', ')})` : ''}`,
    });
    return;
  }
  const tail = parseTail(req.query.tail);
  if (tail === undefined) {
    res.status(400).json({ ok: false, message: 'tail must be a whole number of lines, or "all"' });
    return;
  }
  const follow = req.query.follow === '1' || req.query.follow === 'true';
  const logs = feeds.logs;
  if (!follow) {
    const lines = logs ? logs.tail(ids, tail) : [];
    res.status(200).type('application/x-ndjson; charset=utf-8').send(jsonLines(lines));
    return;
  }
  const stream = feeds.sse.open(req, res, LOGS_BACKLOG);
  if (!stream || !logs) {
    stream?.send('{}', undefined, 'live');
    return;
  }
  // the backlog and the subscription in the same turn of the event loop: no line is missed or doubled
  const since = lastEventId(req, req.query.since);
  const backlog =
    since === undefined ? logs.tail(ids, tail) : logs.tail(ids, Number.POSITIVE_INFINITY, since);
  stream.write(sseLines(backlog), { initial: true });
  // the end of the backlog: what follows was printed after the request
  stream.send(JSON.stringify({ lastSeq: logs.lastSeq }), undefined, 'live');
  stream.onClose(logs.follow(ids, (lines) => stream.write(sseLines(lines))));
}

function parseTail(value: unknown): number | undefined {
  if (value === undefined || value === '') return DEFAULT_TAIL;
  if (value === 'all') return Number.POSITIVE_INFINITY;
  if (typeof value !== 'string' || !/^\d{1,9}$/.test(value)) return undefined;
  return Number(value);
}

function jsonLines(lines: LogLine[]): string {
  let text = '';
  for (const line of lines) text += `${JSON.stringify(line)}\n`;
  return text;
}

function sseLines(lines: LogLine[]): string {
  let text = '';
  for (const line of lines) text += `id: ${line.seq}\ndata: ${JSON.stringify(line)}\n\n`;
  return text;
}
