#!/usr/bin/env bash
# The main job on the embedded default: installs what is missing, builds (Release), starts the
# devnet board on 127.0.0.1:6006 and a host node registered on it, leases an instance and deploys
# the counter sample on it, and prints what to type in a second terminal to talk to it (and to
# lease more). Ctrl-C stops everything. State is kept in
# ./.devnet across runs (ledger, host config and seed, a registry and a developer wallet).
#   SASHIMONO_LISTEN=HOST:PORT   where the devnet listens (default 127.0.0.1:6006)
#   SASHIMONO_DATA=DIR           data directory (default .devnet in the checkout)
#   SASHIMONO_BOARD_ONLY=1       only the devnet, no host node (the earlier behaviour)
# As root the node runs real tenants (users, cgroups, rootless containerd); otherwise it runs
# with simulated instances (--test-provisioner) and says so.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/tools/setup.sh"
"$here/tools/build.sh" release sashimono sample_counter
[ "$(id -u)" -ne 0 ] || "$here/tools/build-image.sh" --name hotpocket --sashimono "$here/build/release/src/sashimono" --if-changed
bin="$here/build/release/src/sashimono"
counter="$here/build/release/contracts-samples/counter/bundle"
listen=${SASHIMONO_LISTEN:-127.0.0.1:6006}
board="ws://$listen"
data=${SASHIMONO_DATA:-$here/.devnet}
mkdir -p "$data"
chmod 711 "$data"  # tenants (their own users) must reach their homes below it

newseed() {  # file: a new ed25519 seed, mode 0600, unless it exists
  [ -s "$1" ] || (umask 077; "$bin" keys generate --seed-only > "$1")
}
addressof() { "$bin" keys show --seed-file "$1" | awk '/^address:/ {print $2}'; }

seedfile="$data/genesis.seed"
newseed "$seedfile"
if [ -n "${SASHIMONO_BOARD_ONLY:-}" ]; then
  echo "run: devnet on $board (data: $data)"
  exec "$bin" devnet --listen "$listen" --data "$data" --genesis-seed-file "$seedfile"
fi

"$bin" devnet --listen "$listen" --data "$data" --genesis-seed-file "$seedfile" >>"$data/devnet.log" 2>&1 &
devnet=$!
node=""
cleanup() {
  [ -n "$node" ] && kill -TERM "$node" 2>/dev/null && wait "$node" 2>/dev/null || true
  kill -TERM "$devnet" 2>/dev/null && wait "$devnet" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM
host_port=${listen%:*}
port=${listen##*:}
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/$host_port/$port") 2>/dev/null; then break; fi
  kill -0 "$devnet" 2>/dev/null || { echo "run: the devnet did not start; see $data/devnet.log" >&2; exit 1; }
  sleep 0.1
done

# Accounts: a registry for host announcements, a developer wallet; funded from genesis.
newseed "$data/registry.seed"
newseed "$data/developer.seed"
registry=$(addressof "$data/registry.seed")
developer=$(addressof "$data/developer.seed")
mkdir -p "$data/host"
if [ ! -s "$data/host/host.json" ]; then
  # The node trusts the devnet's validator key, not the board server (docs/NETWORKS.md).
  validator=$(sed -n 's/.*"master_key": *"\([^"]*\)".*/\1/p' "$data/validator.json")
  [ -n "$validator" ] || { echo "run: no validator key in $data/validator.json" >&2; exit 1; }
  "$bin" host init --config "$data/host/host.json" --board "$board" --validator "$validator" \
    --address 127.0.0.1 --registry "$registry" --data "$data/host/data" >/dev/null
  # A demo host: short moments, ports on loopback only.
  sed -i -e 's/"momentSeconds": 3600/"momentSeconds": 600/' -e 's/"bindAddress": "0.0.0.0"/"bindAddress": "127.0.0.1"/' \
    "$data/host/host.json"
fi
hostaddr=$(addressof "$data/host/host.seed")
fund() {  # address drops (every run: a devnet account may be new after its data was removed)
  SASHIMONO_SEED=$(cat "$seedfile") "$bin" pay --board "$board" --to "$1" --drops "$2" >/dev/null
}
for a in "$registry" "$hostaddr" "$developer"; do fund "$a" 100000000; done

provisioner=()
if [ "$(id -u)" != 0 ]; then
  echo "run: not root: the host node simulates its instances (--test-provisioner); run as root for real tenants" >&2
  provisioner=(--test-provisioner "$data/host/simulated")
fi
"$bin" host run --config "$data/host/host.json" "${provisioner[@]}" >>"$data/host/node.log" 2>&1 &
node=$!
sleep 1
kill -0 "$node" 2>/dev/null || { echo "run: the host node stopped; see $data/host/node.log" >&2; tail -5 "$data/host/node.log" >&2; exit 1; }

# A dApp to talk to: the counter sample, on a leased instance (root: a real tenant) or, when the
# node only simulates its instances, on a local instance of the same runtime (`sashimono dev`).
dev=""
if [ "$(id -u)" = 0 ]; then
  echo "run: leasing an instance and deploying contracts-samples/counter on it ..."
  reply=$("$bin" lease acquire --board "$board" --registry "$registry" --host "$hostaddr" \
    --wallet "$data/developer.seed" --image hotpocket --moments 2 --json) || { echo "run: lease acquire failed: $reply" >&2; exit 1; }
  lease=$(printf '%s' "$reply" | grep -o '"lease_id":"[0-9A-Fa-f]*"' | head -1 | cut -d'"' -f4)
  [ -n "$lease" ] || { echo "run: no lease in the reply: $reply" >&2; exit 1; }
  "$bin" deploy --lease "$lease" --board "$board" --wallet "$data/developer.seed" --dir "$counter"
  target=(--lease "$lease" --board "$board" --wallet "$data/developer.seed")
else
  "$bin" dev "$counter" --workspace "$data/dev" --port 0 >"$data/dev.log" 2>&1 &
  dev=$!
  for _ in $(seq 1 100); do grep -q "Ctrl-C stops" "$data/dev.log" 2>/dev/null && break; sleep 0.1; done
  url=$(awk '/user endpoint/ {print $3}' "$data/dev.log")
  [ -n "$url" ] || { echo "run: the local instance did not start; see $data/dev.log" >&2; exit 1; }
  echo "run: the counter sample runs on a local instance ($url; log $data/dev.log)"
  target=(--url "$url" --key-file "$data/dev/user.key")
fi
trap 'cleanup; [ -n "$dev" ] && kill -TERM "$dev" 2>/dev/null; true' EXIT

cat <<EOF

run: devnet on $board, host node $hostaddr running (logs: $data/devnet.log, $data/host/node.log),
and the counter sample (contracts-samples/counter) running on an instance. Talk to it:

  $bin instance input ${target[*]} inc
  $bin instance read  ${target[*]} get
  $bin instance stat  ${target[*]}

As the developer (wallet $developer, funded), lease more instances and deploy your own contract:

  $bin hosts --board $board --registry $registry
  $bin lease acquire --board $board --registry $registry --host $hostaddr --wallet $data/developer.seed --image hotpocket --moments 2
  $bin deploy --lease <lease id> --board $board --wallet $data/developer.seed --dir <bundle directory>
  $bin lease list --board $board --wallet $data/developer.seed
  $bin lease terminate --board $board --registry $registry --host $hostaddr --wallet $data/developer.seed --lease <lease id>
  $bin host status --config $data/host/host.json

Ctrl-C stops everything.
EOF
wait "$node"
