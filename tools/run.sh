#!/usr/bin/env bash
# The main job on the embedded default: installs what is missing, builds (Release) and starts
# the devnet board on 127.0.0.1:6006 with its data in ./.devnet (kept across runs).
#   SASHIMONO_LISTEN=HOST:PORT   where the devnet listens (default 127.0.0.1:6006)
#   SASHIMONO_DATA=DIR           data directory (default .devnet in the checkout)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/tools/setup.sh"   # also installs xrpl.js (tests/interop/node_modules) for the hint below
"$here/tools/build.sh" release
bin="$here/build/release/src/sashimono"
listen=${SASHIMONO_LISTEN:-127.0.0.1:6006}
data=${SASHIMONO_DATA:-$here/.devnet}
mkdir -p "$data"
seedfile="$data/genesis.seed"
if [ ! -s "$seedfile" ]; then
  (umask 077; "$bin" keys generate --seed-only > "$seedfile")
  echo "run: generated a genesis seed in $seedfile"
fi
echo "run: devnet on ws://$listen (data: $data). In a second terminal try:"
echo "  $bin keys show --seed-file $seedfile"
echo "  node -e \"const x=require('$here/tests/interop/node_modules/xrpl');(async()=>{const c=new x.Client('ws://$listen');await c.connect();console.log(await c.request({command:'server_info'}));await c.disconnect()})()\""
exec "$bin" devnet --listen "$listen" --data "$data" --genesis-seed-file "$seedfile"
