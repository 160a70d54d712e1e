// The state changes of every component as a feed (GET /api/v1/events, design.md §4 rev. 2): one
// listener on the supervisor, however many clients follow, each event numbered (monotonic `id`)
// and serialized once. The last EVENT_HISTORY events are kept, so a client that reconnects
// (EventSource sends Last-Event-ID) or a page rendered a moment ago (?since=) misses nothing.
import type { ComponentState, ComponentStatus, ReloadAttempt, SupervisorView } from '../supervisor/status.js';

/** events kept for clients that reconnect */
export const EVENT_HISTORY = 1000;

/** one state change as the stream carries it */
export interface StateEvent {
  /** monotonic over the supervisor's life, from 1 */
  id: number;
  component: string;
  from: ComponentState;
  to: ComponentState;
  reason: string;
  /** epoch ms */
  time: number;
  /** after the change: what a status page needs to redraw the row without asking */
  pid?: number;
  ready: boolean;
  restarts: number;
  nextStartAt?: number;
}

/** a reload of the registry was attempted (components may have come or gone) */
export interface ReloadEvent {
  id: number;
  result: 'success' | 'failure';
  time: number;
}

export interface FeedEvent {
  id: number;
  /** the SSE event type: undefined for a state change (EventSource's `message`), else 'reload' */
  type: 'reload' | undefined;
  /** the JSON text of the event */
  data: string;
}

export type FeedListener = (event: FeedEvent) => void;

export class StateEvents {
  private readonly history: FeedEvent[] = [];
  private readonly listeners = new Set<FeedListener>();
  private last = 0;
  private readonly onState = (status: ComponentStatus, previous: ComponentState) => {
    const change = status.changes.at(-1);
    const event: StateEvent = {
      id: this.last + 1,
      component: status.id,
      from: previous,
      to: status.state,
      reason: change?.to === status.state ? change.reason : status.state,
      time: change?.at ?? Date.now(),
      ...(status.pid !== undefined ? { pid: status.pid } : {}),
      ready: status.ready,
      restarts: status.restarts,
      ...(status.nextStartAt !== undefined ? { nextStartAt: status.nextStartAt } : {}),
    };
    this.publish(undefined, event);
  };
  private readonly onReload = ({ result }: ReloadAttempt) => {
    this.publish('reload', { id: this.last + 1, result, time: Date.now() });
  };

  constructor(
    private readonly view: SupervisorView,
    private readonly capacity = EVENT_HISTORY,
  ) {
    view.on('state', this.onState);
    view.on('reload', this.onReload);
  }

  /** the id of the newest event (0 before the first) */
  get lastId(): number {
    return this.last;
  }

  get subscribers(): number {
    return this.listeners.size;
  }

  subscribe(listener: FeedListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /**
   * The events after `id`, oldest first; undefined when they cannot all be given (older than the
   * history, or an id this supervisor never gave: the client talked to an earlier one).
   */
  since(id: number): FeedEvent[] | undefined {
    if (id > this.last) return undefined;
    const oldest = this.history[0]?.id ?? this.last + 1;
    if (id < oldest - 1) return undefined;
    return this.history.slice(this.history.length - (this.last - id));
  }

  /** stops listening to the supervisor */
  close(): void {
    this.view.off('state', this.onState);
    this.view.off('reload', this.onReload);
  }

  private publish(type: FeedEvent['type'], body: StateEvent | ReloadEvent): void {
    this.last = body.id;
    const event: FeedEvent = { id: body.id, type, data: JSON.stringify(body) };
    this.history.push(event);
    if (this.history.length > this.capacity) this.history.shift();
    for (const listener of [...this.listeners]) listener(event);
  }
}
