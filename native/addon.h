// Functions of the addon defined outside reaper.c, registered by its init().
#ifndef S7SUPERVISOR_ADDON_H
#define S7SUPERVISOR_ADDON_H
#include <node_api.h>
#include <stdint.h>

napi_value make_pipe(napi_env env, napi_callback_info cbinfo);
napi_value write_some(napi_env env, napi_callback_info cbinfo);
napi_value set_pipe_size(napi_env env, napi_callback_info cbinfo);
napi_value spawn_process(napi_env env, napi_callback_info cbinfo);
napi_value foreground_group(napi_env env, napi_callback_info cbinfo);
napi_value process_group(napi_env env, napi_callback_info cbinfo);
napi_value set_foreground_group(napi_env env, napi_callback_info cbinfo);
napi_value ignore_terminal_stops(napi_env env, napi_callback_info cbinfo);
void tune_allocator(void);
napi_value scan_lines(napi_env env, napi_callback_info cbinfo);
napi_value newline_from_end(napi_env env, napi_callback_info cbinfo);
napi_value json_records(napi_env env, napi_callback_info cbinfo);
napi_value trim_memory(napi_env env, napi_callback_info cbinfo);
napi_value send_signal(napi_env env, napi_callback_info cbinfo);
napi_value set_batch_policy(napi_env env, napi_callback_info cbinfo);

/** the two int32 arguments of a call such as sendSignal(pid, signal): 1, or 0 when they are not
 *  there (the caller throws its own TypeError naming the call) */
int get_two_int32(napi_env env, napi_callback_info cbinfo, int32_t *first, int32_t *second);

/** throws an Error whose code is the errno's name (ENOENT, EMFILE...; EIO for the rare rest, as
 *  JavaScript gets it) and whose message is "WHAT: strerror(err)" */
void throw_errno(napi_env env, const char *what, int err);

#endif
