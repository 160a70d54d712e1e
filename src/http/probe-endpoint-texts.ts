// The text of /livez and /readyz, in the style of the Kubernetes API server's health endpoints:
// `ok` when all is well, one `[+]name ok` / `[-]name ...` line per check with ?verbose, and
// ?exclude=NAME (repeatable) to leave a check out.
import type { ComponentStatus, SupervisorPhase } from '../supervisor/status.js';

export interface ProbeEndpointAnswer {
  status: 200 | 404 | 503;
  body: string;
}

/** the phases in which the supervisor is going away: /readyz fails so traffic drains first */
const shuttingDown: ReadonlySet<SupervisorPhase> = new Set(['stopping', 'stopped', 'gave-up']);

function notReadyReason(c: ComponentStatus): string {
  return c.notReadyReason ?? c.state;
}

/**
 * /readyz: ready when every critical, not excluded component is ready and the supervisor is not
 * shutting down. A non-critical component is listed (marked so) but never counted.
 */
export function readyz(
  phase: SupervisorPhase,
  components: readonly ComponentStatus[],
  options: { verbose: boolean; exclude: readonly string[] },
): ProbeEndpointAnswer {
  const lines: string[] = [];
  let failed = false;
  if (shuttingDown.has(phase)) {
    failed = true;
    lines.push(`[-]shutdown not ready: ${phase === 'gave-up' ? 'the supervisor gave up' : 'shutting down'}`);
  }
  const excluded = new Set(options.exclude);
  const unmatched = new Set(options.exclude);
  for (const c of components) {
    if (excluded.has(c.id)) {
      unmatched.delete(c.id);
      lines.push(`[+]${c.id} excluded: ok`);
      continue;
    }
    if (c.ready) {
      lines.push(`[+]${c.id} ok${c.critical ? '' : ' (not critical)'}`);
    } else if (c.critical) {
      failed = true;
      lines.push(`[-]${c.id} not ready: ${notReadyReason(c)}`);
    } else {
      lines.push(`[-]${c.id} not ready: ${notReadyReason(c)} (not critical, not counted)`);
    }
  }
  if (unmatched.size > 0) {
    const names = [...unmatched].map((name) => `"${name}"`).join(', ');
    lines.push(`warn: some health checks cannot be excluded: no matches for ${names}`);
  }
  const status = failed ? 503 : 200;
  if (!options.verbose) return { status, body: failed ? 'readyz check failed\n' : 'ok\n' };
  lines.push(failed ? 'readyz check failed' : 'readyz check passed');
  return { status, body: `${lines.join('\n')}\n` };
}

/** /readyz/ID: that component's own readiness; it too fails once shutdown has begun */
export function componentReadyz(
  phase: SupervisorPhase,
  c: ComponentStatus,
  verbose: boolean,
): ProbeEndpointAnswer {
  if (shuttingDown.has(phase)) return fail('readyz', `[-]${c.id} not ready: shutting down`);
  if (!c.ready) return fail('readyz', `[-]${c.id} not ready: ${notReadyReason(c)}`);
  return pass('readyz', verbose, `[+]${c.id} ok`);
}

/** /livez: the supervisor answers and has not given up. Components do not count: restarting them is our job. */
export function livez(phase: SupervisorPhase, verbose: boolean): ProbeEndpointAnswer {
  if (phase === 'gave-up') return fail('livez', '[-]supervisor failed: gave up (restart intensity exceeded)');
  return pass('livez', verbose, '[+]supervisor ok');
}

/**
 * /livez/ID: whether the component is alive or meant to be down. Its process runs (starting,
 * running, stopping) or it was stopped on purpose (by an operator, by shutdown, or it exited 0
 * under a policy that does not restart it): 200. Crashed and waiting to restart (backoff), or
 * given up on (fatal): 503.
 */
export function componentLivez(c: ComponentStatus, verbose: boolean): ProbeEndpointAnswer {
  if (c.state === 'backoff' || c.state === 'fatal') {
    const exit = c.lastExit ? `, last exit code ${c.lastExit.code} (${c.lastExit.reason})` : '';
    return fail('livez', `[-]${c.id} failed: ${c.state}${exit}`);
  }
  return pass('livez', verbose, `[+]${c.id} ok`);
}

function pass(name: string, verbose: boolean, line: string): ProbeEndpointAnswer {
  return { status: 200, body: verbose ? `${line}\n${name} check passed\n` : 'ok\n' };
}

/** a single check's failure always says why: there is no list to keep short */
function fail(name: string, line: string): ProbeEndpointAnswer {
  return { status: 503, body: `${line}\n${name} check failed\n` };
}
