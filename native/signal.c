// Signals to process groups, and the scheduling policy of a helper process: plain system calls,
// here because Node's own answers cost more than the call. process.kill() reports a group that is
// gone (ESRCH, after every exit of a component: the group is checked for leftovers) by throwing,
// and an Error with its stack trace is ~50 us of the way from an exit to the restart.
#define _GNU_SOURCE
#include <node_api.h>

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include "addon.h"

// sendSignal(pid, signal) -> 0, or the errno (ESRCH: no such process or group)
napi_value send_signal(napi_env env, napi_callback_info cbinfo) {
  int32_t pid, sig;
  if (!get_two_int32(env, cbinfo, &pid, &sig)) {
    napi_throw_type_error(env, NULL, "sendSignal(pid, signal)");
    return NULL;
  }
  int err = kill(pid, sig) == 0 ? 0 : errno;
  napi_value result;
  if (napi_create_int32(env, err, &result) != napi_ok) return NULL;
  return result;
}

// setBatchPolicy(pid) -> true when process `pid` (its main thread) is SCHED_BATCH now: it keeps
// its fair share of the CPU, but waking up it does not preempt the task that runs. By the raw
// system call: musl's sched_setscheduler() always fails (ENOSYS).
napi_value set_batch_policy(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 1;
  napi_value arg;
  int32_t pid;
  if (napi_get_cb_info(env, cbinfo, &argc, &arg, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, arg, &pid) != napi_ok) {
    napi_throw_type_error(env, NULL, "setBatchPolicy(pid)");
    return NULL;
  }
  struct sched_param none;
  memset(&none, 0, sizeof none);
  napi_value result;
  if (napi_get_boolean(env, syscall(SYS_sched_setscheduler, pid, SCHED_BATCH, &none) == 0, &result) != napi_ok)
    return NULL;
  return result;
}
