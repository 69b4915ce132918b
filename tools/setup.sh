#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (as root) for building and testing batching, then configures
# and builds into build/ (Release, with tests). Idempotent: installed packages are skipped.
#
#   tools/setup.sh              install packages, configure, build
#   tools/setup.sh --deps-only  install packages only
#   tools/setup.sh --help
set -euo pipefail

usage() {
  sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
}

deps_only=0
for arg in "$@"; do
  case "$arg" in
    --deps-only) deps_only=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "setup.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

# Every Debian package the build, the tests and the tools need. libdlib-dev's CMake target links
# libjpeg, BLAS and LAPACK by path without depending on their -dev packages, so they are listed.
# clang builds the libFuzzer targets (tests/fuzz); their runtimes (libFuzzer, ASan) are in
# libclang-rt-14-dev, only recommended by clang, so listed. The test scripts use Debian's python3
# (standard library only). The HTTP layer needs OpenSSL (https backends),
# `run`'s journal SQLite; the tests start a real nginx, a real HAProxy (a second real rate
# limiter) and a headless Chromium (the tests run their own instances; the system's services are
# not used).
packages=(
  build-essential cmake ninja-build pkg-config git ccache clang-format python3
  clang libclang-rt-14-dev
  libcaf-dev
  libyaml-cpp-dev
  libdlib-dev libjpeg-dev libblas-dev liblapack-dev libopenblas0-serial
  libboost1.81-dev libboost-json1.81-dev
  librapidcheck-dev libgtest-dev libgmock-dev libbenchmark-dev
  libssl-dev openssl
  libsqlite3-dev
  nginx-light haproxy chromium curl help2man
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup.sh: must run as root to install: ${missing[*]}" >&2
    exit 1
  fi
  echo "setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || { echo "setup.sh: apt-get update failed" >&2; exit 1; }
  if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/batching-apt.log 2>&1; then
    # Retry one by one so the failing package is named.
    for p in "${missing[@]}"; do
      if ! apt-get install -y -qq --no-install-recommends "$p" >>/tmp/batching-apt.log 2>&1; then
        echo "setup.sh: failed to install Debian package '$p' (log: /tmp/batching-apt.log)" >&2
        exit 1
      fi
    done
  fi
else
  echo "setup.sh: all packages already installed"
fi

((deps_only)) && exit 0

root=$(cd "$(dirname "$0")/.." && pwd)
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DBATCHING_BUILD_TESTS=ON "${launcher[@]}"
cmake --build "$root/build" -j "$(nproc)"
