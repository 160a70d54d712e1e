// The start-up leaves garbage behind (the bundle's source, the registry's parse, the first spawns'
// buffers), and V8 gives it back to the system only with its memory reducer: a few compacting
// collections run when V8 judges the process idle. V8 judges from the allocation rate averaged
// over its last ten collections, which the start-up dominates for a long while: measured here with
// 100 components, 33 s after the start in one run and 65, 82 and 122 s in another (Node 20; the
// image's Node 24.22 collected 8.5 s after the start without the hint, so there it changes
// nothing). Until then the process holds ~10 MB it does not use, and the collections land in what
// the operator (and the idle benchmark) sees as the supervisor's quiet time.
//
// The supervisor knows when its start-up is over; V8 does not. So once the first components are
// spawned, V8 is told to optimize for memory (--optimize-for-size) for a while: the reducer's next
// check, at most 8 s later, then runs its collections whatever the allocation rate (heap.cc,
// ShouldOptimizeForMemoryUsage), and they are over within a second or two. The flag goes back
// afterwards, so the rest of the run is V8's defaults; later bursts (a reload, a flood of output)
// are left to the reducer as V8 schedules it. Where no collection is due (a small heap, the reducer
// already done), nothing happens: the flag changes only how the reducer decides.
import { createRequire } from 'node:module';

/** how long V8 optimizes for memory: the reducer checks every 8 s, then collects 2-3 times 0.5 s apart */
export const START_UP_MEMORY_WINDOW_MS = 20_000;

const ON = '--optimize-for-size';
const OFF = '--no-optimize-for-size';

/**
 * Has V8 give back what the start-up left behind now rather than whenever it judges the process
 * idle; returns what puts V8's default back at once (at exit). Does nothing when --optimize-for-size
 * was given on Node's command line (then it stays on, as asked).
 */
export function giveStartUpMemoryBack(windowMs = START_UP_MEMORY_WINDOW_MS): () => void {
  if (process.execArgv.includes(ON)) return () => {};
  // node:v8 is loaded by now (young-generation.ts, same turn of the loop): no start-up cost
  const v8 = createRequire(import.meta.url)('node:v8') as typeof import('node:v8');
  v8.setFlagsFromString(ON);
  let on = true;
  const restore = (): void => {
    if (!on) return;
    on = false;
    clearTimeout(timer);
    v8.setFlagsFromString(OFF);
  };
  // unref'd: a supervisor that is done does not wait for it
  const timer = setTimeout(restore, windowMs).unref();
  return restore;
}
