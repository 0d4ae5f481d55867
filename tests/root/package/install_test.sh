#!/usr/bin/env bash
# Root test: the Debian package built from the build under test is installed into this machine
# with apt, checked (files, dependencies, units, directories, host preparation), configured with
# `sashimono host init`, removed (configuration, data and a live tenant stay, the tenant serving)
# and purged (the tenant destroyed, data and configuration gone, the seed kept), then installed
# and purged once more with keep-data asked. The machine is left as it was, even on failure.
# docs/OPERATIONS.md. Usage: install_test.sh BUILD_DIR SOURCE_DIR
source "$(dirname "$0")/lib.sh"
# A run killed before its cleanup left its mark in /etc/sashimono: undo what it installed.
for m in /etc/sashimono/.smtest-pkg-*; do
  [ -e "$m" ] || continue
  alive "${m##*-}" && skip "another package test (${m##*-}) runs"
  echo "removing the leftovers of an earlier run: $m"
  "$bin" tenant destroy pkgtest >/dev/null 2>&1 || true
  rm -f /etc/sashimono/keep-data
  DEBIAN_FRONTEND=noninteractive dpkg --purge sashimono >/dev/null 2>&1 || true
  rm -rf /etc/sashimono /var/lib/sashimono/tenants /var/lib/sashimono/node.sqlite*
done
require_package_host
[ -e /etc/sashimono ] && skip "/etc/sashimono exists (a configured host?); not touching it"
[ -e /var/lib/sashimono/tenants ] || [ -e /var/lib/sashimono/node.sqlite ] &&
  skip "/var/lib/sashimono holds a node's data; not touching it"

for d in /var/tmp/smtest-pkg-*; do  # of earlier runs killed before their cleanup
  [ ! -d "$d" ] || alive "${d##*-}" || rm -rf "$d"
done
tmp=/var/tmp/smtest-pkg-$$
mkdir -p "$tmp"
varlib_mode=$(stat -c %a /var/lib/sashimono 2>/dev/null || true)
had_cgroup_parent=$(ls -d /sys/fs/cgroup/*/sashimono /sys/fs/cgroup/sashimono 2>/dev/null || true)
fuse_conf=$(cat /etc/fuse.conf 2>/dev/null || true)
tenant=pkgtest
images=/var/lib/sashimono/images
with_tenant=0
[ -d "$images/instance/rootfs" ] && [ -e /dev/loop-control ] && with_tenant=1

cleanup() {
  set +e
  if [ -d /var/lib/sashimono/tenants ]; then "$bin" tenant destroy "$tenant" >/dev/null 2>&1; fi
  if dpkg-query -W sashimono >/dev/null 2>&1; then
    rm -f /etc/sashimono/keep-data /etc/sashimono/.smtest-pkg-$$
    DEBIAN_FRONTEND=noninteractive dpkg --purge sashimono >/dev/null 2>&1
  fi
  rm -rf /etc/sashimono /var/lib/sashimono/tenants /var/lib/sashimono/node.sqlite*
  if [ -z "$varlib_mode" ]; then rm -rf /var/lib/sashimono; else chmod "$varlib_mode" /var/lib/sashimono; fi
  [ -n "$had_cgroup_parent" ] || rmdir /sys/fs/cgroup/*/sashimono /sys/fs/cgroup/sashimono 2>/dev/null
  if [ -n "$fuse_conf" ] && [ "$(cat /etc/fuse.conf)" != "$fuse_conf" ]; then printf '%s\n' "$fuse_conf" >/etc/fuse.conf; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

apt_do() {
  DEBIAN_FRONTEND=noninteractive apt-get "$@" -y -q --no-install-recommends -o Dpkg::Use-Pty=0 \
    >>"$tmp/apt.log" 2>&1 || { tail -30 "$tmp/apt.log" >&2; fail "apt-get $*"; }
}

say "packing the build under test"
deb=$(build_deb "$tmp")
say "package: $(basename "$deb")"
info=$(dpkg-deb -I "$deb")
for d in containerd runc rootlesskit slirp4netns uidmap fuse3 e2fsprogs util-linux passwd libsodium libsqlite3 libfuse3; do
  grep -q "Depends:.*$d" <<<"$info" || fail "Depends lacks $d: $(grep Depends <<<"$info")"
done
contents=$(dpkg-deb -c "$deb")
for f in ./usr/bin/sashimono ./usr/lib/systemd/system/sashimono.service ./usr/lib/systemd/system/sashimono-config.path \
  ./usr/lib/tmpfiles.d/sashimono.conf ./usr/lib/udev/rules.d/60-sashimono.rules ./usr/lib/sysctl.d/60-sashimono.conf \
  ./usr/lib/modules-load.d/sashimono.conf ./usr/share/doc/sashimono/OPERATIONS.md; do
  grep -q " $f\$" <<<"$contents" || fail "$f not in the package"
done

say "apt-get install $(basename "$deb")"
apt_do install "$deb"
touch /etc/sashimono/.smtest-pkg-$$
[ -x /usr/bin/sashimono ] || fail "/usr/bin/sashimono missing"
/usr/bin/sashimono host --help >/dev/null 2>&1 || /usr/bin/sashimono --help >/dev/null || fail "the installed binary does not run"
[ -L /etc/systemd/system/multi-user.target.wants/sashimono.service ] || fail "sashimono.service not enabled"
[ -L /etc/systemd/system/paths.target.wants/sashimono-config.path ] || fail "sashimono-config.path not enabled"
[ "$(stat -c %a /var/lib/sashimono)" = 711 ] || fail "/var/lib/sashimono mode $(stat -c %a /var/lib/sashimono), want 711"
[ "$(stat -c %a /etc/sashimono)" = 755 ] || fail "/etc/sashimono mode $(stat -c %a /etc/sashimono)"
[ -d "$images" ] || fail "$images missing"
for dev in /dev/fuse /dev/net/tun; do
  [ ! -e "$dev" ] || [ "$(stat -c %a "$dev")" = 666 ] || fail "$dev mode $(stat -c %a "$dev"), want 666"
done
grep -qE '^[[:space:]]*user_allow_other' /etc/fuse.conf || fail "user_allow_other not in /etc/fuse.conf"
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify /usr/lib/systemd/system/sashimono.service /usr/lib/systemd/system/sashimono-config.path \
    >"$tmp/verify.log" 2>&1 || { cat "$tmp/verify.log"; fail "systemd-analyze verify"; }
  grep -q sashimono "$tmp/verify.log" && { cat "$tmp/verify.log"; fail "systemd-analyze verify warns about our units"; }
fi

say "sashimono host init (the package's defaults: /etc/sashimono/host.json, data in /var/lib/sashimono)"
/usr/bin/sashimono host init --address 127.0.0.1 \
  >"$tmp/init.log" 2>&1 || { cat "$tmp/init.log"; fail "host init"; }
[ -f /etc/sashimono/host.json ] || fail "no /etc/sashimono/host.json"
[ "$(stat -c %a /etc/sashimono/host.seed)" = 600 ] || fail "seed mode $(stat -c %a /etc/sashimono/host.seed)"
grep -q '"dataDir": "/var/lib/sashimono"' /etc/sashimono/host.json || fail "dataDir not /var/lib/sashimono"
# What a node that ran leaves: its store, and (where tenants can run here) a live tenant.
echo store >/var/lib/sashimono/node.sqlite
if [ "$with_tenant" = 1 ]; then
  say "a live tenant ($tenant, image instance), as a node leaves them"
  /usr/bin/sashimono tenant create "$tenant" --image instance >"$tmp/tenant.log" 2>&1 ||
    { cat "$tmp/tenant.log"; fail "tenant create"; }
  port=$(sed -n 's/.*user=\([0-9]*\)\/tcp.*/\1/p' "$tmp/tenant.log")
  timeout=50 wait_for curl -sf -m 2 "http://127.0.0.1:$port/" || fail "the tenant does not serve on $port"
fi

say "apt-get remove: configuration, data and tenants stay"
apt_do remove sashimono
[ ! -e /usr/bin/sashimono ] || fail "/usr/bin/sashimono still there after remove"
[ ! -e /usr/lib/systemd/system/sashimono.service ] || fail "unit still there after remove"
[ -f /etc/sashimono/host.json ] && [ -f /etc/sashimono/host.seed ] && [ -f /var/lib/sashimono/node.sqlite ] ||
  fail "remove lost configuration or data"
if [ "$with_tenant" = 1 ]; then
  curl -sf -m 2 "http://127.0.0.1:$port/" >/dev/null || fail "the tenant stopped serving after remove"
  id -u "sashi-$tenant" >/dev/null || fail "remove deleted the tenant's user"
fi

say "apt-get purge: tenants and data destroyed, the seed kept"
apt_do purge sashimono
grep "^sashimono:" "$tmp/apt.log" | tail -3 || true
! dpkg-query -W -f='${Status}' sashimono 2>/dev/null | grep -q "ok installed\|config-files" ||
  fail "sashimono still known to dpkg: $(dpkg-query -W -f='${Status}' sashimono)"
[ ! -e /etc/sashimono/host.json ] || fail "purge kept host.json"
[ -f /etc/sashimono/host.seed ] || fail "purge removed the host's seed"
[ ! -e /var/lib/sashimono/node.sqlite ] || fail "purge kept node.sqlite"
[ ! -e /var/lib/sashimono/tenants ] || fail "purge kept the tenants' directory"
[ -d "$images" ] || fail "purge removed the images"
if [ "$with_tenant" = 1 ]; then
  ! id -u "sashi-$tenant" >/dev/null 2>&1 || fail "purge left the tenant's user"
  ! id -u "sashi-${tenant}_c" >/dev/null 2>&1 || fail "purge left the tenant's contract user"
  ! grep -q "/var/lib/sashimono/tenants" /proc/self/mountinfo ||
    fail "purge left mounts: $(grep /var/lib/sashimono/tenants /proc/self/mountinfo)"
  ! grep -qs /var/lib/sashimono/tenants /sys/block/loop*/loop/backing_file || fail "purge left a loop device"
  ! ls -d /sys/fs/cgroup/*/sashimono/"$tenant" /sys/fs/cgroup/sashimono/"$tenant" 2>/dev/null | grep -q . ||
    fail "purge left cgroups"
  [ -n "$had_cgroup_parent" ] || ! ls -d /sys/fs/cgroup/*/sashimono 2>/dev/null | grep -q . ||
    fail "purge left the tenants' parent cgroups"
  ! curl -sf -m 2 "http://127.0.0.1:$port/" >/dev/null 2>&1 || fail "the tenant still serves after purge"
fi
ls /etc/systemd/system/*/sashimono* /etc/systemd/system/sashimono* 2>/dev/null && fail "purge left unit links"
ls /var/lib/systemd/deb-systemd-helper-enabled/ 2>/dev/null | grep -q sashimono && fail "purge left deb-systemd-helper state"

say "install again, purge with /etc/sashimono/keep-data: everything kept"
apt_do install "$deb"
touch /etc/sashimono/keep-data
echo store >/var/lib/sashimono/node.sqlite
echo '{}' >/etc/sashimono/host.json
apt_do purge sashimono
[ -f /var/lib/sashimono/node.sqlite ] && [ -f /etc/sashimono/host.json ] || fail "purge with keep-data removed data"
say "ok"
