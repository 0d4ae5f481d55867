#!/usr/bin/env bash
# Configures and builds into build/<flavour>. Usage: tools/build.sh [release|asan|fuzz] [ninja targets...]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
flavour=${1:-release}
shift || true
jobs=${SASHIMONO_JOBS:-$(nproc)}
case "$flavour" in
  release) args=(-DCMAKE_BUILD_TYPE=Release -DSASHIMONO_TESTS=ON) ;;
  asan)    args=(-DCMAKE_BUILD_TYPE=Debug -DSASHIMONO_SANITIZE=ON -DSASHIMONO_BENCH=OFF) ;;  # the suite runs no benchmark
  fuzz)    args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSASHIMONO_FUZZ=ON -DSASHIMONO_SANITIZE=ON
                 -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++) ;;
  *) echo "usage: tools/build.sh [release|asan|fuzz]" >&2; exit 2 ;;
esac
cmake -S "$here" -B "$here/build/$flavour" -G Ninja "${args[@]}" >/dev/null
ninja -C "$here/build/$flavour" -j "$jobs" "$@"
