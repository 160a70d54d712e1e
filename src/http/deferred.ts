// A request listener that stands in for one loaded later: `run` binds its sockets before it
// starts anything (a port in use is a start-up error with nothing started), but loads what
// answers on them (the HTTP app, its metrics and prom-client) only once the first components were
// spawned, so they start that much sooner. A request that comes in between waits for it.
import type { EventEmitter } from 'node:events';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { SupervisorView } from '../supervisor/status.js';

export interface DeferredListener {
  /** give this to the server */
  readonly listener: RequestListener;
  /** from now on `real` answers, starting with the requests that waited */
  serve(real: RequestListener): void;
}

export function deferredListener(): DeferredListener {
  let real: RequestListener | undefined;
  const waiting: Array<[IncomingMessage, ServerResponse]> = [];
  return {
    listener: (req, res) => {
      if (real) real(req, res);
      else waiting.push([req, res]);
    },
    serve(listener) {
      real = listener;
      for (const [req, res] of waiting.splice(0)) listener(req, res);
    },
  };
}

/** what the metrics count from the supervisor's events (metrics.ts) */
const COUNTED = ['check', 'reaped', 'reload'] as const;
type Counted = (typeof COUNTED)[number];
type AnyListener = (...args: unknown[]) => void;

export interface EarlyEvents<V extends SupervisorView> {
  /** `view`, whose new listeners of a counted event first hear what it said before */
  readonly view: V;
  /** stops keeping events (once the metrics listen) */
  stop(): void;
}

/**
 * Keeps the events the metrics count (probes, reaped orphans, reloads) from now until the app is
 * loaded, so that its metrics count the probes of the first components too. The view it gives
 * out is `view` itself for everything else.
 */
export function keepEarlyEvents<V extends SupervisorView>(view: V): EarlyEvents<V> {
  let kept: Array<[Counted, unknown[]]> | undefined = [];
  // the typed view is a plain EventEmitter underneath: listeners of any event, by name
  const emitter: EventEmitter = view;
  const recorders = COUNTED.map((event) => {
    const record: AnyListener = (...args) => kept?.push([event, args]);
    emitter.on(event, record);
    return [event, record] as const;
  });
  const replaying: V = Object.create(view);
  // an own `on` that shadows the emitter's: defined, not assigned, as V's `on` is typed per event
  Object.defineProperty(replaying, 'on', {
    value: (event: string | symbol, listener: AnyListener) => {
      for (const [name, args] of kept ?? []) if (name === event) listener(...args);
      emitter.on(event, listener);
      return replaying;
    },
  });
  return {
    view: replaying,
    stop() {
      kept = undefined;
      for (const [event, record] of recorders) emitter.off(event, record);
    },
  };
}
