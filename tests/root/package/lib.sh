# Shared by the package tests (sourced). Exit code 77 = skipped (ctest SKIP_RETURN_CODE).
# Usage of every test: <test>.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
bin="$build/src/sashimono"

say() { echo "[$(date +%T)] $*"; }
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }

# Skips unless this machine can take the package in and out again without harm.
require_package_host() {
  [ "$(id -u)" -eq 0 ] || skip "needs root"
  for t in cpack dpkg dpkg-deb apt-get dpkg-shlibdeps; do
    command -v "$t" >/dev/null || skip "needs $t"
  done
  [ -x "$bin" ] || skip "no built $bin"
  [ -f "$build/CPackConfig.cmake" ] || skip "no CPackConfig.cmake in $build (configured before packaging existed?)"
  if dpkg-query -W -f='${Status}' sashimono 2>/dev/null | grep -q "installed"; then
    skip "a sashimono package is installed on this machine; not touching it"
  fi
}

# build_deb DIR: packs the build under test into DIR and prints the .deb's path.
build_deb() {
  local out=$1
  (cd "$out" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$out" >"$out/cpack.log" 2>&1) ||
    { cat "$out/cpack.log" >&2; fail "cpack failed"; }
  local deb
  deb=$(ls "$out"/sashimono_*_amd64.deb 2>/dev/null | head -1)
  [ -n "$deb" ] || { cat "$out/cpack.log" >&2; fail "no sashimono_*_amd64.deb in $out"; }
  chmod 0644 "$deb"
  chmod 0755 "$out"
  echo "$deb"
}

# Waits until "$@" succeeds (up to $timeout tenths of a second, default 100).
wait_for() {
  local n=${timeout:-100}
  for _ in $(seq 1 "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}

# alive PID: the process runs (a zombie, killed but not yet reaped, does not).
alive() { [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
