// The HTTP face of the supervisor (design.md §4): health endpoints for orchestrators, /metrics
// for Prometheus, status as JSON, and (only with a token, or on the trusted control socket) the
// control routes. Built on a SupervisorView only: it never changes the supervisor's state except
// through SupervisorControl. The health endpoints are answered before express (health-handler.ts).
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { Express, NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { registerLogDropMetric } from '../metrics/log-drops.js';
import { createMetrics, type SupervisorMetrics } from '../metrics/metrics.js';
import { componentResources } from '../metrics/resources.js';
import type { ComponentStatus, SupervisorControl, SupervisorView } from '../supervisor/status.js';
import { addControlRoutes, bearerGuard } from './control.js';
import { StateEvents } from './events.js';
import { readyz } from './health.js';
import { healthHandler } from './health-handler.js';
import { addLiveRoutes, type LiveFeeds, logsForbidden } from './live.js';
import { SseHub } from './sse.js';
import { OUTPUT_LINES, type StatusPageData, statusPageHandler } from './status-page.js';

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
  /** the events feed, output buffers and open streams, shared by every listener (made here if absent) */
  live?: LiveFeeds;
  logger?: Logger;
}

/** the feeds of createHttpApp when none are given: events, no output buffers */
export function liveFeeds(view: SupervisorView, logs?: LiveFeeds['logs']): LiveFeeds {
  return { events: new StateEvents(view), sse: new SseHub(), ...(logs ? { logs } : {}) };
}

/** A request listener for http.createServer: health and metrics first, then the express app. */
export interface HttpApp extends RequestListener {
  /** the metrics this app serves (created here unless passed in) */
  metrics: SupervisorMetrics;
  /** the feeds this app serves (created here unless passed in) */
  live: LiveFeeds;
}

/** a component as the JSON API shows it: its snapshot plus uptime and resources, never its environment */
export interface ComponentJson extends ComponentStatus {
  /** seconds since the last start, while its process runs */
  uptimeSeconds?: number;
  /** resident memory, CPU seconds and live processes of its process group, while it runs */
  resources?: { rssBytes: number; cpuSeconds: number; processes: number };
}

function toJson(statuses: ComponentStatus[]): ComponentJson[] {
  const resources = componentResources(statuses);
  const now = Date.now();
  return statuses.map((status) => {
    const json: ComponentJson = { ...status };
    if (status.pid !== undefined && status.startedAt !== undefined)
      json.uptimeSeconds = Math.max(0, (now - status.startedAt) / 1000);
    const group = resources.get(status.id);
    if (group) json.resources = { ...group };
    return json;
  });
}

function statusPageData(options: HttpAppOptions, live: LiveFeeds): Omit<StatusPageData, 'now' | 'cpu'> {
  const { view } = options;
  const components = view.components();
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
    phase: view.phase,
    ready: readyz(view.phase, components, { verbose: false, exclude: [] }).status === 200,
    components: toJson(components),
    // buttons only where a token guards the routes: the socket is for the CLI, not browsers
    controls: Boolean(options.control && options.controlToken && !options.trustCaller),
  };
}

export function createHttpApp(options: HttpAppOptions): HttpApp {
  const { view } = options;
  const live = options.live ?? liveFeeds(view);
  let metrics = options.metrics;
  if (!metrics) {
    metrics = createMetrics(view, { version: options.version, pid1: options.pid1 ?? false });
    if (live.logs) registerLogDropMetric(metrics.registry, view, live.logs);
  }
  const served = metrics;
  const health = healthHandler(view);
  // Probes and scrapes are all most supervisors ever get: they are answered without express,
  // which is loaded on the first other request (about 5 MB less for an idle supervisor).
  let app: Express | undefined;
  const handler: RequestListener = (req, res) => {
    if (health(req, res) || serveMetrics(served, req, res, options.logger)) return;
    app ??= expressApp(options, view, live);
    app(req, res);
  };
  return Object.assign(handler, { metrics: served, live });
}

/** GET /metrics; false for any other request */
function serveMetrics(
  metrics: SupervisorMetrics,
  req: IncomingMessage,
  res: ServerResponse,
  logger: Logger | undefined,
): boolean {
  if (
    (req.method !== 'GET' && req.method !== 'HEAD') ||
    (req.url !== '/metrics' && !req.url?.startsWith('/metrics?'))
  )
    return false;
  metrics.render(req.headers.accept).then(
    ({ contentType, body }) => {
      res.writeHead(200, {
        'Content-Type': contentType,
        'Content-Length': Buffer.byteLength(body),
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
  return true;
}

/** The JSON API, control routes, status page and 404s. */
function expressApp(options: HttpAppOptions, view: SupervisorView, live: LiveFeeds): Express {
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

  app.get('/api/v1/components', (_req, res) => {
    res.json({ version: options.version, phase: view.phase, components: toJson(view.components()) });
  });
  app.get('/api/v1/components/:id', (req, res) => {
    const component = view.component(req.params.id);
    if (!component) {
      res.status(404).json({ ok: false, message: `no component "${req.params.id}"` });
      return;
    }
    res.json(toJson([component])[0]);
  });

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
    statusPageHandler(() => statusPageData(options, live)),
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
