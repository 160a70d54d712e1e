// Functions of the addon defined outside reaper.c, registered by its init().
#ifndef S7SUPERVISOR_ADDON_H
#define S7SUPERVISOR_ADDON_H
#include <node_api.h>

napi_value make_pipe(napi_env env, napi_callback_info cbinfo);
napi_value spawn_in_foreground(napi_env env, napi_callback_info cbinfo);
napi_value foreground_group(napi_env env, napi_callback_info cbinfo);
napi_value process_group(napi_env env, napi_callback_info cbinfo);
napi_value set_foreground_group(napi_env env, napi_callback_info cbinfo);
napi_value ignore_terminal_stops(napi_env env, napi_callback_info cbinfo);
void tune_allocator(void);
napi_value scan_lines(napi_env env, napi_callback_info cbinfo);
napi_value json_records(napi_env env, napi_callback_info cbinfo);
napi_value trim_memory(napi_env env, napi_callback_info cbinfo);

#endif
