// The terminal in tini mode (design.md §5 rev. 2): when stdin is the supervisor's controlling
// terminal, its one child gets it as its controlling terminal and runs as the terminal's
// foreground process group, as tini does, so `run -- bash` has job control.
//
// That needs the child in a new process group of the supervisor's own session, made before it
// executes the command. Node cannot do it: child_process offers only `detached` (setsid: a new
// session, which has no controlling terminal), and a setpgid() from the parent after
// child_process.spawn() returns always fails with EACCES, because libuv returns only once the
// child has executed (it waits for its close-on-exec error pipe to close) and a process that has
// executed cannot be moved by its parent. So the fork and the step before exec are here, as in
// tini's spawn(): the child calls setpgid(0, 0), then tcsetpgrp() with SIGTTOU blocked (a call
// from a background group would otherwise stop it), resets every signal disposition and its mask,
// and executes. Exec errors come back through a close-on-exec pipe, as with libuv, so the caller
// sees ENOENT or EACCES exactly as from child_process. The child is not libuv's: its exit is
// collected by the orphan reaper (reaper.c), which reports its status (src/process/spawn.ts).
#define _GNU_SOURCE
#include <node_api.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "addon.h"

#define MAX_STDIO 64

// fcntl through the raw system call: glibc 2.28 and later bind fcntl() to the symbol fcntl64@GLIBC_2.28,
// and the glibc prebuilds must load on glibc 2.17 (test/packaging checks the symbol versions)
static int fcntl_raw(int fd, int cmd, long arg) {
  return (int)syscall(SYS_fcntl, fd, cmd, arg);
}

static const char *errno_name(int err) {
  switch (err) {
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case ENOEXEC: return "ENOEXEC";
    case EPERM: return "EPERM";
    case ENOTDIR: return "ENOTDIR";
    case ELOOP: return "ELOOP";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case E2BIG: return "E2BIG";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOTTY: return "ENOTTY";
    case ENXIO: return "ENXIO";
    case ESRCH: return "ESRCH";
    case EINVAL: return "EINVAL";
    case EBADF: return "EBADF";
    case ETXTBSY: return "ETXTBSY";
    case EISDIR: return "EISDIR";
    default: return "EIO";
  }
}

static void throw_errno(napi_env env, const char *what, int err) {
  char message[256];
  snprintf(message, sizeof message, "%s: %s", what, strerror(err));
  napi_throw_error(env, errno_name(err), message);
}

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

// ---- the child, between fork and exec: async-signal-safe calls only ---------------------------

static void child_fail(int report_fd, int err) {
  ssize_t r;
  do r = write(report_fd, &err, sizeof err);
  while (r < 0 && errno == EINTR);
  _exit(127);
}

// execve `file` directly when it has a slash, else each PATH entry in turn (PATH from `path`),
// as execvp does but with the child's PATH; returns the errno to report.
static int exec_search(const char *file, char *const argv[], char *const envp[], const char *path) {
  if (strchr(file, '/')) {
    execve(file, argv, envp);
    return errno;
  }
  if (!path) path = "/usr/local/bin:/usr/bin:/bin";
  size_t file_len = strlen(file);
  int seen_eacces = 0, last = ENOENT;
  char candidate[PATH_MAX];
  for (const char *p = path;; p++) {
    const char *end = strchr(p, ':');
    if (!end) end = p + strlen(p);
    size_t dir_len = (size_t)(end - p);
    if (dir_len + 1 + file_len + 1 <= sizeof candidate) {
      if (dir_len == 0) {
        memcpy(candidate, file, file_len + 1);  // an empty entry means the working directory
      } else {
        memcpy(candidate, p, dir_len);
        candidate[dir_len] = '/';
        memcpy(candidate + dir_len + 1, file, file_len + 1);
      }
      execve(candidate, argv, envp);
      switch (errno) {
        case EACCES: seen_eacces = 1; break;
        case ENOENT:
        case ENOTDIR:
        case ENAMETOOLONG:
        case ELOOP:
          break;
        default:
          return errno;  // ENOEXEC, E2BIG, ENOMEM...: found it, but it cannot run
      }
    } else {
      last = ENAMETOOLONG;
    }
    if (*end == '\0') break;
    p = end;
  }
  return seen_eacces ? EACCES : last;
}

typedef struct {
  const char *file;
  char **argv;
  char **envp;
  const char *path;
  const char *cwd;
  int stdio[MAX_STDIO];  // child fd i <- stdio[i]; -1: /dev/null
  int stdio_count;
  bool take_terminal;
  int report_fd;
} spawn_request;

static void child_main(const spawn_request *req) {
  int lowest = req->stdio_count > 3 ? req->stdio_count : 3;
  // the error pipe above every target descriptor, so that putting stdio in place cannot replace it
  int report = req->report_fd < lowest ? fcntl_raw(req->report_fd, F_DUPFD_CLOEXEC, lowest) : req->report_fd;
  if (report < 0) _exit(127);
  // every signal is still blocked (since before fork): no handler of Node's can run in here
  for (int sig = 1; sig < NSIG; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    signal(sig, SIG_DFL);  // EINVAL for the signals glibc keeps for itself: harmless
  }
  if (setpgid(0, 0) != 0) child_fail(report, errno);
  // blocked SIGTTOU lets a background group take the terminal; a terminal that is gone is no error
  if (req->take_terminal && tcsetpgrp(STDIN_FILENO, getpid()) != 0 && errno != ENOTTY && errno != ENXIO)
    child_fail(report, errno);
  // stdio: first move every source out of the way of the targets, then put each in place
  int moved[MAX_STDIO];
  for (int i = 0; i < req->stdio_count; i++) {
    int src = req->stdio[i];
    if (src < 0) {
      src = open("/dev/null", O_RDWR | O_CLOEXEC);
      if (src < 0) child_fail(report, errno);
    }
    if (src == i) {
      moved[i] = i;
      continue;
    }
    moved[i] = fcntl_raw(src, F_DUPFD_CLOEXEC, lowest);
    if (moved[i] < 0) child_fail(report, errno);
  }
  for (int i = 0; i < req->stdio_count; i++) {
    if (moved[i] == i) {
      // inherited as it is: it must survive the exec
      int flags = fcntl_raw(i, F_GETFD, 0);
      if (flags >= 0 && (flags & FD_CLOEXEC)) fcntl_raw(i, F_SETFD, flags & ~FD_CLOEXEC);
      continue;
    }
    if (dup2(moved[i], i) < 0) child_fail(report, errno);
  }
  if (req->cwd && chdir(req->cwd) != 0) child_fail(report, errno);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  child_fail(report, exec_search(req->file, req->argv, req->envp, req->path));
}

// ---- N-API glue ------------------------------------------------------------------------------

static char *get_string(napi_env env, napi_value value) {
  size_t len;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &len) != napi_ok) return NULL;
  char *s = malloc(len + 1);
  if (!s) return NULL;
  if (napi_get_value_string_utf8(env, value, s, len + 1, &len) != napi_ok) {
    free(s);
    return NULL;
  }
  return s;
}

static void free_strings(char **list) {
  if (!list) return;
  for (char **p = list; *p; p++) free(*p);
  free(list);
}

// a JavaScript array of strings as a NULL-terminated char*[]
static char **get_strings(napi_env env, napi_value array) {
  bool is_array;
  uint32_t n;
  if (napi_is_array(env, array, &is_array) != napi_ok || !is_array) return NULL;
  if (napi_get_array_length(env, array, &n) != napi_ok) return NULL;
  char **list = calloc((size_t)n + 1, sizeof *list);
  if (!list) return NULL;
  for (uint32_t i = 0; i < n; i++) {
    napi_value item;
    if (napi_get_element(env, array, i, &item) != napi_ok || !(list[i] = get_string(env, item))) {
      free_strings(list);
      return NULL;
    }
  }
  return list;
}

// spawnInForeground(file, argv, envp, cwd | null, stdio: number[] (-1 = /dev/null), takeTerminal)
//   -> pid. The child leads a new process group in our session (and, with takeTerminal, is the
//   foreground group of the terminal on its stdin) before it executes `file`. Throws an Error
//   whose code is the errno name (ENOENT, EACCES...) when it cannot be started.
napi_value spawn_in_foreground(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 6;
  napi_value args[6];
  if (napi_get_cb_info(env, cbinfo, &argc, args, NULL, NULL) != napi_ok || argc < 6) {
    napi_throw_type_error(env, NULL, "spawnInForeground(file, argv, envp, cwd, stdio, takeTerminal)");
    return NULL;
  }
  spawn_request req;
  memset(&req, 0, sizeof req);
  napi_valuetype cwd_type;
  char *file = get_string(env, args[0]);
  char **argv = get_strings(env, args[1]);
  char **envp = get_strings(env, args[2]);
  char *cwd = NULL;
  bool ok = file && argv && envp && napi_typeof(env, args[3], &cwd_type) == napi_ok;
  if (ok && cwd_type == napi_string) ok = (cwd = get_string(env, args[3])) != NULL;
  uint32_t n = 0;
  bool is_array = false;
  if (ok) ok = napi_is_array(env, args[4], &is_array) == napi_ok && is_array &&
               napi_get_array_length(env, args[4], &n) == napi_ok && n <= MAX_STDIO;
  for (uint32_t i = 0; ok && i < n; i++) {
    napi_value item;
    int32_t fd;
    ok = napi_get_element(env, args[4], i, &item) == napi_ok && napi_get_value_int32(env, item, &fd) == napi_ok;
    req.stdio[i] = fd;
  }
  if (ok) ok = napi_get_value_bool(env, args[5], &req.take_terminal) == napi_ok;
  if (!ok) {
    free(file);
    free_strings(argv);
    free_strings(envp);
    free(cwd);
    bool pending;
    napi_is_exception_pending(env, &pending);
    if (!pending) napi_throw_type_error(env, NULL, "spawnInForeground: bad arguments");
    return NULL;
  }
  req.file = file;
  req.argv = argv;
  req.envp = envp;
  req.cwd = cwd;
  req.stdio_count = (int)n;
  for (char **e = envp; *e; e++)
    if (strncmp(*e, "PATH=", 5) == 0) req.path = *e + 5;

  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) {
    int err = errno;
    free(file);
    free_strings(argv);
    free_strings(envp);
    free(cwd);
    throw_errno(env, "pipe2", err);
    return NULL;
  }
  req.report_fd = report[1];
  // block everything around fork, as libuv does: a signal must not run Node's handler in the child
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, &old);
  pid_t pid = fork();
  if (pid == 0) child_main(&req);  // never returns
  int fork_err = errno;
  sigprocmask(SIG_SETMASK, &old, NULL);
  close(report[1]);
  free(file);
  free_strings(argv);
  free_strings(envp);
  free(cwd);
  if (pid < 0) {
    close(report[0]);
    throw_errno(env, "fork", fork_err);
    return NULL;
  }
  // EOF: it executed. An errno: it failed before or at exec and exits 127 at once.
  int child_err = 0;
  ssize_t r;
  do r = read(report[0], &child_err, sizeof child_err);
  while (r < 0 && errno == EINTR);
  close(report[0]);
  if (r == (ssize_t)sizeof child_err) {
    int status;
    pid_t w;
    do w = waitpid(pid, &status, 0);
    while (w < 0 && errno == EINTR);
    throw_errno(env, "spawn", child_err);
    return NULL;
  }
  // Both sides, as shells do: the child's own setpgid has happened by now; this one is for form
  // (EACCES once it has executed) and changes nothing.
  setpgid(pid, pid);
  napi_value result;
  if (napi_create_int32(env, pid, &result) != napi_ok) return NULL;
  return result;
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
  size_t argc = 2;
  napi_value args[2];
  int32_t fd, pgid;
  if (napi_get_cb_info(env, cbinfo, &argc, args, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_int32(env, args[0], &fd) != napi_ok || napi_get_value_int32(env, args[1], &pgid) != napi_ok) {
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
