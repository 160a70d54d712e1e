#!/usr/bin/env bash
# Debian packages `npm run bench` measures beside s7supervisor (root; a no-op when all are present).
#   tini: the reaper and idle baselines
#   s6, runit, supervisor (supervisord): the idle, start-up and respawn baselines
#   linux-perf: counts the supervisors' wake-ups (epoll_wait/select calls) where perf works
#   gcc: the benchmark component (bench/fixtures/lifetime.c)
# Package scripts must not start a supervisord service on this machine: a policy-rc.d that forbids
# every service start is put in place for the install (and removed after, if it was ours).
set -euo pipefail
packages=(tini s6 runit supervisor linux-perf gcc)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
((${#missing[@]})) || exit 0
if [[ $(id -u) != 0 ]]; then
  echo "install-bench-deps: missing ${missing[*]} and not root: the benchmark skips what it cannot find" >&2
  exit 0
fi
policy=/usr/sbin/policy-rc.d
ours=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod +x "$policy"
  ours=1
fi
trap '((ours)) && rm -f "$policy"' EXIT
echo "installing Debian packages for the benchmark: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
