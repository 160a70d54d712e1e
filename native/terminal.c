// The terminal in tini mode (design.md §5 rev. 2): when stdin is the supervisor's controlling
// terminal, its one child gets it as its controlling terminal and runs as the terminal's
// foreground process group, as tini does, so `run -- bash` has job control.
//
// That needs the child in a new process group of the supervisor's own session, made before it
// executes the command. Node cannot do it: child_process offers only `detached` (setsid: a new
// session, which has no controlling terminal), and a setpgid() from the parent after
// child_process.spawn() returns always fails with EACCES, because libuv returns only once the
// child has executed (it waits for its close-on-exec error pipe to close) and a process that has
// executed cannot be moved by its parent. So the child is started by the addon (spawn.c, group 3:
// foreground): it calls setpgid(0, 0), then tcsetpgrp() with SIGTTOU blocked (a call from a background
// group would otherwise stop it), as in tini's spawn(). Here: what the supervisor itself does with
// the terminal before and after.
#define _GNU_SOURCE
#include <node_api.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <termios.h>
#include <unistd.h>

#include "addon.h"

// tcsetpgrp(fd, pgid) with SIGTTOU blocked in this thread (sigprocmask acts on the calling thread
// on Linux, glibc and musl alike; pthread_sigmask would need glibc 2.32 in the prebuilds): from a background process group the
// call would otherwise stop the caller (the kernel lets it through when SIGTTOU is blocked or ignored).
static int set_foreground(int fd, pid_t pgid) {
  sigset_t ttou, old;
  sigemptyset(&ttou);
  sigaddset(&ttou, SIGTTOU);
  sigprocmask(SIG_BLOCK, &ttou, &old);
  int r = tcsetpgrp(fd, pgid);
  int err = errno;
  sigprocmask(SIG_SETMASK, &old, NULL);
  return r == 0 ? 0 : err;
}

// foregroundGroup(fd) -> the terminal's foreground process group, or -1 when fd is not our
// controlling terminal (ENOTTY) or no terminal at all
napi_value foreground_group(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 1;
  napi_value arg;
  int32_t fd = 0;
  if (napi_get_cb_info(env, cbinfo, &argc, &arg, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, arg, &fd) != napi_ok) {
    napi_throw_type_error(env, NULL, "foregroundGroup(fd)");
    return NULL;
  }
  pid_t pgid = tcgetpgrp(fd);
  napi_value result;
  if (napi_create_int32(env, pgid < 0 ? -1 : pgid, &result) != napi_ok) return NULL;
  return result;
}

// processGroup() -> getpgrp()
napi_value process_group(napi_env env, napi_callback_info cbinfo) {
  (void)cbinfo;
  napi_value result;
  if (napi_create_int32(env, getpgrp(), &result) != napi_ok) return NULL;
  return result;
}

// setForegroundGroup(fd, pgid): tcsetpgrp with SIGTTOU blocked; throws with the errno name
napi_value set_foreground_group(napi_env env, napi_callback_info cbinfo) {
  int32_t fd, pgid;
  if (!get_two_int32(env, cbinfo, &fd, &pgid)) {
    napi_throw_type_error(env, NULL, "setForegroundGroup(fd, pgid)");
    return NULL;
  }
  int err = set_foreground(fd, pgid);
  if (err) {
    throw_errno(env, "tcsetpgrp", err);
    return NULL;
  }
  return NULL;
}

// ignoreTerminalStops(): SIGTTIN and SIGTTOU ignored, as tini does, so that the supervisor, once
// its child holds the terminal, never stops for writing to it (TOSTOP) or for touching it
napi_value ignore_terminal_stops(napi_env env, napi_callback_info cbinfo) {
  (void)cbinfo;
  struct sigaction ignore;
  memset(&ignore, 0, sizeof ignore);
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  if (sigaction(SIGTTIN, &ignore, NULL) != 0 || sigaction(SIGTTOU, &ignore, NULL) != 0) {
    throw_errno(env, "sigaction", errno);
    return NULL;
  }
  return NULL;
}
