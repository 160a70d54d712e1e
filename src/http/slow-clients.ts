// Cutting off slow clients (slowloris) with timers that exist only while a connection owes us
// something: its request headers, or the body of a request it started. Node's own cut-off
// (headersTimeout/requestTimeout) is checked by a setInterval of `connectionsCheckingInterval`
// that runs from listen() on, connections or not: at the 1 s a prompt cut-off needs, it woke an
// idle supervisor every second (issue 15: at most 1 wake-up a second, ideally none). Here an idle
// server has no timer at all; node's interval is pushed out of the way (the longest a timer can be).
import type http from 'node:http';
import type { Socket } from 'node:net';

/** node's interval, as long as a timer can be: it never fires in practice */
export const NODE_CHECK_DISABLED_MS = 2 ** 31 - 1;

const REQUEST_TIMEOUT_RESPONSE = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n';

export interface SlowClientLimits {
  /** the whole header block must arrive within this from the connection (or the last response) */
  headersTimeout: number;
  /** the body of a request must have arrived within this from its headers */
  requestTimeout: number;
}

export function cutOffSlowClients(server: http.Server, limits: SlowClientLimits): void {
  const timers = new WeakMap<Socket, NodeJS.Timeout>();
  const clear = (socket: Socket) => {
    clearTimeout(timers.get(socket));
    timers.delete(socket);
  };
  /** cut `socket` off after `ms`, unless `request` has come in whole by then */
  const arm = (socket: Socket, ms: number, request?: http.IncomingMessage) => {
    clear(socket);
    if (socket.destroyed) return;
    const cutOff = () => {
      timers.delete(socket);
      if (request?.complete) return;
      // as node does: a 408 when nothing was answered on this connection yet, then the end
      if (socket.writable && socket.bytesWritten === 0) socket.write(REQUEST_TIMEOUT_RESPONSE);
      socket.destroy();
    };
    // unref'd: a client that owes us bytes is no reason to stay alive
    timers.set(socket, setTimeout(cutOff, ms).unref());
  };
  server.on('connection', (socket: Socket) => {
    arm(socket, limits.headersTimeout);
    socket.once('close', () => clear(socket));
  });
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    // the headers are in; the body may still be on its way ('request' comes before node marks
    // even a GET complete, and 'end' only if the handler reads the body: so look when it is due)
    arm(req.socket, limits.requestTimeout, req);
    // a response that streams (events, logs -f) owes nothing: only the next request's headers do
    res.once('finish', () => arm(req.socket, limits.headersTimeout));
  });
}
