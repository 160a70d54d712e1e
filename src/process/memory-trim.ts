// Memory a supervisor no longer uses goes back to the system after each full garbage collection.
// A full collection frees what start-up (the bundle's source and code cache read from disk), a
// scrape or a burst of output left behind, and the malloc'd memory behind those Buffers and
// strings goes back into glibc's free lists, which glibc keeps for later allocations. An idle
// supervisor has no later allocations: malloc_trim (native/memory.c) gives those pages back, ~0.6 MB
// of resident memory once V8's memory reducer has run its collections after start-up
// (docs/performance.md). Nothing wakes the process for it: it runs only right after a full
// collection, which an idle process does not have.
import { constants, type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';
import { loadNative, type NativeAddon } from './native.js';

/** a 'gc' performance entry as Node 16+ makes it (@types/node 20 does not say `detail`) */
type GcEntry = PerformanceEntry & { detail?: { kind?: number } | null };

/** Trims after every full collection from now on; returns what stops it. */
export function trimAfterFullCollections(native: Pick<NativeAddon, 'trimMemory'> = loadNative()): () => void {
  const observer = new PerformanceObserver((list) => {
    // a gc entry's detail says which kind of collection it was (Node 16+)
    const full = list
      .getEntries()
      .some((entry) => (entry as GcEntry).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR);
    if (full) native.trimMemory();
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => observer.disconnect();
}
