#!/usr/bin/env bash
# Root test: the package as a systemd service, on a systemd the test boots (tests/root/package/
# nspawn.sh; PID 1 of this machine is not systemd). In the machine: `apt-get install` the package
# built from the build under test → the unit is enabled; `sashimono host init` → the service runs;
# on a devnet board a developer leases an instance (a real tenant: user, rootless containerd,
# statefs, the `instance` image's httpd) and a user connects to it. Then `systemctl stop`, `start`,
# `restart`, `kill -9` of the node's main PID and a reinstall (the upgrade path): the instance
# serves the whole time (a poller with fresh connections every 0.2 s never fails, and one HTTP
# request started before the first stop is answered on the same connection after the last
# restart), the tenant's daemons are the same processes at the end, and every start of the node
# adopts the tenant (`1 kept`).
# Usage: service_test.sh BUILD_DIR SOURCE_DIR
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/nspawn.sh"
require_package_host
ns_require
ns_reap_stale
command -v curl >/dev/null || skip "needs curl"
images=/var/lib/sashimono/images
tmp=$ns_data.pkg  # the package; removed by ns_cleanup (also of a killed run)
mkdir -p "$tmp"
trap ns_cleanup EXIT

say "packing the build under test"
deb=$(build_deb "$tmp")
rm -rf "$tmp/_CPack_Packages"
# The plain test image the tenant runs (busybox httpd): this machine's, or built for the test.
mkdir -p "$ns_data/images"
if [ -d $images/instance/rootfs ]; then
  cp -a $images/instance "$ns_data/images/"
else
  "$src/tools/build-image.sh" --out "$ns_data/images" --name instance >"$tmp/image.log" 2>&1 ||
    { tail "$tmp/image.log"; skip "cannot build the instance image"; }
fi

say "booting systemd in a container"
ns_boot "$tmp"
say "apt-get install $(basename "$deb") in the machine"
ns env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends /pkg/"$(basename "$deb")" \
  >"$tmp/apt.log" 2>&1 || { tail -30 "$tmp/apt.log"; fail "apt-get install"; }
[ "$(ns systemctl is-enabled sashimono.service)" = enabled ] || fail "sashimono.service is not enabled"
[ "$(ns systemctl is-active sashimono-config.path)" = active ] || fail "sashimono-config.path is not active"
[ "$(ns systemctl is-active sashimono.service || true)" = inactive ] || fail "the node runs before it is configured"

node_active() { [ "$(ns systemctl is-active sashimono.service)" = active ]; }
main_pid_is_not() { [ "$(ns systemctl show -p MainPID --value sashimono.service)" != "$1" ]; }
say "devnet board, accounts"
ns mkdir -m 0700 /root/t
gen() { ns sh -c "umask 077; sashimono keys generate --seed-only > /root/t/$1.seed"; }
addr() { ns sashimono keys show --seed-file /root/t/$1.seed | awk '/^address:/ {print $2}'; }
for s in genesis registry developer; do gen $s; done
ns systemd-run --quiet --unit=smdevnet sashimono devnet --listen 127.0.0.1:6006 --data /root/t/devnet \
  --genesis-seed-file /root/t/genesis.seed --ledger-interval-ms 300
timeout=100 wait_for ns bash -c 'exec 3<>/dev/tcp/127.0.0.1/6006' || fail "the devnet does not listen"
registry=$(addr registry)
developer=$(addr developer)

say "sashimono host init: the service starts"
ns sashimono host init --config /etc/sashimono/host.json --data /var/lib/sashimono --address 127.0.0.1 \
  --board ws://127.0.0.1:6006 --registry "$registry" >"$tmp/init.log" 2>&1 || { cat "$tmp/init.log"; fail "host init"; }
timeout=100 wait_for node_active ||
  fail "the service did not start after host init: $(ns systemctl status sashimono --no-pager 2>&1 | tail -5)"
host=$(ns sashimono keys show --seed-file /etc/sashimono/host.seed | awk '/^address:/ {print $2}')
# A small host: small instances, 5-minute moments.
ns sed -i -e 's/"diskMiB": 2048/"diskMiB": 128/' -e 's/"memoryMiB": 512/"memoryMiB": 256/' \
  -e 's/"momentSeconds": 3600/"momentSeconds": 300/' \
  /etc/sashimono/host.json
ns systemctl restart sashimono.service
for a in "$registry" "$host" "$developer"; do
  ns env SASHIMONO_SEED="$(ns cat /root/t/genesis.seed)" sashimono pay --board ws://127.0.0.1:6006 --to "$a" \
    --drops 100000000 >/dev/null || fail "funding $a"
done

announced() { ns sashimono hosts --board ws://127.0.0.1:6006 --registry "$registry" 2>/dev/null | grep -q "$host"; }
timeout=300 wait_for announced || fail "the node did not announce itself"
say "a developer leases an instance"
reply=$(ns sashimono lease acquire --board ws://127.0.0.1:6006 --registry "$registry" --host "$host" \
  --wallet /root/t/developer.seed --image instance --moments 2 --json --timeout 90) ||
  { ns journalctl -u sashimono --no-pager | tail -20; fail "lease acquire: $reply"; }
port=$(grep -o '"user_port":[0-9]*' <<<"$reply" | cut -d: -f2)
[ -n "$port" ] || fail "no user port in $reply"
ns curl -sf -m 2 "http://127.0.0.1:$port/" >/dev/null || fail "the instance does not serve on $port"
daemons() { ns sh -c 'pgrep -d, -x rootlesskit; pgrep -d, -x containerd; pgrep -d, -f "statefs [m]ount"' | tr '\n' ' '; }
before=$(daemons)
[ "$(wc -w <<<"$before")" = 3 ] || fail "tenant daemons not found: '$before'"

say "a user connects (port $port) and stays; a poller checks every 0.2 s"
cat >"$tmp/user.sh" <<EOS
exec 3<>/dev/tcp/127.0.0.1/$port
printf 'GET / HTTP/1.0\r\n' >&3
while [ ! -e /root/t/done ]; do printf 'X-Still-Here: 1\r\n' >&3; sleep 1; done
printf '\r\n' >&3
cat <&3 >/root/t/user.out
EOS
cat >"$tmp/poll.sh" <<EOS
while [ ! -e /root/t/done ]; do
  if curl -sf -m 1 http://127.0.0.1:$port/ >/dev/null; then echo ok; else echo "FAIL \$(date +%T.%N)"; fi
  sleep 0.2
done >/root/t/poll.log
EOS
ns systemd-run --quiet --unit=smuser bash -c "$(cat "$tmp/user.sh")"
ns systemd-run --quiet --unit=smpoll bash -c "$(cat "$tmp/poll.sh")"
sleep 1

kept() { ns journalctl -u sashimono --no-pager -o cat | grep -c "tenants: 1 kept, 0 restarted, 0 removed" || true; }
adopted() { [ "$(kept)" -ge "$1" ]; }  # n start-ups found the tenant running and kept it
starts=$(kept)
expect_running() {
  starts=$((starts + 1))
  timeout=150 wait_for node_active || fail "the node is not running after $1"
  timeout=150 wait_for adopted "$starts" || { ns journalctl -u sashimono --no-pager -o cat | tail -20; fail "no adoption after $1"; }
  [ "$(daemons)" = "$before" ] || fail "tenant daemons changed after $1: '$before' -> '$(daemons)'"
  say "  $1: node running again, tenant adopted, its daemons unchanged"
}

say "systemctl stop"
ns systemctl stop sashimono.service
[ "$(ns systemctl is-active sashimono.service || true)" = inactive ] || fail "not stopped"
ns pgrep -x sashimono -a | grep -q "host run" && fail "a node process survived stop"
sleep 2
[ "$(daemons)" = "$before" ] || fail "tenant daemons changed after stop"
ns curl -sf -m 2 "http://127.0.0.1:$port/" >/dev/null || fail "the instance stopped serving with the node"
say "  stopped: the instance serves without its node"
say "systemctl start"
ns systemctl start sashimono.service
expect_running start
say "systemctl restart"
ns systemctl restart sashimono.service
expect_running restart
say "kill -9 of the main PID (systemd restarts it: Restart=on-failure)"
main=$(ns systemctl show -p MainPID --value sashimono.service)
ns kill -9 "$main"
timeout=100 wait_for main_pid_is_not "$main" || true
expect_running "kill -9"
say "apt-get install --reinstall (the upgrade path: postinst restarts a configured node)"
ns env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --reinstall /pkg/"$(basename "$deb")" >>"$tmp/apt.log" 2>&1 ||
  { tail -30 "$tmp/apt.log"; fail "apt-get install --reinstall"; }
expect_running reinstall

ns touch /root/t/done
timeout=50 wait_for ns test -s /root/t/user.out || fail "the connected user got no answer"
ns grep -q "200 OK" /root/t/user.out || fail "the connected user's answer: $(ns head -3 /root/t/user.out)"
fails=$(ns grep -c FAIL /root/t/poll.log || true)
polls=$(ns wc -l /root/t/poll.log | awk '{print $1}')
[ "$fails" = 0 ] || fail "the instance did not answer $fails of $polls polls: $(ns grep FAIL /root/t/poll.log | head -3)"
leftover=$(ns journalctl -u sashimono --no-pager -o cat | grep -c "left-over process" || true)
say "systemd noted $leftover left-over process(es) (the tenant's, KillMode=process) at the node's starts"
say "ok: $polls polls, none failed; the user's request started before the first stop was answered after the last restart"
