// Starting a child without forking Node. child_process.spawn() in Node 20 forks: the kernel copies
// the page tables of the whole ~50 MB process, marks every writable page copy-on-write in both,
// and the child's exec then tears that copy down again, 1-2 ms per spawn here, most of a component's
// crash-to-respawn time. vfork() (clone(CLONE_VM|CLONE_VFORK), what glibc's posix_spawn uses) shares
// our memory with the child until it executes, so none of that happens, whatever our size.
//
// posix_spawn itself cannot be used: it has no uid/gid switch, its chdir needs glibc 2.29 (the
// prebuilds load on 2.17), and it cannot set the terminal's foreground group. So the child's steps
// are those of libuv 1.46's uv__process_child_init (Node 20), in its order, and of tini's spawn() for
// a child that keeps our terminal (design.md §5 rev. 2):
//   signal dispositions 1-31 to SIG_DFL; setsid() (or setpgid(0, 0), and tcsetpgrp() for the
//   terminal); stdio put in place (a source below its target moved out of the way first, as libuv
//   does; 0-2 /dev/null when ignored, blocking when inherited); chdir; setgroups(0), setgid,
//   setuid; an empty signal mask; execve with a PATH search in the child's own environment.
//
// Sharing memory sets rules for the child (the same as for glibc's posix_spawn): nothing that
// allocates or takes a lock, no signal handler of Node's may run in it (every signal stays blocked
// from before vfork until the dispositions are reset; the handler table is the child's own copy),
// and no libc call that acts on the whole process through our memory: glibc's and musl's setuid(),
// setgid() and setgroups() would make every thread of *ours* switch user (they broadcast the change
// to the threads they know of), so the raw system calls are used.
//
// An error before or at exec comes back through a close-on-exec pipe: the parent reads the errno
// or end-of-file once the child executed. vfork makes the parent wait until then, but QEMU's user
// mode (the arm64 prebuild's test) runs vfork as a plain fork, where shared memory would not carry
// the errno back; the pipe works either way.
//
// The child is not libuv's: its exit is collected by the orphan reaper (reaper.c), which hands it
// to src/process/spawn.ts.
#define _GNU_SOURCE
#include <node_api.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "addon.h"

// the registry allows readiness descriptors up to 1023
#define MAX_STDIO 1024

enum group { GROUP_INHERITED = 0, GROUP_NEW_SESSION = 1, GROUP_NEW = 2, GROUP_FOREGROUND = 3 };

// fcntl through the raw system call: glibc 2.28 and later bind fcntl() to the symbol fcntl64@GLIBC_2.28,
// and the glibc prebuilds must load on glibc 2.17 (test/packaging checks the symbol versions)
static int fcntl_raw(int fd, int cmd, long arg) {
  return (int)syscall(SYS_fcntl, fd, cmd, arg);
}

// the errno's name, the `code` of the Error JavaScript gets; EIO for the rare rest
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
    case EFAULT: return "EFAULT";
    case EBADF: return "EBADF";
    case ETXTBSY: return "ETXTBSY";
    case EISDIR: return "EISDIR";
    case ELIBBAD: return "ELIBBAD";
    case ENOSYS: return "ENOSYS";
    default: return "EIO";
  }
}

int get_one_int32(napi_env env, napi_callback_info cbinfo, int32_t *value) {
  size_t argc = 1;
  napi_value args[1];
  return napi_get_cb_info(env, cbinfo, &argc, args, NULL, NULL) == napi_ok && argc >= 1 &&
         napi_get_value_int32(env, args[0], value) == napi_ok;
}

int get_two_int32(napi_env env, napi_callback_info cbinfo, int32_t *first, int32_t *second) {
  size_t argc = 2;
  napi_value args[2];
  return napi_get_cb_info(env, cbinfo, &argc, args, NULL, NULL) == napi_ok && argc >= 2 &&
         napi_get_value_int32(env, args[0], first) == napi_ok && napi_get_value_int32(env, args[1], second) == napi_ok;
}

void throw_errno(napi_env env, const char *what, int err) {
  char message[256];
  snprintf(message, sizeof message, "%s: %s", what, strerror(err));
  napi_throw_error(env, errno_name(err), message);
}

// as child_process words it ("spawn /bin/x ENOENT"), so that logs and status read the same
static void throw_spawn_error(napi_env env, const char *file, int err) {
  size_t size = strlen(file) + 32;
  char *message = malloc(size);
  if (!message) {
    napi_throw_error(env, errno_name(err), "spawn failed");
    return;
  }
  snprintf(message, size, "spawn %s %s", file, errno_name(err));
  napi_throw_error(env, errno_name(err), message);
  free(message);
}

// sched_setscheduler(2) for the calling thread, by the raw system call: musl's wrapper always
// fails (ENOSYS), glibc's acts on the thread as the kernel does
static int set_policy(int policy) {
  struct sched_param none;
  memset(&none, 0, sizeof none);
  return syscall(SYS_sched_setscheduler, 0, policy, &none) == 0 ? 0 : -1;
}

// The new child first, then us. Both usually share a CPU (it is started on ours), and the kernel
// wakes us in the middle of its exec (vfork is done, then the error pipe closes): as a normal
// task, woken, we would take the CPU back at once and the child would wait, not yet running its
// first instruction, while we log its start, open its output and update the state (0.5-1 ms of
// JavaScript, measured with perf sched). A SCHED_BATCH task that wakes does not preempt
// (kernel/sched/fair.c): made one for the time of vfork, this thread waits until the child
// blocks or has used its time slice, as a shell's wait4() would. Only from the usual policy: a
// supervisor someone gave a real-time policy keeps it. true when switched.
static bool run_child_first(void) {
  if (syscall(SYS_sched_getscheduler, 0) != SCHED_OTHER) return false;
  return set_policy(SCHED_BATCH) == 0;
}

typedef struct {
  const char *file;
  char **argv;
  char **envp;
  const char *path;  // PATH of envp, or NULL
  const char *cwd;   // NULL: ours
  int *stdio;        // child fd i <- stdio[i]; -1: none (/dev/null for 0-2)
  int *scratch;      // stdio_count ints the child may write (it must not allocate)
  int stdio_count;
  int group;
  bool set_uid, set_gid;
  uid_t uid;
  gid_t gid;
  int report_fd;
  bool batch;  // the parent made this thread SCHED_BATCH (run_child_first): the child goes back
} spawn_request;

// ---- the child, between vfork and exec: async-signal-safe calls only, no allocation ------------

__attribute__((noreturn)) static void child_fail(int report_fd, int err) {
  ssize_t r;
  do r = write(report_fd, &err, sizeof err);
  while (r < 0 && errno == EINTR);
  _exit(127);
}

// execve `file` directly when it has a slash, else each PATH entry in turn (PATH from `path`),
// as execvp does but with the child's PATH and without running a file that is not an executable
// through /bin/sh (ENOEXEC is reported: design.md §3 rev. 2); returns the errno to report.
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

// uv__nonblock_fcntl(fd, 0): a child's stdio is blocking, as programs expect
static void make_blocking(int fd) {
  int flags = fcntl_raw(fd, F_GETFL, 0);
  if (flags >= 0 && (flags & O_NONBLOCK)) fcntl_raw(fd, F_SETFL, flags & ~O_NONBLOCK);
}

__attribute__((noinline, noreturn)) static void child_main(const spawn_request *req) {
  int count = req->stdio_count;
  int lowest = count > 3 ? count : 3;
  // the error pipe above every target descriptor, so that putting stdio in place cannot replace it
  int report = req->report_fd < lowest ? fcntl_raw(req->report_fd, F_DUPFD_CLOEXEC, lowest) : req->report_fd;
  if (report < 0) _exit(127);
  // every signal is still blocked (since before vfork): no handler of Node's can run in here
  // 1-31 as libuv: Node sets no real-time signal, and the C library keeps some of those for itself
  for (int sig = 1; sig < 32; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    signal(sig, SIG_DFL);
  }
  // never run a component under the policy borrowed for its start (should the call fail: no start)
  if (req->batch && set_policy(SCHED_OTHER) != 0) child_fail(report, errno);
  if (req->group == GROUP_NEW_SESSION) {
    if (setsid() < 0) child_fail(report, errno);
  } else if (req->group != GROUP_INHERITED) {
    if (setpgid(0, 0) != 0) child_fail(report, errno);
    // blocked SIGTTOU lets a background group take the terminal; a terminal that is gone is no error
    if (req->group == GROUP_FOREGROUND && tcsetpgrp(STDIN_FILENO, getpgrp()) != 0 && errno != ENOTTY &&
        errno != ENXIO)
      child_fail(report, errno);
  }
  // A source below its target may be some earlier target (stdout and stderr swapped): move those
  // out of the way first. Sources above their target are used before anything replaces them.
  int *source = req->scratch;
  for (int i = 0; i < count; i++) {
    source[i] = req->stdio[i];
    if (source[i] >= 0 && source[i] < i) {
      source[i] = fcntl_raw(source[i], F_DUPFD_CLOEXEC, lowest);
      if (source[i] < 0) child_fail(report, errno);
    }
  }
  for (int i = 0; i < count; i++) {
    int src = source[i];
    bool null_device = false;
    if (src < 0) {
      // not passed on: closed, whatever our descriptor of that number is (libuv leaves it, which
      // passes on one of ours that is not close-on-exec, such as one a parent left to us)
      if (i >= 3) {
        close(i);
        continue;
      }
      src = open("/dev/null", (i == 0 ? O_RDONLY : O_RDWR) | O_CLOEXEC);
      if (src < 0) child_fail(report, errno);
      null_device = true;
    }
    if (src == i) {
      // inherited as it is: it must survive the exec
      int flags = fcntl_raw(i, F_GETFD, 0);
      if (flags < 0 || ((flags & FD_CLOEXEC) && fcntl_raw(i, F_SETFD, flags & ~FD_CLOEXEC) != 0))
        child_fail(report, errno);
    } else if (dup2(src, i) < 0) {
      child_fail(report, errno);
    }
    // as libuv, whose result it does not check either
    if (i <= 2 && !null_device) make_blocking(i);
  }
  // every source is close-on-exec already (pipe2, fs.openSync); this is for any that is not
  for (int i = 0; i < count; i++)
    if (source[i] >= count && source[i] != report) close(source[i]);
  if (req->cwd && chdir(req->cwd) != 0) child_fail(report, errno);
  if (req->set_uid || req->set_gid) {
    // as libuv: drop root's supplementary groups, optimistically (only root may)
    syscall(SYS_setgroups, 0, NULL);
    if (req->set_gid && syscall(SYS_setgid, req->gid) != 0) child_fail(report, errno);
    if (req->set_uid && syscall(SYS_setuid, req->uid) != 0) child_fail(report, errno);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  child_fail(report, exec_search(req->file, req->argv, req->envp, req->path));
}

// ---- N-API glue ------------------------------------------------------------------------------

// a JavaScript string as a new C string; NULL when it is not one or holds a NUL byte (which
// would cut it short), *nul_byte then set
static char *get_string(napi_env env, napi_value value, bool *nul_byte) {
  size_t len;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &len) != napi_ok) return NULL;
  char *s = malloc(len + 1);
  if (!s) return NULL;
  if (napi_get_value_string_utf8(env, value, s, len + 1, &len) != napi_ok) {
    free(s);
    return NULL;
  }
  if (strlen(s) != len) {
    *nul_byte = true;
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
static char **get_strings(napi_env env, napi_value array, bool *nul_byte) {
  bool is_array;
  uint32_t n;
  if (napi_is_array(env, array, &is_array) != napi_ok || !is_array) return NULL;
  if (napi_get_array_length(env, array, &n) != napi_ok) return NULL;
  char **list = calloc((size_t)n + 1, sizeof *list);
  if (!list) return NULL;
  for (uint32_t i = 0; i < n; i++) {
    napi_value item;
    if (napi_get_element(env, array, i, &item) != napi_ok || !(list[i] = get_string(env, item, nul_byte))) {
      free_strings(list);
      return NULL;
    }
  }
  return list;
}

// an id to switch to: a number, or -1 for none
static bool get_id(napi_env env, napi_value value, bool *set, uint32_t *id) {
  int64_t v;
  if (napi_get_value_int64(env, value, &v) != napi_ok || v < -1 || v > (int64_t)UINT32_MAX - 1) return false;
  *set = v >= 0;
  *id = *set ? (uint32_t)v : 0;
  return true;
}

// spawn(file, argv, envp, cwd | null, stdio: number[] (-1: none), group, uid, gid) -> pid
//   group: 0 ours, 1 a new session (setsid), 2 a new process group in our session, 3 that and the
//   terminal's foreground group. uid, gid: -1 to keep ours. Returns once the child executed; throws an Error
//   whose code is the errno name (ENOENT, EACCES, EMFILE...) and whose message is child_process's
//   ("spawn FILE CODE") when it could not be started, the child then already reaped.
napi_value spawn_process(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 8;
  napi_value args[8];
  if (napi_get_cb_info(env, cbinfo, &argc, args, NULL, NULL) != napi_ok || argc < 8) {
    napi_throw_type_error(env, NULL, "spawn(file, argv, envp, cwd, stdio, group, uid, gid)");
    return NULL;
  }
  spawn_request req;
  memset(&req, 0, sizeof req);
  bool nul_byte = false;
  napi_valuetype cwd_type;
  char *file = get_string(env, args[0], &nul_byte);
  char **argv = file ? get_strings(env, args[1], &nul_byte) : NULL;
  char **envp = argv ? get_strings(env, args[2], &nul_byte) : NULL;
  char *cwd = NULL;
  int *stdio = NULL;
  int *scratch = NULL;
  bool ok = envp && napi_typeof(env, args[3], &cwd_type) == napi_ok;
  if (ok && cwd_type == napi_string) ok = (cwd = get_string(env, args[3], &nul_byte)) != NULL;
  uint32_t n = 0;
  bool is_array = false;
  if (ok)
    ok = napi_is_array(env, args[4], &is_array) == napi_ok && is_array &&
         napi_get_array_length(env, args[4], &n) == napi_ok && n <= MAX_STDIO;
  if (ok) {
    stdio = malloc(((size_t)n + 1) * sizeof *stdio);
    scratch = malloc(((size_t)n + 1) * sizeof *scratch);
    ok = stdio && scratch;
  }
  for (uint32_t i = 0; ok && i < n; i++) {
    napi_value item;
    ok = napi_get_element(env, args[4], i, &item) == napi_ok && napi_get_value_int32(env, item, &stdio[i]) == napi_ok;
  }
  int32_t group = 0;
  uint32_t uid = 0, gid = 0;
  if (ok)
    ok = napi_get_value_int32(env, args[5], &group) == napi_ok && group >= GROUP_INHERITED &&
         group <= GROUP_FOREGROUND && get_id(env, args[6], &req.set_uid, &uid) &&
         get_id(env, args[7], &req.set_gid, &gid);
  int report[2] = {-1, -1};
  int err = 0;
  pid_t pid = -1;
  if (!ok) goto done;

  req.file = file;
  req.argv = argv;
  req.envp = envp;
  req.cwd = cwd;
  req.stdio = stdio;
  req.scratch = scratch;
  req.stdio_count = (int)n;
  req.group = group;
  req.uid = (uid_t)uid;
  req.gid = (gid_t)gid;
  for (char **e = envp; *e; e++)
    if (strncmp(*e, "PATH=", 5) == 0) {
      req.path = *e + 5;
      break;
    }

  if (pipe2(report, O_CLOEXEC) != 0) {
    err = errno;
    goto done;
  }
  req.report_fd = report[1];
  // block everything around vfork, as libuv does around fork: no handler of Node's may run in
  // the child, which shares our memory
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, &old);
  req.batch = run_child_first();
  pid = vfork();
  // vfork refused as such (a seccomp policy that knows only clone and fork): fork, as before,
  // slower but the same child (it only ever did what is safe after a fork too)
  if (pid < 0 && (errno == ENOSYS || errno == EPERM)) pid = fork();
  if (pid == 0) child_main(&req);  // never returns
  if (pid < 0) err = errno;        // (after a vfork that worked, errno is the child's: not ours to read)
  if (req.batch) set_policy(SCHED_OTHER);
  sigprocmask(SIG_SETMASK, &old, NULL);
  close(report[1]);
  if (pid > 0) {
    // end-of-file: it executed. An errno: it failed before or at exec and exits 127 at once.
    int child_err = 0;
    ssize_t r;
    do r = read(report[0], &child_err, sizeof child_err);
    while (r < 0 && errno == EINTR);
    if (r == (ssize_t)sizeof child_err) {
      int status;
      pid_t w;
      do w = waitpid(pid, &status, 0);
      while (w < 0 && errno == EINTR);
      err = child_err ? child_err : EIO;
    }
  }
  close(report[0]);

done:
  if (!ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending && nul_byte) {
      char message[160];
      snprintf(message, sizeof message, "spawn %.100s: an argument or variable holds a NUL byte", file ? file : "");
      napi_throw_error(env, "ERR_INVALID_ARG_VALUE", message);
    } else if (!pending) {
      napi_throw_type_error(env, NULL, "spawn: bad arguments");
    }
  } else if (err) {
    throw_spawn_error(env, file, err);
  }
  free(file);
  free_strings(argv);
  free_strings(envp);
  free(cwd);
  free(stdio);
  free(scratch);
  if (!ok || err) return NULL;
  napi_value result;
  if (napi_create_int32(env, pid, &result) != napi_ok) return NULL;
  return result;
}
