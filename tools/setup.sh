#!/usr/bin/env bash
# Installs what is missing on a Debian 12 machine and prepares the host for tenants.
# Safe to run repeatedly; says what it changes. Needs root for packages and host preparation.
#   tools/setup.sh            packages + host preparation + npm test packages
#   SASHIMONO_SKIP_NPM=1      skip the npm packages (only needed by the test suite)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

packages=(
  build-essential cmake ninja-build pkg-config git
  libboost-all-dev libssl-dev libsodium-dev libfuse3-dev fuse3 rapidjson-dev libsqlite3-dev libspdlog-dev zlib1g-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev clang libclang-rt-14-dev
  containerd runc rootlesskit slirp4netns uidmap busybox-static iproute2 procps psmisc
  e2fsprogs util-linux passwd file b3sum dpkg-dev systemd-container
  prometheus
  nodejs npm
)

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for p in "${packages[@]}"; do
  # nodejs/npm may come from elsewhere (e.g. NodeSource); accept any working node + npm.
  if [ "$p" = nodejs ] && command -v node >/dev/null; then continue; fi
  if [ "$p" = npm ] && command -v npm >/dev/null; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Host preparation for rootless tenants (distribution defaults that minimal images lack).
if [ "$(id -u)" -eq 0 ]; then
  for dev in /dev/fuse /dev/net/tun; do
    if [ -e "$dev" ] && [ "$(stat -c %a "$dev")" != "666" ]; then
      echo "setup: changing $dev mode $(stat -c %a "$dev") -> 666 (rootless tenants need it; distribution default)"
      chmod 666 "$dev"
    fi
  done
  if [ -f /etc/fuse.conf ] && ! grep -qE '^\s*user_allow_other' /etc/fuse.conf; then
    echo "setup: enabling user_allow_other in /etc/fuse.conf (tenant state filesystems are shared into containers)"
    echo "user_allow_other" >> /etc/fuse.conf
  fi
  # Rootless tenants need unprivileged user namespaces (Debian's default; some hosts turn it off).
  if [ -f /proc/sys/kernel/unprivileged_userns_clone ] && [ "$(cat /proc/sys/kernel/unprivileged_userns_clone)" = 0 ]; then
    echo "setup: enabling kernel.unprivileged_userns_clone (rootless tenants need user namespaces)"
    sysctl -q -w kernel.unprivileged_userns_clone=1
  fi
  if [ "$(cat /proc/sys/user/max_user_namespaces 2>/dev/null || echo 1)" = 0 ]; then
    echo "setup: raising user.max_user_namespaces from 0 to 15000 (rootless tenants need user namespaces)"
    sysctl -q -w user.max_user_namespaces=15000
  fi
  # Loop devices for the tenants' disk images.
  if [ ! -e /dev/loop-control ]; then
    echo "setup: loading the loop module (tenant disk limits are loop-mounted images)"
    modprobe loop || echo "setup: WARNING: no /dev/loop-control; tenants cannot be created" >&2
  fi
  # The images tenant containers run from (one shared read-only copy each), rebuilt when their
  # definition (docker/<image>, the build script, the binaries copied in) changed since they were
  # built. hotpocket holds the runtime binary, so it needs a build: tools/test.sh and tools/run.sh
  # build it right after building (tools/build-image.sh --name hotpocket --sashimono
  # build/<flavour>/src/sashimono); here it is only made when missing and a release build exists.
  "$here/tools/build-image.sh" --out /var/lib/sashimono/images --name instance --if-changed
  if [ ! -d /var/lib/sashimono/images/hotpocket/rootfs ]; then
    if [ -x "$here/build/release/src/sashimono" ]; then
      "$here/tools/build-image.sh" --out /var/lib/sashimono/images --name hotpocket \
        --sashimono "$here/build/release/src/sashimono"
    else
      echo "setup: the hotpocket image needs a built sashimono; tools/test.sh and tools/run.sh build it"
    fi
  fi
fi

# npm packages for interop tests, in a git-ignored folder.
if [ "${SASHIMONO_SKIP_NPM:-0}" != 1 ]; then
  if [ ! -d "$here/tests/interop/node_modules/xrpl" ] || [ "$here/tests/interop/package.json" -nt "$here/tests/interop/node_modules/.stamp" ]; then
    echo "setup: installing npm test packages into tests/interop/node_modules"
    (cd "$here/tests/interop" && npm install --no-audit --no-fund --loglevel=error && touch node_modules/.stamp)
  fi
  # The JavaScript sample's own dependency (hotpocket-nodejs-contract), as a developer would install it.
  js="$here/contracts-samples/js-counter"
  if [ ! -d "$js/node_modules/hotpocket-nodejs-contract" ] || [ "$js/package-lock.json" -nt "$js/node_modules/.stamp" ]; then
    echo "setup: installing contracts-samples/js-counter's npm packages"
    (cd "$js" && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.stamp)
  fi
fi
