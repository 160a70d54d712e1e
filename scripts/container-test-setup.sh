#!/usr/bin/env bash
# Prepares a Debian machine for the container end-to-end test (root; idempotent, a no-op when ready):
#   1. installs podman, runc, docker-compose, debootstrap and podman's CNI dnsname plugin (without
#      it, Compose service names such as `supervisor` do not resolve between podman containers);
#   2. builds the local base image node:24-bookworm-slim with ../shared/container/make-node-base-image.sh
#      when it is missing (no container registry is reachable here, so nothing can be pulled);
#   3. starts podman's Docker-compatible API on a Unix socket if nothing answers there, for
#      docker-compose and the docker CLI.
#
#   usage: scripts/container-test-setup.sh          set up; prints the DOCKER_HOST to use
#          scripts/container-test-setup.sh --no-api steps 1 and 2 only (tests that use podman alone)
#          scripts/container-test-setup.sh --stop   stop the API service this script started
#
# Concurrent runs (two container test files of one `npm test`) wait for each other, so the base
# image is built once.
#
# Environment: NODE_MAJOR (24), PODMAN_SOCKET (/run/podman/podman.sock),
# NODE_BASE_IMAGE_SCRIPT (the base-image script; default ../shared/container/ beside the repository).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
major=${NODE_MAJOR:-24}
socket=${PODMAN_SOCKET:-/run/podman/podman.sock}
pidfile=$(dirname "$socket")/s7supervisor-test-service.pid
base_script=${NODE_BASE_IMAGE_SCRIPT:-$repo/../shared/container/make-node-base-image.sh}
cache=${NODE_BASE_CACHE:-/var/cache/node-base-image}

if [[ ${1:-} == --stop ]]; then
  if [[ -f $pidfile ]]; then
    pid=$(cat "$pidfile")
    # only the service this script started, and only if that pid is still that service
    if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'podman system service'; then
      kill "$pid"
      for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
      done
    fi
    rm -f "$pidfile"
  fi
  exit 0
fi

if [[ $(id -u) != 0 ]]; then
  echo "container-test-setup: needs root (apt-get, podman's rootful socket)" >&2
  exit 1
fi

exec 9>/run/s7supervisor-container-test-setup.lock
flock 9

# 1. packages
bash "$repo/scripts/install-system-deps.sh" podman runc docker-compose debootstrap \
  golang-github-containernetworking-plugin-dnsname curl

# 2. the base image
tag=docker.io/library/node:${major}-bookworm-slim
if ! podman image exists "$tag"; then
  if [[ ! -f $base_script ]]; then
    echo "container-test-setup: $tag is missing and the script that builds it is not at $base_script" >&2
    echo "  (set NODE_BASE_IMAGE_SCRIPT to make-node-base-image.sh)" >&2
    exit 1
  fi
  # The base-image script debootstraps from the first .../debian URL in apt's sources, which can be
  # a comment (a snapshot.debian.org URL this machine cannot reach), and it fails outright when
  # /etc/apt/sources.list does not exist. It skips that step when its rootfs cache is there, so
  # bootstrap that cache here from a mirror apt really uses (URIs:/deb lines, never comments).
  rootfs=$cache/rootfs-bookworm
  if [[ ! -x $rootfs/bin/sh ]]; then
    mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null |
      grep -E '^[[:space:]]*(URIs:|deb )' | grep -oE 'https?://[^ ]+/debian/?' | grep -v security | head -n 1 || true)
    mirror=${mirror:-http://deb.debian.org/debian}
    echo "bootstrapping Debian bookworm from $mirror into $rootfs"
    mkdir -p "$cache"
    rm -rf "$rootfs.tmp"
    debootstrap --variant=minbase bookworm "$rootfs.tmp" "$mirror" >/dev/null
    mv "$rootfs.tmp" "$rootfs"
  fi
  bash "$base_script" "$major"
fi

[[ ${1:-} == --no-api ]] && exit 0

# 3. podman's Docker-compatible API
answers() { curl -sf --max-time 2 --unix-socket "$socket" http://d/_ping >/dev/null 2>&1; }
if ! answers; then
  mkdir -p "$(dirname "$socket")"
  rm -f "$socket"
  # 9>&-: the service must not hold the setup lock for as long as it runs
  setsid podman system service --time=0 "unix://$socket" >"$(dirname "$socket")/s7supervisor-test-service.log" 2>&1 9>&- &
  echo $! >"$pidfile"
  for _ in $(seq 150); do
    answers && break
    sleep 0.2
  done
  answers || { echo "container-test-setup: podman system service did not answer on $socket" >&2; exit 1; }
  echo "started podman system service (pid $(cat "$pidfile"))"
fi
DOCKER_HOST=unix://$socket docker-compose version --short >/dev/null
echo "DOCKER_HOST=unix://$socket"
