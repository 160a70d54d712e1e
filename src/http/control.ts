// The operator's levers over HTTP: start, stop, restart, reload. On the TCP port they exist only
// when a control token is set and every request carries it; on the control socket (trusted: file
// permissions decide who may connect) they need none.
import { createHash, timingSafeEqual } from 'node:crypto';
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
}
