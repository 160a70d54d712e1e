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

// A component's output pipe that it fills (a read takes all 64 KiB) grows to OUTPUT_PIPE_SIZE, so
// that it writes and we read a burst in a quarter of the pieces; at most MAX_GROWN_PIPES at once,
// whether JavaScript reads it (src/process/output-pipe.ts) or a relay does (relay.c). The kernel
// counts every pipe's capacity against its user's quota (/proc/sys/fs/pipe-user-pages-soft,
// 16,384 pages by default), and that user is host-wide: without a user namespace, root in every
// container of a node is one user. Past the quota each new pipe of that user gets two pages. So
// only pipes a component actually fills grow, and at most 16 of them (1,024 pages: a sixteenth of
// the quota); the rest keep 64 KiB. By the raw system call: glibc 2.28 and later bind fcntl() to
// fcntl64@GLIBC_2.28 (see spawn.c).
#define MAX_GROWN_PIPES 16
static int grown_pipes;  // atomic: relays grow theirs from their own threads

int grow_output_pipe(int fd) {
  if (__atomic_add_fetch(&grown_pipes, 1, __ATOMIC_ACQ_REL) > MAX_GROWN_PIPES ||
      syscall(SYS_fcntl, fd, F_SETPIPE_SZ, (long)OUTPUT_PIPE_SIZE) < OUTPUT_PIPE_SIZE) {
    __atomic_sub_fetch(&grown_pipes, 1, __ATOMIC_ACQ_REL);
    return 0;
  }
  return 1;
}

// Our own stdout or stderr, when it is a pipe a burst filled (its reader, a container runtime's log
// copier, took less than we had): grown like a component's, so that the reader takes a burst in a
// quarter of the pieces and does not wait on us between them (the relay refills the pipe while the
// reader drains it, where a 64 KiB pipe ran dry during each 256 KiB read of the component's pipe).
// Never shrunk: a pipe that already holds OUTPUT_PIPE_SIZE or more is left as it is. It counts
// against MAX_GROWN_PIPES for good (it is never closed before we exit). Not a pipe (a file, a
// terminal): nothing to grow.
int grow_destination_pipe(int fd) {
  long size = syscall(SYS_fcntl, fd, F_GETPIPE_SZ);
  return size > 0 && size < OUTPUT_PIPE_SIZE && grow_output_pipe(fd);
}

void grown_pipe_closed(void) { __atomic_sub_fetch(&grown_pipes, 1, __ATOMIC_ACQ_REL); }

// grow(fd) for JavaScript, as a boolean; a TypeError naming `usage` for anything but one int32
static napi_value grow_for_js(napi_env env, napi_callback_info cbinfo, int (*grow)(int), const char *usage) {
  int32_t fd;
  if (!get_one_int32(env, cbinfo, &fd)) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  napi_value result;
  napi_get_boolean(env, grow(fd), &result);
  return result;
}

// growOutputPipe(fd) -> true when the pipe now holds OUTPUT_PIPE_SIZE (call releaseGrownPipe()
// once it is closed); false past the cap, or when the kernel refused (EPERM past the quota)
napi_value grow_output_pipe_js(napi_env env, napi_callback_info cbinfo) {
  return grow_for_js(env, cbinfo, grow_output_pipe, "growOutputPipe(fd)");
}

// growDestinationPipe(fd) -> grow_destination_pipe's answer: our stdout or stderr, found full by
// JavaScript's writer (src/log/batch-writer.ts), as a relay grows it (relay.c wait_for_room)
napi_value grow_destination_pipe_js(napi_env env, napi_callback_info cbinfo) {
  return grow_for_js(env, cbinfo, grow_destination_pipe, "growDestinationPipe(fd)");
}

// releaseGrownPipe(): a pipe growOutputPipe grew is closed
napi_value release_grown_pipe_js(napi_env env, napi_callback_info cbinfo) {
  (void)env;
  (void)cbinfo;
  grown_pipe_closed();
  return NULL;
}
