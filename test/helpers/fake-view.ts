// A SupervisorView with fixed, editable snapshots: the dependency of HTTP and metrics tests, so
// that they exercise the real HTTP layer without a supervisor core behind it.
import { EventEmitter } from 'node:events';
import type {
  ComponentStatus,
  ControlResult,
  SupervisorControl,
  SupervisorEventMap,
  SupervisorPhase,
} from '../../src/supervisor/status.js';

export function status(id: string, fields: Partial<ComponentStatus> = {}): ComponentStatus {
  return {
    id,
    description: `component ${id}`,
    critical: true,
    startPriority: 1,
    kind: 'longrun',
    state: 'running',
    ready: true,
    restarts: 0,
    exits: { exited: 0, signaled: 0, unhealthy: 0, stopped: 0, memory: 0 },
    stoppedByOperator: false,
    restartTimes: [],
    changes: [],
    ...fields,
  };
}

export class FakeView extends EventEmitter<SupervisorEventMap> implements SupervisorControl {
  phase: SupervisorPhase = 'running';
  /** control calls received, in order: ['start', 'is'], ['reload'] ... */
  readonly calls: string[][] = [];

  constructor(public statuses: ComponentStatus[]) {
    super();
  }

  components(): ComponentStatus[] {
    return this.statuses.map((s) => structuredClone(s));
  }

  component(id: string): ComponentStatus | undefined {
    const found = this.statuses.find((s) => s.id === id);
    return found && structuredClone(found);
  }

  set(id: string, fields: Partial<ComponentStatus>): void {
    this.statuses = this.statuses.map((s) => (s.id === id ? { ...s, ...fields } : s));
  }

  private act(verb: string, id?: string): ControlResult {
    this.calls.push(id === undefined ? [verb] : [verb, id]);
    if (id !== undefined && !this.statuses.some((s) => s.id === id))
      return { ok: false, status: 404, message: `no component "${id}"` };
    return { ok: true, message: `${id ?? 'all'} ${verb}` };
  }

  async start(id: string) {
    return this.act('start', id);
  }
  async stop(id: string) {
    return this.act('stop', id);
  }
  async restart(id?: string) {
    return this.act('restart', id);
  }
  async reload() {
    return this.act('reload');
  }
  async signal(id: string, signal: string) {
    const result = this.act('signal', id);
    this.calls[this.calls.length - 1]?.push(signal);
    return result;
  }
}
