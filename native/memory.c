// Giving freed heap back to the system. glibc's malloc keeps what the program freed for its next
// allocations, and returns only a free stretch at the very top of its heap: after start-up and
// after each full garbage collection (which frees the memory behind collected Buffers and
// strings) an idle supervisor sat on ~0.6 MB that nothing would use again. malloc_trim(0) hands
// every free page back (madvise), wherever it lies. musl has no malloc_trim, and returns free
// memory by itself: there it does nothing.
#define _GNU_SOURCE
#include <node_api.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "addon.h"

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
