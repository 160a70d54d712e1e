// Real pipes for the components' stdout and stderr. Node offers only socket pairs for child
// output, and open("/dev/stdout") fails with ENXIO on a socket, so nginx's `access_log
// /dev/stdout`, Apache's `ErrorLog /dev/stderr` or `tee /dev/stderr` could not work under us.
// Both ends are close-on-exec: the child gets its write end through dup2 (which clears the flag),
// and no other child can inherit either end by accident.
#define _GNU_SOURCE
#include <node_api.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "addon.h"

// makePipe() -> [readFd, writeFd]; throws an Error whose code is the errno name (EMFILE...).
napi_value make_pipe(napi_env env, napi_callback_info cbinfo) {
  (void)cbinfo;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    throw_errno(env, "pipe2", errno);
    return NULL;
  }
  napi_value result, read_end, write_end;
  if (napi_create_array_with_length(env, 2, &result) != napi_ok ||
      napi_create_int32(env, fds[0], &read_end) != napi_ok ||
      napi_create_int32(env, fds[1], &write_end) != napi_ok ||
      napi_set_element(env, result, 0, read_end) != napi_ok ||
      napi_set_element(env, result, 1, write_end) != napi_ok) {
    close(fds[0]);
    close(fds[1]);
    napi_throw_error(env, NULL, "makePipe: N-API call failed");
    return NULL;
  }
  return result;
}
