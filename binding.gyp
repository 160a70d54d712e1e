{
  "targets": [
    {
      "target_name": "s7supervisor_native",
      "sources": ["native/reaper.c", "native/pipes.c", "native/relay.c", "native/terminal.c", "native/spawn.c", "native/signal.c", "native/lines.c", "native/memory.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-Wall", "-Wextra", "-O2"],
      "conditions": [
        ["target_arch=='arm64'", {
          "cflags": ["-mno-outline-atomics"]
        }]
      ]
    }
  ]
}
