// Logging what can happen thousands of times a second under attack (connections dropped,
// requests turned away, accept errors) without flooding the log: the first occurrence is logged
// at once, later ones at most once per interval, with the count since the last line.
import { performance } from 'node:perf_hooks';

/** returns a function to call on every occurrence; `log` runs when a line is due, with the count */
export function throttledLog(intervalMs = 60_000, now: () => number = () => performance.now()) {
  let last = Number.NEGATIVE_INFINITY;
  let count = 0;
  return (log: (count: number) => void): void => {
    count += 1;
    const at = now();
    if (at - last < intervalMs) return;
    last = at;
    const since = count;
    count = 0;
    log(since);
  };
}
