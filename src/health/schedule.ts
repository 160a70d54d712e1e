// Runs one check periodically: first probe at once, then one every `interval` seconds counted
// from the start of the previous one (a probe slower than the interval is followed straight away
// by the next), never two at a time, each cut off after `timeout` seconds.
import { version } from '../meta/version.js';
import { delaySampledTimeout } from '../metrics/loop-delay.js';
import type { CheckOutcome, RunningProbe, StartProbe } from './check.js';
import { type ProbeResult, probeExec, probeHttp, probeTcp } from './probes.js';

type ProbeSpec = Parameters<StartProbe>[0];

const userAgent = `s7supervisor/${version}`;

/** One probe of `spec`, bounded by `signal`. */
export function probeOnce(spec: ProbeSpec, signal: AbortSignal): Promise<ProbeResult> {
  switch (spec.type) {
    case 'http':
      return probeHttp(spec.url, signal, userAgent);
    case 'tcp':
      return probeTcp(spec.host, spec.port, signal);
    case 'exec':
      return probeExec(spec.command, spec.args, signal, {
        ...(spec.user !== undefined ? { user: spec.user } : {}),
        shown: spec.shown.command,
      });
  }
}

export const startProbe: StartProbe = (spec, onOutcome) => {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: AbortController | undefined;

  const runOne = async () => {
    timer = undefined;
    if (stopped) return;
    const controller = new AbortController();
    inFlight = controller;
    const limit = setTimeout(() => controller.abort(`timed out after ${spec.timeout}s`), spec.timeout * 1000);
    const started = performance.now();
    let result: ProbeResult;
    try {
      result = await probeOnce(spec, controller.signal);
    } catch (error) {
      // the probes resolve rather than throw; this is a last line of defence for a bug
      result = { ok: false, reason: error instanceof Error ? error.message : String(error) };
    } finally {
      clearTimeout(limit);
      inFlight = undefined;
    }
    const elapsed = performance.now() - started;
    if (stopped) return;
    const outcome: CheckOutcome = { ok: result.ok, durationSeconds: elapsed / 1000 };
    if (!result.ok) outcome.reason = result.reason ?? 'failed';
    onOutcome(outcome);
    if (stopped) return;
    // how late this timer fires is the event-loop delay metric's sample (no sampler of its own)
    timer = delaySampledTimeout(runOne, Math.max(0, spec.interval * 1000 - elapsed));
  };

  void runOne();
  const running: RunningProbe = {
    stop() {
      stopped = true;
      clearTimeout(timer);
      inFlight?.abort('stopped');
    },
  };
  return running;
};
