// s7supervisor's native addon: what Node cannot do from JavaScript. Become a child subreaper,
// make real pipes for child output (pipes.c), start children without forking Node, also tini
// mode's child on the terminal (spawn.c, terminal.c), signal process groups without an exception
// for one that is gone (signal.c), and reap orphans without ever touching a
// child that libuv waits for (libuv calls waitpid(pid) per child it spawned; a waitpid(-1) here
// would steal those exits). Mechanism only: when to reap, what to log and count is decided in
// TypeScript (src/process/reaper.ts).
#define _GNU_SOURCE
#include <node_api.h>

#include "addon.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#ifndef __WALL
#define __WALL 0
#endif

// Upper bound of reaps in one call, so a process that keeps making orphans cannot hold the event
// loop; the caller is told (complete = false) and calls again on the next turn.
#define MAX_REAPS_PER_CALL 8192
// Upper bound of enumeration passes in one call, for the same reason.
#define MAX_PASSES 8

enum method { METHOD_WAITID = 0, METHOD_CHILDREN = 1, METHOD_STAT_SCAN = 2, METHOD_NONE = 3 };
static const char *const method_names[] = {"waitid", "children", "stat-scan", "none"};

typedef struct {
  pid_t *v;
  size_t n, cap;
} pid_list;

typedef struct {
  int32_t *v;  // triples: pid, exit code (-1 when signaled), signal number (0 when exited)
  size_t n, cap;
} reaped_list;

static int pid_push(pid_list *l, pid_t pid) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 256;
    pid_t *v = realloc(l->v, cap * sizeof *v);
    if (!v) return ENOMEM;
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = pid;
  return 0;
}

static int reaped_push(reaped_list *l, pid_t pid, int status) {
  if (l->n + 3 > l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 192;
    int32_t *v = realloc(l->v, cap * sizeof *v);
    if (!v) return ENOMEM;
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = pid;
  l->v[l->n++] = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  l->v[l->n++] = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  return 0;
}

static int cmp_pid(const void *a, const void *b) {
  pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
  return (x > y) - (x < y);
}

static int is_owned(const pid_list *owned, pid_t pid) {
  return owned->n && bsearch(&pid, owned->v, owned->n, sizeof(pid_t), cmp_pid) != NULL;
}

// Reads a whole (proc) file; *buf is NUL-terminated. Returns 0 or an errno.
static int read_file(const char *path, char **buf, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  size_t cap = 4096, n = 0;
  char *b = malloc(cap);
  if (!b) {
    close(fd);
    return ENOMEM;
  }
  for (;;) {
    if (cap - n < 2048) {
      char *nb = realloc(b, cap * 2);
      if (!nb) {
        free(b);
        close(fd);
        return ENOMEM;
      }
      b = nb;
      cap *= 2;
    }
    ssize_t r = read(fd, b + n, cap - n - 1);
    if (r < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      free(b);
      close(fd);
      return e;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  close(fd);
  b[n] = '\0';
  *buf = b;
  *len = n;
  return 0;
}

static int is_numeric(const char *s) {
  if (!*s) return 0;
  for (; *s; s++)
    if (*s < '0' || *s > '9') return 0;
  return 1;
}

// A /proc mounted for another PID namespace names processes by pids that are not ours: waiting
// on those would be wrong, so enumeration is only trusted when /proc/self agrees with getpid().
static int proc_is_ours(void) {
  char buf[64];
  int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t r = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (r <= 0) return 0;
  buf[r] = '\0';
  return strtol(buf, NULL, 10) == (long)getpid();
}

// Children of every thread of this process (orphans are reparented to some live thread).
// ENOENT: this kernel has no .../children files (CONFIG_PROC_CHILDREN off).
static int children_from_tasks(pid_list *out) {
  DIR *dir = opendir("/proc/self/task");
  if (!dir) return errno;
  int err = 0;
  struct dirent *entry;
  while (!err && (entry = readdir(dir)) != NULL) {
    if (!is_numeric(entry->d_name)) continue;
    char path[320];
    snprintf(path, sizeof path, "/proc/self/task/%s/children", entry->d_name);
    char *buf = NULL;
    size_t len;
    int e = read_file(path, &buf, &len);
    if (e == ESRCH) continue;  // the thread ended while we looked
    if (e == ENOENT) {
      // Either the thread is gone or the kernel has no such file: tell them apart by the task dir.
      char task[300];
      snprintf(task, sizeof task, "/proc/self/task/%s", entry->d_name);
      if (access(task, F_OK) != 0) continue;
      err = ENOENT;
      break;
    }
    if (e) {
      err = e;
      break;
    }
    char *p = buf;
    for (;;) {
      char *end;
      long pid = strtol(p, &end, 10);
      if (end == p) break;
      if (pid > 0 && (err = pid_push(out, (pid_t)pid))) break;
      p = end;
    }
    free(buf);
  }
  closedir(dir);
  return err;
}

// Fallback: every process in /proc whose parent is this process.
static int children_from_stat_scan(pid_list *out) {
  DIR *dir = opendir("/proc");
  if (!dir) return errno;
  pid_t self = getpid();
  int err = 0;
  struct dirent *entry;
  while (!err && (entry = readdir(dir)) != NULL) {
    if (!is_numeric(entry->d_name)) continue;
    char path[300];
    snprintf(path, sizeof path, "/proc/%s/stat", entry->d_name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;  // gone already
    // "pid (comm) state ppid ...": comm is at most 64 bytes, so the head holds ppid.
    char buf[256];
    ssize_t r = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (r <= 0) continue;
    buf[r] = '\0';
    char *paren = strrchr(buf, ')');
    if (!paren || paren[1] != ' ' || !paren[2] || paren[3] != ' ') continue;
    if (strtol(paren + 4, NULL, 10) == (long)self) err = pid_push(out, (pid_t)atol(entry->d_name));
  }
  closedir(dir);
  return err;
}

static enum method enumerate_children(pid_list *out, int *children_missing) {
  if (!proc_is_ours()) return METHOD_NONE;
  if (!*children_missing) {
    int e = children_from_tasks(out);
    if (!e) return METHOD_CHILDREN;
    out->n = 0;
    if (e == ENOENT) *children_missing = 1;
  }
  if (!children_from_stat_scan(out)) return METHOD_STAT_SCAN;
  return METHOD_NONE;
}

// The kernel's children file support never changes while we run: found out once.
static int children_file_missing = 0;

typedef struct {
  reaped_list reaped;
  enum method method;
  int complete;
} reap_result;

// 1. Fast path: ask the kernel for any zombie child without consuming it (WNOWAIT); reap it by
//    pid when it is not Node's. O(1) per orphan, no /proc.
// 2. When the zombie on offer is one of Node's (libuv will collect it), waitid(P_ALL) cannot see
//    past it: enumerate the children and reap each one that is not Node's, pass after pass,
//    until a pass reaps nothing.
static int reap(const pid_list *owned, reap_result *res) {
  res->method = METHOD_WAITID;
  res->complete = 0;
  for (;;) {
    if (res->reaped.n / 3 >= MAX_REAPS_PER_CALL) return 0;
    siginfo_t info;
    memset(&info, 0, sizeof info);
    if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT | __WALL) != 0) {
      if (errno == EINTR) continue;
      if (errno == ECHILD) {  // no children at all
        res->complete = 1;
        return 0;
      }
      return errno;
    }
    if (info.si_pid == 0) {  // children, none of them a zombie
      res->complete = 1;
      return 0;
    }
    if (is_owned(owned, info.si_pid)) break;
    int status;
    pid_t r;
    do r = waitpid(info.si_pid, &status, WNOHANG | __WALL);
    while (r < 0 && errno == EINTR);
    // The kernel offered it as waitable, so this reaps it; should it not, asking again would
    // offer the same pid forever: enumerate instead.
    if (r <= 0) break;
    int e = reaped_push(&res->reaped, r, status);
    if (e) return e;
  }

  pid_list children = {0};
  for (int pass = 0; pass < MAX_PASSES; pass++) {
    children.n = 0;
    enum method m = enumerate_children(&children, &children_file_missing);
    res->method = m;
    if (m == METHOD_NONE) break;  // nothing trustworthy to enumerate: the caller retries later
    size_t before = res->reaped.n;
    for (size_t i = 0; i < children.n; i++) {
      pid_t pid = children.v[i];
      if (is_owned(owned, pid)) continue;
      int status;
      pid_t r;
      do r = waitpid(pid, &status, WNOHANG | __WALL);
      while (r < 0 && errno == EINTR);
      if (r > 0) {
        int e = reaped_push(&res->reaped, r, status);
        if (e) {
          free(children.v);
          return e;
        }
      }
      // 0: still running; ECHILD: reaped or reparented meanwhile. Neither is ours to act on.
    }
    if (res->reaped.n == before) {
      res->complete = 1;
      break;
    }
    if (res->reaped.n / 3 >= MAX_REAPS_PER_CALL) break;
  }
  free(children.v);
  return 0;
}

// ---- N-API glue ------------------------------------------------------------------------------

#define CHECK(env, call)                                          \
  do {                                                            \
    if ((call) != napi_ok) {                                      \
      const napi_extended_error_info *info_;                      \
      napi_get_last_error_info((env), &info_);                    \
      bool pending_;                                              \
      napi_is_exception_pending((env), &pending_);                \
      if (!pending_)                                              \
        napi_throw_error((env), NULL,                             \
                         info_ && info_->error_message            \
                             ? info_->error_message               \
                             : "s7supervisor native: N-API call failed"); \
      return NULL;                                                \
    }                                                             \
  } while (0)

static napi_value make_bool(napi_env env, bool value) {
  napi_value v;
  CHECK(env, napi_get_boolean(env, value, &v));
  return v;
}

static napi_value set_child_subreaper(napi_env env, napi_callback_info cbinfo) {
  (void)cbinfo;
#ifdef PR_SET_CHILD_SUBREAPER
  return make_bool(env, prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0);
#else
  return make_bool(env, false);
#endif
}

static napi_value is_child_subreaper(napi_env env, napi_callback_info cbinfo) {
  (void)cbinfo;
#ifdef PR_GET_CHILD_SUBREAPER
  int flag = 0;
  return make_bool(env, prctl(PR_GET_CHILD_SUBREAPER, &flag, 0, 0, 0) == 0 && flag != 0);
#else
  return make_bool(env, false);
#endif
}

// owned: Int32Array or an array of numbers.
static int read_owned(napi_env env, napi_value value, pid_list *owned) {
  bool is_typed = false, is_array = false;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok) return -1;
  if (is_typed) {
    napi_typedarray_type type;
    size_t length;
    void *data;
    if (napi_get_typedarray_info(env, value, &type, &length, &data, NULL, NULL) != napi_ok) return -1;
    if (type != napi_int32_array) return -2;
    for (size_t i = 0; i < length; i++)
      if (pid_push(owned, ((const int32_t *)data)[i])) return -1;
  } else {
    if (napi_is_array(env, value, &is_array) != napi_ok) return -1;
    if (!is_array) return -2;
    uint32_t length;
    if (napi_get_array_length(env, value, &length) != napi_ok) return -1;
    for (uint32_t i = 0; i < length; i++) {
      napi_value element;
      int32_t pid;
      if (napi_get_element(env, value, i, &element) != napi_ok) return -1;
      if (napi_get_value_int32(env, element, &pid) != napi_ok) return -2;
      if (pid_push(owned, pid)) return -1;
    }
  }
  if (owned->n) qsort(owned->v, owned->n, sizeof(pid_t), cmp_pid);
  return 0;
}

// reapOrphans(owned) -> { reaped: Int32Array [pid, code, signal, ...], method, complete }
static napi_value reap_orphans(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, cbinfo, &argc, argv, NULL, NULL));
  if (argc < 1) {
    napi_throw_type_error(env, NULL, "reapOrphans(owned): owned pids (Int32Array or number[]) required");
    return NULL;
  }
  pid_list owned = {0};
  int r = read_owned(env, argv[0], &owned);
  if (r != 0) {
    free(owned.v);
    bool pending;
    napi_is_exception_pending(env, &pending);
    if (!pending)
      napi_throw_type_error(env, NULL, "reapOrphans(owned): owned must be an Int32Array or an array of pids");
    return NULL;
  }

  reap_result res = {{0}, METHOD_WAITID, 0};
  int err = reap(&owned, &res);
  free(owned.v);
  if (err) {
    free(res.reaped.v);
    char message[160];
    snprintf(message, sizeof message, "reapOrphans: %s", strerror(err));
    napi_throw_error(env, NULL, message);
    return NULL;
  }

  napi_value result, buffer, array, method, complete;
  void *data;
  size_t bytes = res.reaped.n * sizeof(int32_t);
  if (napi_create_arraybuffer(env, bytes, &data, &buffer) != napi_ok) {
    free(res.reaped.v);
    CHECK(env, napi_generic_failure);
  }
  if (bytes) memcpy(data, res.reaped.v, bytes);
  free(res.reaped.v);
  CHECK(env, napi_create_typedarray(env, napi_int32_array, res.reaped.n, buffer, 0, &array));
  CHECK(env, napi_create_string_utf8(env, method_names[res.method], NAPI_AUTO_LENGTH, &method));
  CHECK(env, napi_get_boolean(env, res.complete != 0, &complete));
  CHECK(env, napi_create_object(env, &result));
  CHECK(env, napi_set_named_property(env, result, "reaped", array));
  CHECK(env, napi_set_named_property(env, result, "method", method));
  CHECK(env, napi_set_named_property(env, result, "complete", complete));
  return result;
}

// forceStatScan(on): enumerate through the /proc/N/stat scan even where the children files
// exist, so that tests cover the fallback too.
static napi_value force_stat_scan(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 1;
  napi_value argv[1];
  bool on = false;
  CHECK(env, napi_get_cb_info(env, cbinfo, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_bool(env, argv[0], &on) != napi_ok) {
    napi_throw_type_error(env, NULL, "forceStatScan(on): a boolean is required");
    return NULL;
  }
  children_file_missing = on;
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  tune_allocator();
  napi_property_descriptor props[] = {
      {"setChildSubreaper", NULL, set_child_subreaper, NULL, NULL, NULL, napi_enumerable, NULL},
      {"isChildSubreaper", NULL, is_child_subreaper, NULL, NULL, NULL, napi_enumerable, NULL},
      {"reapOrphans", NULL, reap_orphans, NULL, NULL, NULL, napi_enumerable, NULL},
      {"forceStatScan", NULL, force_stat_scan, NULL, NULL, NULL, napi_enumerable, NULL},
      {"makePipe", NULL, make_pipe, NULL, NULL, NULL, napi_enumerable, NULL},
      {"writeSome", NULL, write_some, NULL, NULL, NULL, napi_enumerable, NULL},
      {"growOutputPipe", NULL, grow_output_pipe_js, NULL, NULL, NULL, napi_enumerable, NULL},
      {"releaseGrownPipe", NULL, release_grown_pipe_js, NULL, NULL, NULL, napi_enumerable, NULL},
      {"growDestinationPipe", NULL, grow_destination_pipe_js, NULL, NULL, NULL, napi_enumerable, NULL},
      {"relayStart", NULL, relay_start, NULL, NULL, NULL, napi_enumerable, NULL},
      {"relayTake", NULL, relay_take, NULL, NULL, NULL, napi_enumerable, NULL},
      {"relayStop", NULL, relay_stop, NULL, NULL, NULL, napi_enumerable, NULL},
      {"relayFollow", NULL, relay_follow, NULL, NULL, NULL, napi_enumerable, NULL},
      {"claimOutput", NULL, claim_output, NULL, NULL, NULL, napi_enumerable, NULL},
      {"releaseOutput", NULL, release_output, NULL, NULL, NULL, napi_enumerable, NULL},
      {"spawn", NULL, spawn_process, NULL, NULL, NULL, napi_enumerable, NULL},
      {"foregroundGroup", NULL, foreground_group, NULL, NULL, NULL, napi_enumerable, NULL},
      {"processGroup", NULL, process_group, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setForegroundGroup", NULL, set_foreground_group, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ignoreTerminalStops", NULL, ignore_terminal_stops, NULL, NULL, NULL, napi_enumerable, NULL},
      {"scanLines", NULL, scan_lines, NULL, NULL, NULL, napi_enumerable, NULL},
      {"newlineFromEnd", NULL, newline_from_end, NULL, NULL, NULL, napi_enumerable, NULL},
      {"jsonRecords", NULL, json_records, NULL, NULL, NULL, napi_enumerable, NULL},
      {"trimMemory", NULL, trim_memory, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sendSignal", NULL, send_signal, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setBatchPolicy", NULL, set_batch_policy, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
