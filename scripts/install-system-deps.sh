#!/usr/bin/env bash
# Debian packages the test suite needs beside Node and npm (root; a no-op when all are present).
#   promtool/prometheus: metric-format and alert-rule tests, the end-to-end scrape test
#   tini: the reaper benchmark's baseline
#   chromium: the status page's browser test (driven by playwright-core at /usr/bin/chromium)
#   nginx: the chaos test of a real server logging to /dev/stdout under the supervisor (test/chaos/dev-stdout)
# With arguments it installs those packages instead (container-test-setup.sh uses it so).
set -euo pipefail
packages=("$@")
((${#packages[@]})) || packages=(prometheus tini chromium nginx)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
