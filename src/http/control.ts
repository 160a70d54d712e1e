// The operator's levers over HTTP: start, stop, restart, reload, signal. On the TCP port they exist only
// when a control token is set and every request carries it; on the control socket (trusted: file
// permissions decide who may connect) they need none.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Express, NextFunction, Request, Response } from 'express';
import type { ControlResult, SupervisorControl } from '../supervisor/status.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Compares the Bearer token in constant time: both sides are hashed first, so neither the
 * content nor the length of the token leaks through timing.
 */
export function bearerGuard(token: string) {
  const expected = digest(token);
  return (req: Request, res: Response, next: NextFunction) => {
    const match = /^Bearer\s+(.+)$/i.exec(req.get('authorization') ?? '');
    if (match?.[1] && timingSafeEqual(digest(match[1].trim()), expected)) {
      next();
      return;
    }
    res
      .status(401)
      .set('WWW-Authenticate', 'Bearer realm="s7supervisor"')
      .json({ ok: false, message: 'a valid control token is required (Authorization: Bearer <token>)' });
  };
}

function answer(res: Response, result: ControlResult): void {
  res.status(result.ok ? 200 : result.status).json(result);
}

/** POST /api/v1/components/:id/{start,stop,restart}, POST /api/v1/restart (all), POST /api/v1/reload */
export function addControlRoutes(
  router: Express,
  control: SupervisorControl,
  guard?: ReturnType<typeof bearerGuard>,
): void {
  // guarded route by route, so that other paths still get their plain 404
  const before = guard ? [guard] : [];
  const route = (path: string, act: (req: Request) => Promise<ControlResult>) =>
    router.post(path, ...before, async (req: Request, res: Response) => answer(res, await act(req)));
  const id = (req: Request) => String(req.params.id);
  route('/api/v1/components/:id/start', (req) => control.start(id(req)));
  route('/api/v1/components/:id/stop', (req) => control.stop(id(req)));
  route('/api/v1/components/:id/restart', (req) => control.restart(id(req)));
  route('/api/v1/restart', () => control.restart());
  route('/api/v1/reload', () => control.reload());
  addSignalRoute(router, control, before);
}

/**
 * POST /api/v1/components/:id/signal with `{"signal":"HUP"}` (rev. 2): a name or a number. The
 * body is read only here, at most 1 KiB; `?signal=HUP` is taken too, for a quick curl.
 */
function addSignalRoute(
  router: Express,
  control: SupervisorControl,
  before: Array<ReturnType<typeof bearerGuard>>,
): void {
  const express = createRequire(import.meta.url)('express') as typeof import('express');
  const body = express.json({ limit: '1kb', strict: true, type: () => true });
  router.post('/api/v1/components/:id/signal', ...before, body, async (req: Request, res: Response) => {
    const fromBody = (req.body as { signal?: unknown } | undefined)?.signal;
    const signal = fromBody ?? req.query.signal;
    if (typeof signal !== 'string' && typeof signal !== 'number') {
      res
        .status(400)
        .json({ ok: false, message: 'which signal? send {"signal":"HUP"} (a name or a number)' });
      return;
    }
    answer(res, await control.signal(String(req.params.id), String(signal)));
  });
}
