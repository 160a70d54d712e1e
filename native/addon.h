// Functions of the addon defined outside reaper.c, registered by its init().
#ifndef S7SUPERVISOR_ADDON_H
#define S7SUPERVISOR_ADDON_H
#include <node_api.h>
#include <stdint.h>

napi_value make_pipe(napi_env env, napi_callback_info cbinfo);
napi_value write_some(napi_env env, napi_callback_info cbinfo);
napi_value grow_output_pipe_js(napi_env env, napi_callback_info cbinfo);
napi_value release_grown_pipe_js(napi_env env, napi_callback_info cbinfo);
napi_value grow_destination_pipe_js(napi_env env, napi_callback_info cbinfo);
/** what a component's output pipe grows to once it fills (src/process/output-pipe.ts) */
#define OUTPUT_PIPE_SIZE (256 * 1024)
/** 1 when fd's pipe grew to OUTPUT_PIPE_SIZE (then grown_pipe_closed() once it is closed) */
int grow_output_pipe(int fd);
/** 1 when fd, our stdout or stderr, is a pipe smaller than OUTPUT_PIPE_SIZE that now holds that */
int grow_destination_pipe(int fd);
void grown_pipe_closed(void);
napi_value relay_start(napi_env env, napi_callback_info cbinfo);
napi_value relay_take(napi_env env, napi_callback_info cbinfo);
napi_value relay_stop(napi_env env, napi_callback_info cbinfo);
napi_value relay_follow(napi_env env, napi_callback_info cbinfo);
napi_value claim_output(napi_env env, napi_callback_info cbinfo);
napi_value release_output(napi_env env, napi_callback_info cbinfo);
napi_value spawn_process(napi_env env, napi_callback_info cbinfo);
napi_value foreground_group(napi_env env, napi_callback_info cbinfo);
napi_value process_group(napi_env env, napi_callback_info cbinfo);
napi_value set_foreground_group(napi_env env, napi_callback_info cbinfo);
napi_value ignore_terminal_stops(napi_env env, napi_callback_info cbinfo);
void tune_allocator(void);
napi_value scan_lines(napi_env env, napi_callback_info cbinfo);
napi_value newline_from_end(napi_env env, napi_callback_info cbinfo);
/** the index of the n-th newline of bytes[start, end) from the end, or -(found + 1) (lines.c) */
int64_t nth_newline_from_end(const uint8_t *bytes, size_t start, size_t end, size_t n);
/** a threadsafe function's call_js for a callback that takes no arguments (relay.c) */
void call_without_arguments(napi_env env, napi_value callback, void *context, void *data);
napi_value json_records(napi_env env, napi_callback_info cbinfo);
napi_value trim_memory(napi_env env, napi_callback_info cbinfo);
napi_value send_signal(napi_env env, napi_callback_info cbinfo);
napi_value set_batch_policy(napi_env env, napi_callback_info cbinfo);

/** the two int32 arguments of a call such as sendSignal(pid, signal): 1, or 0 when they are not
 *  there (the caller throws its own TypeError naming the call) */
int get_two_int32(napi_env env, napi_callback_info cbinfo, int32_t *first, int32_t *second);
/** the same for a call of one int32 argument (releaseOutput(fd)...) */
int get_one_int32(napi_env env, napi_callback_info cbinfo, int32_t *value);

/** throws an Error whose code is the errno's name (ENOENT, EMFILE...; EIO for the rare rest, as
 *  JavaScript gets it) and whose message is "WHAT: strerror(err)" */
void throw_errno(napi_env env, const char *what, int err);

#endif
