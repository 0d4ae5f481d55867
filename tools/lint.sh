#!/usr/bin/env bash
# Static checks: clang-format (also run by ctest as style.clang_format) and clang-tidy with the
# repository's .clang-tidy over src/. clang-tidy is slow (Boost.Beast headers), so it is not part
# of the test suite; run it before a change that touches many files.
#   tools/lint.sh [path-regex]     e.g. tools/lint.sh src/ledger/
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
git ls-files '*.cpp' '*.h' | xargs clang-format --dry-run --Werror
[ -f build/release/compile_commands.json ] || tools/build.sh release
# The compile database is GCC's; clang-tidy must ignore GCC-only warning flags.
run-clang-tidy -p build/release -quiet -j "$(nproc)" -extra-arg=-Wno-unknown-warning-option "$here/${1:-src/}"
