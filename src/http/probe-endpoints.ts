// /livez, /readyz and their per-component forms, answered straight from node:http. They are what
// orchestrators poll, so they stay cheap and answer even when the supervisor is busy: going
// through express costs about 60 µs more per request (five times node's own HTTP handling),
// which is most of a probe's cost. Everything else goes to the express app.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SupervisorView } from '../supervisor/status.js';
import {
  componentLivez,
  componentReadyz,
  livez,
  type ProbeEndpointAnswer,
  readyz,
} from './probe-endpoint-texts.js';

/** ?verbose, ?verbose=1, ?verbose=true: on; absent, =0, =false: off (as Kubernetes reads it) */
function flag(query: URLSearchParams, name: string): boolean {
  const value = query.get(name);
  return value !== null && value !== '0' && value !== 'false';
}

function send(req: IncomingMessage, res: ServerResponse, answer: ProbeEndpointAnswer): void {
  res.writeHead(answer.status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(answer.body),
    // live answers: nothing may cache them
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(req.method === 'HEAD' ? undefined : answer.body);
}

/**
 * Returns a handler that answers the health endpoints and returns true, or returns false for
 * every other request (and for what it cannot decode), leaving it to the next handler.
 */
export function probeEndpointsHandler(view: SupervisorView) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const url = req.url ?? '/';
    const mark = url.indexOf('?');
    const path = mark === -1 ? url : url.slice(0, mark);
    const query = new URLSearchParams(mark === -1 ? '' : url.slice(mark + 1));
    if (path === '/livez') {
      send(req, res, livez(view.phase, flag(query, 'verbose')));
      return true;
    }
    if (path === '/readyz') {
      const exclude = query.getAll('exclude').filter((id) => id !== '');
      send(req, res, readyz(view.phase, view.components(), { verbose: flag(query, 'verbose'), exclude }));
      return true;
    }
    const which = path.startsWith('/readyz/') ? 'readyz' : path.startsWith('/livez/') ? 'livez' : undefined;
    if (!which) return false;
    let id: string;
    try {
      id = decodeURIComponent(path.slice(which.length + 2));
    } catch {
      return false; // malformed escapes: the express app answers 400
    }
    if (id === '' || id.includes('/')) return false;
    const component = view.component(id);
    if (!component) send(req, res, { status: 404, body: `no component "${id}"\n` });
    else if (which === 'readyz')
      send(req, res, componentReadyz(view.phase, component, flag(query, 'verbose')));
    else send(req, res, componentLivez(component, flag(query, 'verbose')));
    return true;
  };
}
