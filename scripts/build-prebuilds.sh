#!/usr/bin/env bash
# Builds the native addon (binding.gyp: every file in its `sources`) for the four targets the npm
# package ships, with prebuildify, into prebuilds/:
#
#   prebuilds/linux-x64/s7supervisor_native.napi.glibc.node
#   prebuilds/linux-x64/s7supervisor_native.napi.musl.node
#   prebuilds/linux-arm64/s7supervisor_native.napi.glibc.node
#   prebuilds/linux-arm64/s7supervisor_native.napi.musl.node
#   prebuilds/manifest.json       each file's sha256 and the sha256 of the sources it was built from
#                                 (binding.gyp and native/), which scripts/check-prebuilds.mjs checks
#
# node-gyp-build (src/process/native.ts, and the package's `install` script) picks the one that
# matches the machine. Only Node's own headers are needed (an N-API addon has no ABI tie to a Node
# version); they are taken from the running Node's prefix (or $npm_config_nodedir), never
# downloaded. The targets that are not the host are cross-compiled with Debian's toolchains
# (scripts/install-system-deps.sh installs them):
#   glibc: <triple>-linux-gnu-gcc   (gcc for the host; gcc-aarch64-linux-gnu + libc6-dev-arm64-cross)
#   musl:  <triple>-linux-musl-gcc  (musl-dev, musl-dev:arm64: Debian's musl-gcc wrappers)
# and stripped with <triple>-linux-gnu-strip.
#
#   usage: scripts/build-prebuilds.sh [TARGET...]     TARGET: x64-glibc x64-musl arm64-glibc arm64-musl,
#                                                     or host (this machine's arch, glibc and musl);
#                                                     default: all four. Others are left in place.
# Run it before `npm pack` / `npm publish` (the package's `prepack` refuses stale or missing ones).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

targets=()
for arg in "$@"; do
  if [[ $arg == host ]]; then
    host_arch=$(node -p process.arch)
    targets+=("$host_arch-glibc" "$host_arch-musl")
  else
    targets+=("$arg")
  fi
done
((${#targets[@]})) || targets=(x64-glibc x64-musl arm64-glibc arm64-musl)

triple() {
  case $1 in
    x64) echo x86_64 ;;
    arm64) echo aarch64 ;;
    *) echo "build-prebuilds: unknown arch $1" >&2; return 1 ;;
  esac
}

# node-gyp: the one npm runs scripts with, else the one bundled with npm
node_gyp=${npm_config_node_gyp:-}
if [[ -z $node_gyp ]]; then
  npm_dir=$(dirname "$(dirname "$(realpath "$(command -v npm)")")")
  node_gyp=$npm_dir/node_modules/node-gyp/bin/node-gyp.js
fi
[[ -f $node_gyp ]] || { echo "build-prebuilds: node-gyp not found at $node_gyp" >&2; exit 1; }

# Node's headers: from $npm_config_nodedir, else the running Node's prefix (nothing is downloaded)
if [[ -z ${npm_config_nodedir:-} ]]; then
  npm_config_nodedir=$(node -p 'require("path").resolve(process.execPath, "../..")')
fi
export npm_config_nodedir
[[ -f $npm_config_nodedir/include/node/node_api.h ]] || {
  echo "build-prebuilds: no Node headers at $npm_config_nodedir/include/node (set npm_config_nodedir)" >&2
  exit 1
}
node_version=$(node -p process.versions.node)
prebuildify=$repo/node_modules/prebuildify/bin.js
[[ -f $prebuildify ]] || { echo "build-prebuilds: run 'npm ci' first (prebuildify is a devDependency)" >&2; exit 1; }

# Build in a scratch copy, so the repository's own build/ (a developer's source build) is untouched.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp package.json binding.gyp "$work/"
cp -R native "$work/native"

for target in "${targets[@]}"; do
  arch=${target%-*}
  libc=${target#*-}
  t=$(triple "$arch")
  case $libc in
    glibc) cc=$t-linux-gnu-gcc ;;
    musl) cc=$t-linux-musl-gcc ;;
    *) echo "build-prebuilds: unknown libc in $target" >&2; exit 1 ;;
  esac
  strip_bin=$t-linux-gnu-strip
  for tool in "$cc" "$strip_bin"; do
    command -v "$tool" >/dev/null || {
      echo "build-prebuilds: $tool is missing (bash scripts/install-system-deps.sh installs it)" >&2
      exit 1
    }
  done
  echo "build-prebuilds: $target with $cc"
  file=linux-$arch/s7supervisor_native.napi.$libc.node
  rm -rf "$work/out"
  # A C-only addon: CC compiles and links (gyp links with CXX unless LINK is set). node-gyp's
  # chatter goes to a log, shown only when the build fails.
  if ! CC=$cc CXX=$cc LINK=$cc \
    node "$prebuildify" "$work" --out "$work/out" --napi --strip --strip-bin "$strip_bin" \
    --node-gyp "$node_gyp" --target "$node_version" --arch "$arch" --libc "$libc" --tag-libc \
    --name s7supervisor_native.napi --cache "$work/.devdir" >"$work/build.log" 2>&1; then
    cat "$work/build.log" >&2
    echo "build-prebuilds: $target failed" >&2
    exit 1
  fi
  # into place by a rename, so a test loading the old file never finds it half-written
  mkdir -p "prebuilds/linux-$arch"
  cp "$work/out/prebuilds/$file" "prebuilds/$file.tmp$$"
  mv -f "prebuilds/$file.tmp$$" "prebuilds/$file"
done

node scripts/check-prebuilds.mjs --record "${targets[@]}"
echo "build-prebuilds: done"
find prebuilds -type f | sort
