#!/usr/bin/env bash
# Load test of the read API against the release build: requests per second and latency
# percentiles for the comparisons and series endpoints, with wrk.
#
#   scripts/load-test.sh                 # the bundled demo (48 areas)
#   DATASET=national scripts/load-test.sh   # a national-scale synthetic extract (1,000 areas)
#   DURATION=30s CONNECTIONS=64 scripts/load-test.sh
#
# Needs: cargo, wrk (Debian package `wrk`).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
DATASET=${DATASET:-demo}
PORT=${PORT:-18088}
WORK=$(mktemp -d)
BIN=$TARGET_DIR/release/boligsocial

command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
cargo build --release --quiet

export BOLIGSOCIAL__LOG__LEVEL=warn
DB="sqlite://$WORK/load.db"
if [ "$DATASET" = national ]; then
  "$BIN" national-extract "$WORK/extract" >/dev/null
  "$BIN" import --database-url "$DB" "$WORK/extract" >/dev/null
  INDICATOR=outside_work_education FROM=2012 TO=2023 AREA=A0001
else
  INDICATOR=outside_work_education FROM=2015 TO=2023 AREA=751-1
fi
"$BIN" serve --database-url "$DB" --listen "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT
wait_ready "http://127.0.0.1:$PORT/readyz" "$SERVER" "$WORK/server.log"

run() { # name, path
  local out
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "http://127.0.0.1:$PORT$2")
  local rps p50 p99 errors
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out")
  printf '%-12s %10s req/s   p50 %8s   p99 %8s   %s\n' "$1" "$rps" "$p50" "$p99" "${errors:-no errors}"
}

echo "dataset: $DATASET; $CONNECTIONS connections, $THREADS wrk threads, $DURATION each; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
run comparisons "/v1/comparisons?indicator=$INDICATOR&from=$FROM&to=$TO&reference=municipality"
run series "/v1/areas/$AREA/series?indicator=$INDICATOR"
run csv "/v1/comparisons?indicator=$INDICATOR&from=$FROM&to=$TO&reference=social_housing&format=csv"
echo "server RSS: $(( $(ps -o rss= -p $SERVER) / 1024 )) MB"
