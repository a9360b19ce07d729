#!/usr/bin/env bash
# Hot answers under a scan: the release build on PostgreSQL at national scale, the hot query
# (the comparison a map opens with) measured alone, then again while map clients pan (a new
# bbox per request, brotli, as browsers ask) and a threshold slider moves (a new threshold per
# request). Prints the hot query's throughput and p99 in both phases and their ratio, and what
# the scans got (misses beyond the render queue are shed with 503: counted, not failures).
# Target: the hot query keeps at least half its throughput, with p99 under 10 ms.
#
#   scripts/scan.sh                     # 20 s per phase, national scale
#   DURATION=10 SCALE=0.3 scripts/scan.sh
#
# Needs: cargo, wrk, curl, psql (PostgreSQL at PG_URL).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh
DURATION=${DURATION:-20}
SCALE=${SCALE:-1}
HOT_CONNECTIONS=${HOT_CONNECTIONS:-32}
SCAN_CONNECTIONS=${SCAN_CONNECTIONS:-4}
PORT=${PORT:-18099}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
BIN=$TARGET_DIR/release/boligsocial
WORK=$(mktemp -d)
DB="boligsocial_scan_$$"

cargo build --release --quiet
"$BIN" national-extract "$WORK/extract" --seed 1 --scale "$SCALE" >/dev/null
psql "$PG_URL/postgres" -qc "CREATE DATABASE $DB" >/dev/null
URL="$PG_URL/$DB"
"$BIN" import --database-url "$URL" "$WORK/extract" >/dev/null
BOLIGSOCIAL__LOG__LEVEL=warn "$BIN" serve --database-url "$URL" --listen "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null; rm -rf "$WORK"' EXIT
wait_ready "http://127.0.0.1:$PORT/readyz" "$SERVER" "$WORK/server.log"
BASE="http://127.0.0.1:$PORT"
HOT="/v1/comparisons?indicator=outside_work_education&from=2012&to=2023&reference=municipality"
curl -sf -H 'Accept-Encoding: gzip' "$BASE$HOT" >/dev/null

# each request a new bbox (six decimals: no two alike in any spelling), or a new threshold
cat > "$WORK/pan.lua" <<'LUA'
local n = 0
request = function()
  n = n + 1
  local path = string.format("/v1/map/areas?bbox=8,54,%.6f,58", 11 + n * 0.000001)
  return wrk.format("GET", path, {["Accept-Encoding"] = "br"})
end
LUA
cat > "$WORK/slider.lua" <<'LUA'
local n = 0
request = function()
  n = n + 1
  local path = string.format("/v1/comparisons?indicator=outside_work_education&from=2012&to=2023&threshold=%.6f", n * 0.000013)
  return wrk.format("GET", path, {["Accept-Encoding"] = "gzip"})
end
LUA

hot() { wrk -t1 -c"$HOT_CONNECTIONS" -d"${DURATION}s" --latency -H 'Accept-Encoding: gzip' "$BASE$HOT"; }
figure() { # file, what: req/s | p99 (ms) | non2xx
  case $2 in
    rps) awk '/Requests\/sec/ {print $2}' "$1" ;;
    p99) awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub("us","",v); v/=1000} else if (v ~ /ms$/) sub("ms","",v); else if (v ~ /s$/) {sub("s","",v); v*=1000}; print v}' "$1" ;;
    non2xx) awk '/Non-2xx/ {print $NF}' "$1" | grep . || echo 0 ;;
    requests) awk '/requests in/ {print $1}' "$1" ;;
  esac
}

echo "== scan: national scale $SCALE on PostgreSQL, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); hot $HOT_CONNECTIONS connections, each scan $SCAN_CONNECTIONS, ${DURATION}s per phase"
hot > "$WORK/alone.txt"
wrk -t1 -c"$SCAN_CONNECTIONS" -d"$((DURATION + 2))s" --latency -s "$WORK/pan.lua" "$BASE" > "$WORK/pan.txt" &
PAN=$!
wrk -t1 -c"$SCAN_CONNECTIONS" -d"$((DURATION + 2))s" --latency -s "$WORK/slider.lua" "$BASE" > "$WORK/slider.txt" &
SLIDER=$!
sleep 1
hot > "$WORK/during.txt"
health=$(curl -s -o /dev/null -w '%{http_code} in %{time_total}s' "$BASE/healthz")
wait $PAN $SLIDER

alone=$(figure "$WORK/alone.txt" rps) during=$(figure "$WORK/during.txt" rps)
printf '%-34s %10s req/s   p99 %7s ms   non-2xx %s\n' "hot query alone" "$alone" "$(figure "$WORK/alone.txt" p99)" "$(figure "$WORK/alone.txt" non2xx)"
printf '%-34s %10s req/s   p99 %7s ms   non-2xx %s\n' "hot query during the scans" "$during" "$(figure "$WORK/during.txt" p99)" "$(figure "$WORK/during.txt" non2xx)"
printf '%-34s %10s req/s   p99 %7s ms   503s %s of %s\n' "scan: panning map (new bbox, br)" "$(figure "$WORK/pan.txt" rps)" "$(figure "$WORK/pan.txt" p99)" "$(figure "$WORK/pan.txt" non2xx)" "$(figure "$WORK/pan.txt" requests)"
printf '%-34s %10s req/s   p99 %7s ms   503s %s of %s\n' "scan: threshold slider" "$(figure "$WORK/slider.txt" rps)" "$(figure "$WORK/slider.txt" p99)" "$(figure "$WORK/slider.txt" non2xx)" "$(figure "$WORK/slider.txt" requests)"
echo "/healthz during the scans: $health"
ratio=$(echo "scale=2; $during / $alone" | bc)
p99=$(figure "$WORK/during.txt" p99)
verdict=$(echo "$ratio >= 0.5 && $p99 < 10" | bc)
echo "hot during/alone: $ratio; target ≥ 0.5 with p99 < 10 ms: $([ "$verdict" = 1 ] && echo met || echo MISSED)"
curl -s "$BASE/metrics" | grep -E "^boligsocial_(http_cache_lookups_total|http_shed_total|http_cache_bytes|http_cache_entries)" || true
echo "server RSS: $(( $(ps -o rss= -p $SERVER) / 1024 )) MB"
