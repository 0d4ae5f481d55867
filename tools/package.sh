#!/usr/bin/env bash
# Builds the production Debian package: a Release build of `sashimono`, packed by CPack into
# build/release/sashimono_<version>_amd64.deb (docs/OPERATIONS.md, "Install and run as a service").
#   tools/package.sh [OUTDIR]      OUTDIR defaults to build/release
# Needs dpkg-dev (dpkg-shlibdeps computes the library dependencies); tools/setup.sh installs the rest.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/build/release}
command -v dpkg-shlibdeps >/dev/null || { echo "package: needs dpkg-shlibdeps (apt-get install dpkg-dev)" >&2; exit 1; }
"$here/tools/build.sh" release sashimono
mkdir -p "$out"
(cd "$out" && cpack -G DEB --config "$here/build/release/CPackConfig.cmake" -B "$out" >/dev/null)
rm -rf "$out/_CPack_Packages"
deb=$(ls -t "$out"/sashimono_*_amd64.deb | head -1)
echo "package: $deb"
dpkg-deb -f "$deb" Package Version Architecture Depends
