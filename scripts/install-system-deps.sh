#!/usr/bin/env bash
# Debian packages the test suite needs beside Node and npm (root; a no-op when all are present).
#   promtool/prometheus: metric-format and alert-rule tests, the end-to-end scrape test
#   tini: the reaper benchmark's baseline
#   chromium: the status page's browser test (driven by playwright-core at /usr/bin/chromium)
#   The four prebuilt addons of the npm package (scripts/build-prebuilds.sh, test/packaging):
#   musl-dev: x86_64-linux-musl-gcc, for the linux-x64 musl prebuild
#   gcc-aarch64-linux-gnu, libc6-dev-arm64-cross: aarch64-linux-gnu-gcc, for the linux-arm64 glibc one
#   musl-dev:arm64: aarch64-linux-musl-gcc, for the linux-arm64 musl one (needs dpkg's arm64
#     architecture, added below when a package asks for it)
#   qemu-user-static, libstdc++6-arm64-cross: run an arm64 Node (from npm) that loads the arm64 glibc
#     prebuild; libstdc++6-arm64-cross is that Node's C++ runtime
#   file: the prebuilds' targets are checked with file and readelf (binutils, there with gcc)
#   nginx: the chaos test of a real server logging to /dev/stdout under the supervisor
#     (test/chaos/dev-stdout) and the signal test (HUP reloads it); its service is kept from
#     starting on install (policy-rc.d), so nothing listens on port 80 afterwards
# With arguments it installs those packages instead (container-test-setup.sh uses it so).
set -euo pipefail
packages=("$@")
((${#packages[@]})) || packages=(prometheus tini chromium musl-dev gcc-aarch64-linux-gnu libc6-dev-arm64-cross
  musl-dev:arm64 qemu-user-static libstdc++6-arm64-cross file nginx)
missing=()
foreign=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  if [[ $pkg == *:* ]]; then foreign+=("${pkg#*:}"); fi
done
if ((${#missing[@]})); then
  for arch in "${foreign[@]}"; do
    if [[ $arch != "$(dpkg --print-architecture)" ]] && ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
      echo "adding dpkg architecture $arch"
      dpkg --add-architecture "$arch"
    fi
  done
  echo "installing Debian packages: ${missing[*]}"
  # no package may start a service (nginx would take port 80): the usual container policy
  policy=/usr/sbin/policy-rc.d
  own_policy=false
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && own_policy=true
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if $own_policy; then rm -f "$policy"; fi
fi
