// The seam between the supervision core and the health checks. The core decides what a result
// means (ready, not ready, hung); this folder only knows how to probe.
import type { CheckSpec } from '../registry/model.js';

export interface CheckOutcome {
  ok: boolean;
  durationSeconds: number;
  /** when not ok: short and human, e.g. 'HTTP 503', 'connect ECONNREFUSED', 'timed out after 1s' */
  reason?: string;
}

/** A running periodic probe; stop() ends it and any probe in flight. */
export interface RunningProbe {
  stop(): void;
}

/**
 * Starts probing `spec` every `spec.interval` seconds (first probe at once), each probe bounded by
 * `spec.timeout`, never two at a time, and reports each outcome. 'fd' specs are not probes: see
 * watchReadyFd.
 */
export type StartProbe = (
  spec: Exclude<CheckSpec, { type: 'fd' }>,
  onOutcome: (outcome: CheckOutcome) => void,
) => RunningProbe;
