// The HTTP face of the supervisor (design.md §4): health endpoints for orchestrators, /metrics
// for Prometheus, status as JSON, and (only with a token, or on the trusted control socket) the
// control routes. Built on a SupervisorView only: it never changes the supervisor's state except
// through SupervisorControl.
//
// What is polled (the probes, /metrics, the status page, the JSON API) is answered straight from
// node:http, before express: probes from the live view (health-handler.ts), the rest from one
// shared snapshot whose answers are computed once (snapshot-cache.ts). Express, which costs five
// times node's own handling per request and leaves much more garbage, only gets the rest (control
// routes, unknown paths, malformed requests). On the TCP port everything but the probes goes
// through admission control (admission.ts): a bounded rate, the excess waiting in a bounded queue.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { Express, NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { registerLogDropMetric } from '../metrics/log-drops.js';
import { createMetrics, type SupervisorMetrics } from '../metrics/metrics.js';
import { negotiateFormat } from '../metrics/negotiate.js';
import { createResourceReader } from '../metrics/resources.js';
import type { SupervisorControl, SupervisorView } from '../supervisor/status.js';
import {
  type Admission,
  type AdmissionLimits,
  answerBusy,
  createAdmission,
  defaultAdmission,
} from './admission.js';
import { addControlRoutes, bearerGuard } from './control.js';
import { addLiveRoutes, type LiveFeeds, liveFeeds, logsForbidden } from './live.js';
import { readyz } from './probe-endpoint-texts.js';
import { probeEndpointsHandler } from './probe-endpoints.js';
import { type Snapshot, SnapshotCache } from './snapshot-cache.js';
import {
  OUTPUT_LINES,
  type StatusPageData,
  type StatusPageSource,
  statusPageHandler,
} from './status-page.js';

export interface HttpAppOptions {
  view: SupervisorView;
  /** the operator's levers; without controlToken or trustCaller the control routes do not exist */
  control?: SupervisorControl;
  /** Bearer token the control routes require on this app (S7SUPERVISOR_CONTROL_TOKEN) */
  controlToken?: string;
  /** the control socket: whoever can open the socket file may control, no token asked */
  trustCaller?: boolean;
  version: string;
  /** whether the supervisor runs as PID 1 (label of s7supervisor_info) */
  pid1?: boolean;
  /** share one metrics instance between several apps (TCP port and control socket) */
  metrics?: SupervisorMetrics;
  /** share one snapshot cache (and its /proc reading) between several apps */
  snapshots?: SnapshotCache;
  /**
   * the bound on what is served besides the probes (admission.ts): default defaultAdmission,
   * none (false) for a trusted caller (the control socket)
   */
  admission?: AdmissionLimits | false;
  /** the events feed, output buffers and open streams, shared by every listener (made here if absent) */
  live?: LiveFeeds;
  logger?: Logger;
}

/** A request listener for http.createServer: health and metrics first, then the express app. */
export interface HttpApp extends RequestListener {
  /** the metrics this app serves (created here unless passed in) */
  metrics: SupervisorMetrics;
  /** the snapshots this app answers from (created here unless passed in) */
  snapshots: SnapshotCache;
  /** its admission control; none for a trusted caller */
  admission: Admission | undefined;
  /** the feeds this app serves (created here unless passed in) */
  live: LiveFeeds;
}

/**
 * What the status page shows, from the shared snapshot (one /proc reading for every page, API
 * answer and scrape). Without the components' output in it (anywhere but the control socket) the
 * page is the same for every request of one snapshot: it is rendered once per snapshot, so a
 * request storm on / costs what a probe costs.
 */
function statusPageData(
  options: HttpAppOptions,
  live: LiveFeeds,
  snapshots: SnapshotCache,
): StatusPageSource {
  const snapshot = snapshots.get();
  return {
    ...(options.trustCaller ? {} : { cacheKey: snapshot }),
    page: () => pageContents(options, live, snapshot),
  };
}

function pageContents(
  options: HttpAppOptions,
  live: LiveFeeds,
  { phase, components }: Snapshot,
): Omit<StatusPageData, 'now' | 'cpu'> {
  return {
    lastEventId: live.events.lastId,
    // output may hold secrets: on TCP only for who has the token, which the page asks for
    output: !live.logs
      ? { mode: 'off', why: 'output is not kept' }
      : options.trustCaller
        ? { mode: 'open', lines: live.logs.tail(undefined, OUTPUT_LINES) }
        : options.controlToken
          ? { mode: 'token' }
          : { mode: 'off', why: 'output needs the control token (S7SUPERVISOR_CONTROL_TOKEN)' },
    version: options.version,
    phase,
    ready: readyz(phase, components, { verbose: false, exclude: [] }).status === 200,
    components: [...components],
    // buttons only where a token guards the routes: the socket is for the CLI, not browsers
    controls: Boolean(options.control && options.controlToken && !options.trustCaller),
  };
}

export function createHttpApp(options: HttpAppOptions): HttpApp {
  const { view } = options;
  const live = options.live ?? liveFeeds(view);
  const snapshots = options.snapshots ?? new SnapshotCache(view, createResourceReader());
  const metrics =
    options.metrics ??
    createMetrics(view, {
      version: options.version,
      pid1: options.pid1 ?? false,
      resources: snapshots.resources,
    });
  if (!options.metrics && live.logs) registerLogDropMetric(metrics.registry, view, live.logs);
  const health = probeEndpointsHandler(view);
  const reading = readingHandler(options, snapshots, metrics);
  const limits = options.admission ?? (options.trustCaller ? false : defaultAdmission);
  const admission = limits ? createAdmission(limits, options.logger) : undefined;
  // express is loaded on the first request that needs it (about 5 MB less for an idle supervisor)
  let app: Express | undefined;
  let inExpress = 0;
  const route = (req: IncomingMessage, res: ServerResponse) => {
    if (reading.handle(req, res)) return;
    // control routes wait for components: a bound on how many may wait at once (event and log
    // streams stay open as long as their client wants: the stream hub bounds those)
    const streaming = isStream(req.url);
    if (admission && !streaming && inExpress >= maxInExpress) {
      answerBusy(req, res);
      return;
    }
    if (!streaming) {
      inExpress += 1;
      res.once('close', () => {
        inExpress -= 1;
      });
    }
    app ??= expressApp(options, reading, view, live, snapshots);
    app(req, res);
  };
  const handler: RequestListener = (req, res) => {
    if (health(req, res)) return;
    if (admission) admission.admit(req, res, () => route(req, res));
    else route(req, res);
  };
  return Object.assign(handler, { metrics, snapshots, admission, live });
}

function sendJson(req: IncomingMessage, res: ServerResponse, status: number, body: Buffer): void {
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': body.length,
    // live answers: nothing may cache them
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8');

interface ReadingHandler {
  /** answers GET/HEAD of /metrics, /api/v1/components[/ID] and returns true; false for the rest */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  list(req: IncomingMessage, res: ServerResponse): void;
  one(req: IncomingMessage, res: ServerResponse, id: string): void;
}

function readingHandler(
  options: HttpAppOptions,
  snapshots: SnapshotCache,
  metrics: SupervisorMetrics,
): ReadingHandler {
  const { version, logger } = options;

  const list = (req: IncomingMessage, res: ServerResponse) => {
    const snapshot = snapshots.get();
    snapshot.derived.list ??= json({ version, phase: snapshot.phase, components: snapshot.components });
    sendJson(req, res, 200, snapshot.derived.list);
  };

  const one = (req: IncomingMessage, res: ServerResponse, id: string) => {
    const snapshot = snapshots.get();
    const { derived } = snapshot;
    // only ids that exist are remembered: the others come from the request, without bound
    let body = derived.one.get(id);
    if (body === undefined) {
      const component = snapshot.components.find((c) => c.id === id);
      if (!component) {
        sendJson(req, res, 404, json({ ok: false, message: `no component "${id}"` }));
        return;
      }
      body = json(component);
      derived.one.set(id, body);
    }
    sendJson(req, res, 200, body);
  };

  const serveMetrics = (req: IncomingMessage, res: ServerResponse) => {
    const { derived } = snapshots.get();
    const format = negotiateFormat(req.headers.accept);
    let rendered = derived.metrics.get(format);
    if (!rendered) {
      rendered = metrics
        .render(req.headers.accept)
        .then(({ contentType, body }) => ({ contentType, body: Buffer.from(body, 'utf8') }));
      derived.metrics.set(format, rendered);
      // a failed rendering is not kept: the next scrape tries again
      rendered.catch(() => derived.metrics.delete(format));
    }
    rendered.then(
      ({ contentType, body }) => {
        res.writeHead(200, {
          'Content-Type': contentType,
          'Content-Length': body.length,
          'Cache-Control': 'no-store',
          'X-Content-Type-Options': 'nosniff',
        });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (error: unknown) => {
        logger?.error({ err: error }, 'rendering /metrics failed');
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end('internal error\n');
      },
    );
  };

  const prefix = '/api/v1/components/';
  return {
    list,
    one,
    handle(req, res) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      const url = req.url ?? '/';
      const mark = url.indexOf('?');
      const path = mark === -1 ? url : url.slice(0, mark);
      if (path === '/metrics') serveMetrics(req, res);
      else if (path === '/api/v1/components') list(req, res);
      else if (path.startsWith(prefix)) {
        let id: string;
        try {
          id = decodeURIComponent(path.slice(prefix.length));
        } catch {
          return false; // malformed escapes: the express app answers 400
        }
        if (id === '' || id.includes('/')) return false;
        one(req, res, id);
      } else return false;
      return true;
    },
  };
}

/** requests in express at once on a port with admission control */
const maxInExpress = 32;

/** the event and log streams (Server-Sent Events), which stay open */
function isStream(url: string | undefined): boolean {
  const path = (url ?? '').split('?')[0] ?? '';
  return path === '/api/v1/events' || path.endsWith('/logs') || path === '/api/v1/logs';
}

/** The status page, the control routes, the live streams, the API in any other spelling express accepts, 404s and 400s. */
function expressApp(
  options: HttpAppOptions,
  reading: ReadingHandler,
  view: SupervisorView,
  live: LiveFeeds,
  snapshots: SnapshotCache,
): Express {
  const express = createRequire(import.meta.url)('express') as typeof import('express');
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use((_req, res, next) => {
    // health and status are live answers: nothing may cache them
    res.set('Cache-Control', 'no-store');
    res.set('X-Content-Type-Options', 'nosniff');
    next();
  });

  // the reading handler takes their usual spelling; these catch the rest (a trailing slash, case)
  app.get('/api/v1/components', (req, res) => reading.list(req, res));
  app.get('/api/v1/components/:id', (req, res) => reading.one(req, res, String(req.params.id)));

  if (options.control && (options.trustCaller || options.controlToken)) {
    const guard =
      options.trustCaller || !options.controlToken ? undefined : bearerGuard(options.controlToken);
    addControlRoutes(app, options.control, guard);
  }
  addLiveRoutes(app, view, live, {
    logsGuard: options.trustCaller
      ? undefined
      : options.controlToken
        ? bearerGuard(options.controlToken)
        : logsForbidden,
    trusted: options.trustCaller === true,
  });

  app.get(
    '/',
    statusPageHandler(() => statusPageData(options, live, snapshots)),
  );

  app.use((_req, res) => {
    res.status(404).type('text/plain; charset=utf-8').send('404 page not found\n');
  });
  // Express 5 hands rejected async handlers here too
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // a malformed request (bad JSON, bad URL encoding): the client's mistake
      res
        .status(status)
        .type('text/plain; charset=utf-8')
        .send(`${(error as Error).message}\n`);
      return;
    }
    options.logger?.error({ err: error, path: req.path }, 'HTTP request failed');
    if (!res.headersSent) res.status(500).type('text/plain; charset=utf-8').send('internal error\n');
  });

  return app;
}
