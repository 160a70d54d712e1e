// glibc's malloc, tuned for a supervisor: large output buffers come from the heap
// (tune_allocator), and freed heap goes back to the system (trimMemory). glibc keeps what the
// program freed for its next allocations, and returns only a free stretch at the very top of its
// heap: after start-up and after each full garbage collection (which frees the memory behind
// collected Buffers and strings) an idle supervisor sat on ~0.6 MB that nothing would use again.
// malloc_trim(0) hands every free page back (madvise), wherever it lies. musl has neither knob,
// and returns free memory by itself: there both do nothing.
#define _GNU_SOURCE
#include <node_api.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "addon.h"

// Every chunk of component output makes a buffer of JSON records (~130 KiB for 64 KiB of short
// lines, native/lines.c) that lives until it is written. glibc serves blocks above 128 KiB with a
// fresh mmap and gives them back with munmap, so each one page-faulted all of its pages in again:
// half the cost of the records. Up to 4 MiB they now come from the heap and are reused. Called
// once, when the addon loads. (musl has no such threshold.)
void tune_allocator(void) {
#ifdef __GLIBC__
  mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
#endif
}

// trimMemory() -> true when memory was given back (always false where there is no malloc_trim)
napi_value trim_memory(napi_env env, napi_callback_info cbinfo) {
  (void)cbinfo;
  bool released = false;
#ifdef __GLIBC__
  released = malloc_trim(0) == 1;
#endif
  napi_value result;
  if (napi_get_boolean(env, released, &result) != napi_ok) return NULL;
  return result;
}
