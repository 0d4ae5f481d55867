#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine: installs what is missing, builds with
# ASan+UBSan, runs unit, integration, interop and (as root) root tests, then the fuzz targets briefly.
#   SASHIMONO_FUZZ_SECONDS=N   seconds per fuzz target (default 20)
#   CTEST_ARGS="-L unit"       extra ctest arguments
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/tools/setup.sh"
"$here/tools/build.sh" asan
[ "$(id -u)" -ne 0 ] || "$here/tools/build-image.sh" --name hotpocket --sashimono "$here/build/asan/src/sashimono" --if-changed
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
ctest --test-dir "$here/build/asan" --output-on-failure -j2 --timeout 600 ${CTEST_ARGS:-} || status=1
# The fuzz build (clang) compiles only the fuzz targets and the modules they link.
fuzz_targets=()
for f in "$here"/tests/fuzz/*.cpp; do fuzz_targets+=("fuzz_$(basename "$f" .cpp)"); done
"$here/tools/build.sh" fuzz "${fuzz_targets[@]}"
cmake -S "$here" -B "$here/build/fuzz" -DSASHIMONO_FUZZ_SECONDS="${SASHIMONO_FUZZ_SECONDS:-20}" >/dev/null
ctest --test-dir "$here/build/fuzz" --output-on-failure -j2 -L fuzz || status=1
if [ $status -ne 0 ]; then echo "test: FAILED" >&2; else echo "test: all passed"; fi
exit $status
