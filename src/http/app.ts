// The HTTP face of the supervisor (design.md §4): health endpoints for orchestrators, /metrics
// for Prometheus, status as JSON, and (only with a token, or on the trusted control socket) the
// control routes. Built on a SupervisorView only: it never changes the supervisor's state except
// through SupervisorControl. The health endpoints are answered before express (health-handler.ts).
import type { RequestListener } from 'node:http';
import express, { type Express, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { createMetrics, type SupervisorMetrics } from '../metrics/metrics.js';
import { componentResources } from '../metrics/resources.js';
import type { ComponentStatus, SupervisorControl, SupervisorView } from '../supervisor/status.js';
import { bearerGuard, controlRoutes } from './control.js';
import { readyz } from './health.js';
import { healthHandler } from './health-handler.js';
import { type StatusPageData, statusPageHandler } from './status-page.js';

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
  logger?: Logger;
  /** more routes (the status page), added before the catch-all 404 */
  extend?: (app: Express) => void;
}

/** A request listener for http.createServer: the health endpoints first, then the express app. */
export interface HttpApp extends RequestListener {
  /** the metrics this app serves (created here unless passed in) */
  metrics: SupervisorMetrics;
  /** the express app behind the health endpoints: /metrics, the JSON API, control, 404 */
  express: Express;
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

function statusPageData(options: HttpAppOptions): Omit<StatusPageData, 'now'> {
  const { view } = options;
  const components = view.components();
  return {
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
  const metrics =
    options.metrics ?? createMetrics(view, { version: options.version, pid1: options.pid1 ?? false });
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use((_req, res, next) => {
    // health and status are live answers: nothing may cache them
    res.set('Cache-Control', 'no-store');
    res.set('X-Content-Type-Options', 'nosniff');
    next();
  });

  app.get('/metrics', async (req, res) => {
    const { contentType, body } = await metrics.render(req.get('accept'));
    res.status(200).set('Content-Type', contentType).send(body);
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
    app.use(controlRoutes(options.control, guard));
  }

  app.get(
    '/',
    statusPageHandler(() => statusPageData(options)),
  );

  options.extend?.(app);

  app.use((_req, res) => {
    res.status(404).type('text/plain; charset=utf-8').send('404 page not found\n');
  });
  // Express 5 hands rejected async handlers here too
  app.use((error: unknown, req: Request, res: Response, _next: express.NextFunction) => {
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

  const health = healthHandler(view);
  const handler: RequestListener = (req, res) => {
    if (!health(req, res)) app(req, res);
  };
  return Object.assign(handler, { metrics, express: app });
}
