#!/usr/bin/env bash
# Soak test: the release build on PostgreSQL under a mixed read load (wrk) for several
# minutes, in three phases of a third each: the mixed load alone; beside a scan of one-off
# requests (a map panning, a new bbox each time, and a threshold slider), whose misses may be
# shed with 503; and while a new national-scale dataset is imported over HTTP. Prints, per
# phase, requests, failures of the mixed load (non-2xx and socket errors: all must be 0),
# latency, what the scan got, and the server's memory (RSS) sampled every 5 s: it must stay
# flat.
#
#   scripts/soak.sh                          # 5 minutes, national scale, PostgreSQL on 127.0.0.1
#   DURATION=120 SCALE=0.2 scripts/soak.sh
#   PG_URL=postgres://user@host:5432 scripts/soak.sh
#
# Needs: cargo, wrk, curl, psql.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh
DURATION=${DURATION:-300}
SCALE=${SCALE:-1}
CONNECTIONS=${CONNECTIONS:-32}
PORT=${PORT:-18097}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
TOKEN=soak-admin-token-0123456789abcdef
BIN=$TARGET_DIR/release/boligsocial
WORK=$(mktemp -d)
DB="boligsocial_soak_$$"

cargo build --release --quiet
"$BIN" national-extract "$WORK/a" --seed 1 --scale "$SCALE" >/dev/null
"$BIN" national-extract "$WORK/b" --seed 2 --scale "$SCALE" >/dev/null
python3 -c "import shutil,sys; shutil.make_archive(sys.argv[1], 'zip', sys.argv[2])" "$WORK/b" "$WORK/b"
psql "$PG_URL/postgres" -qc "CREATE DATABASE $DB" >/dev/null
URL="$PG_URL/$DB"
"$BIN" import --database-url "$URL" "$WORK/a" >/dev/null

BOLIGSOCIAL__LOG__LEVEL=warn BOLIGSOCIAL__ADMIN__TOKEN=$TOKEN BOLIGSOCIAL__DATASET__REFRESH_SECONDS=2 \
  "$BIN" serve --database-url "$URL" --listen "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null; rm -rf "$WORK"' EXIT
wait_ready "http://127.0.0.1:$PORT/readyz" "$SERVER" "$WORK/server.log"

cat > "$WORK/mixed.lua" <<'LUA'
local paths = {
  "/v1/comparisons?indicator=outside_work_education&from=2012&to=2023&reference=municipality",
  "/v1/comparisons?indicator=convicted_rate&from=2015&to=2024&reference=social_housing&format=csv",
  "/v1/areas/A0001/series?indicator=outside_work_education",
  "/v1/areas/A0100/series?indicator=grade_point_average",
  "/v1/areas?municipality=751",
  "/v1/map/areas?indicator=outside_work_education&year=2020&geometry=false",
  "/v1/map/areas?indicator=youth_education&year=2024&simplify=20&precision=5",
  "/ogc/collections/areas/items?limit=50&offset=100",
  "/v1/indicators",
  "/v1/comparisons/chart.svg?indicator=outside_work_education&from=2012&to=2023",
}
local i = 0
request = function()
  i = i + 1
  local headers = {}
  if i % 3 == 0 then headers["Accept-Encoding"] = "gzip" end
  return wrk.format("GET", paths[(i % #paths) + 1], headers)
end
LUA

cat > "$WORK/scan.lua" <<'LUA'
local n = 0
request = function()
  n = n + 1
  if n % 2 == 0 then
    return wrk.format("GET", string.format("/v1/map/areas?bbox=8,54,%.6f,58", 11 + n * 0.000001), {["Accept-Encoding"] = "br"})
  end
  return wrk.format("GET", string.format("/v1/comparisons?indicator=outside_work_education&from=2012&to=2023&threshold=%.6f", n * 0.000013))
end
LUA

sample() { echo "$(date +%s) $(( $(ps -o rss= -p $SERVER) / 1024 ))" >> "$WORK/rss"; }
sample
( while kill -0 $SERVER 2>/dev/null; do sleep 5; sample; done ) &
SAMPLER=$!
PHASE=$((DURATION / 3))
mixed() { wrk -t2 -c"$CONNECTIONS" -d"${PHASE}s" --latency -s "$WORK/mixed.lua" "http://127.0.0.1:$PORT" > "$WORK/$1.txt"; }

mixed alone
wrk -t1 -c4 -d"$((PHASE + 2))s" --latency -s "$WORK/scan.lua" "http://127.0.0.1:$PORT" > "$WORK/scanner.txt" &
SCAN=$!
mixed beside
wait $SCAN
( sleep $((PHASE / 4))
  started=$(date +%s.%N)
  code=$(curl -s -o "$WORK/import.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/zip' --data-binary "@$WORK/b.zip" "http://127.0.0.1:$PORT/v1/admin/imports")
  echo "import over HTTP: $code $(cat "$WORK/import.json") in $(echo "$(date +%s.%N) - $started" | bc | cut -c1-5) s" > "$WORK/import.log"
) &
IMPORTER=$!
mixed import
wait $IMPORTER
kill $SAMPLER 2>/dev/null || true

echo "soak: ${DURATION}s in three phases, $CONNECTIONS connections, scale $SCALE, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
report() { # phase file
  printf '%-28s %s req/s; %s; p50 %s, p99 %s; %s\n' "$1" "$(awk '/Requests\/sec/ {print $2}' "$2")" "$(awk '/requests in/ {print $1 " requests"}' "$2")" \
    "$(awk '$1 == "50%" {print $2}' "$2")" "$(awk '$1 == "99%" {print $2}' "$2")" "$(grep -E "Non-2xx|Socket errors" "$2" | tr '\n' ' ' || true)"
}
report "mixed load alone" "$WORK/alone.txt"
report "mixed load beside the scan" "$WORK/beside.txt"
report "the scan itself (503s shed)" "$WORK/scanner.txt"
report "mixed load, import over HTTP" "$WORK/import.txt"
cat "$WORK/import.log"
# (an import that ends after the phase is followed within a refresh or two)
for _ in $(seq 1 60); do curl -s "http://127.0.0.1:$PORT/readyz" | grep -q '"dataset_version":2' && break; sleep 1; done
served=$(curl -s "http://127.0.0.1:$PORT/readyz")
echo "served after the run: $served"
curl -s "http://127.0.0.1:$PORT/metrics" | grep -E "^boligsocial_(http_shed_total|http_cache_bytes|http_cache_entries)" | tr '\n' ' '; echo
awk 'NR==1 {first=$2; min=$2; max=$2} {if ($2<min) min=$2; if ($2>max) max=$2; last=$2} END {printf "RSS MB: first %d, min %d, max %d, last %d (%d samples)\n", first, min, max, last, NR}' "$WORK/rss"
echo "RSS MB every 5 s: $(awk '{printf "%s ", $2}' "$WORK/rss")"
if grep -qE "Non-2xx|Socket errors" "$WORK/alone.txt" "$WORK/beside.txt" "$WORK/import.txt"; then echo "FAILED: some requests of the mixed load failed" >&2; exit 1; fi
