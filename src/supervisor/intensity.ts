// Restart intensity, as in Erlang/OTP supervisors: more than `max` restarts within `period`
// seconds, summed over all components, means restarting is not helping, so the supervisor gives
// up and lets the orchestrator restart the container.

export class RestartIntensity {
  private readonly times: number[] = [];

  constructor(
    private readonly max: number,
    private readonly periodSeconds: number,
  ) {}

  /** Records a restart at `now` (ms) if it stays within the limit; false means: give up. */
  allow(now: number): boolean {
    const horizon = now - this.periodSeconds * 1000;
    while (this.times.length > 0 && this.times[0]! <= horizon) this.times.shift();
    if (this.times.length >= this.max) return false;
    this.times.push(now);
    return true;
  }
}
