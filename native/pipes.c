// Real pipes for the components' stdout and stderr. Node offers only socket pairs for child
// output, and open("/dev/stdout") fails with ENXIO on a socket, so nginx's `access_log
// /dev/stdout`, Apache's `ErrorLog /dev/stderr` or `tee /dev/stderr` could not work under us.
// Both ends are close-on-exec: the child gets its write end through dup2 (which clears the flag),
// and no other child can inherit either end by accident.
#define _GNU_SOURCE
#include <node_api.h>

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <sys/syscall.h>
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

// writeSome(fd, bytes, start, end) -> how many of bytes[start, end) one write(2) took, or -errno
// (-EAGAIN: a non-blocking descriptor that is full). Never throws for the descriptor's answer:
// fs.writeSync throws EAGAIN as an Error with its stack trace, which at hundreds of megabytes a
// second costs more than the write (src/log/batch-writer.ts writes component output with it).
napi_value write_some(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 4;
  napi_value argv[4];
  int32_t fd;
  int64_t start, end;
  void *data;
  size_t length;
  bool is_buffer = false;
  if (napi_get_cb_info(env, cbinfo, &argc, argv, NULL, NULL) != napi_ok || argc < 4 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_is_buffer(env, argv[1], &is_buffer) != napi_ok ||
      !is_buffer || napi_get_buffer_info(env, argv[1], &data, &length) != napi_ok ||
      napi_get_value_int64(env, argv[2], &start) != napi_ok || napi_get_value_int64(env, argv[3], &end) != napi_ok ||
      start < 0 || end < start || (uint64_t)end > length) {
    napi_throw_type_error(env, NULL, "writeSome(fd, bytes, start, end)");
    return NULL;
  }
  ssize_t written;
  do written = write(fd, (const char *)data + start, (size_t)(end - start));
  while (written < 0 && errno == EINTR);
  napi_value result;
  if (napi_create_int64(env, written >= 0 ? (int64_t)written : -(int64_t)errno, &result) != napi_ok) return NULL;
  return result;
}

// setPipeSize(fd, size) -> the pipe's new capacity, or -errno (EPERM: past the user's pipe quota,
// pipe-user-pages-soft, or above pipe-max-size). A pipe that a component fills gets room for
// more, so it writes and we read in fewer, larger pieces (src/process/output-pipe.ts). By the raw
// system call: glibc 2.28 and later bind fcntl() to fcntl64@GLIBC_2.28 (see spawn.c).
napi_value set_pipe_size(napi_env env, napi_callback_info cbinfo) {
  int32_t fd, size;
  if (!get_two_int32(env, cbinfo, &fd, &size) || size <= 0) {
    napi_throw_type_error(env, NULL, "setPipeSize(fd, size > 0)");
    return NULL;
  }
  long capacity = syscall(SYS_fcntl, fd, F_SETPIPE_SZ, (long)size);
  napi_value result;
  if (napi_create_int64(env, capacity >= 0 ? (int64_t)capacity : -(int64_t)errno, &result) != napi_ok) return NULL;
  return result;
}
