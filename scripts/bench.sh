#!/usr/bin/env bash
# National-scale benchmark, in one run on one machine:
#   - generates a synthetic extract the size of the whole sector (7,500 departments, 1,000
#     areas with hundreds of vertices each, 98 municipalities, 30 indicators, 15 years),
#   - imports it into SQLite and PostgreSQL (wall time, peak RSS) against `psql \copy` of the
#     same observations file (the floor for loading PostgreSQL),
#   - measures the time from start to ready on each backend,
#   - and runs wrk with the same concurrency against the service (on PostgreSQL), against
#     nginx serving the very same response bodies as static files with the same (gzip)
#     compression (the ceiling), and against pygeoapi serving the same area features from a
#     GeoJSON file under gunicorn (the alternative, for the items request),
#   - and reports what evaluating the legal criteria at load adds to start to ready and memory.
#
#   scripts/bench.sh                               # needs: cargo, PostgreSQL at PG_URL
#   DURATION=20s REPEAT=5 CONNECTIONS=64 scripts/bench.sh
#
# What else it needs (wrk, nginx, GNU time, bc, pygeoapi, gunicorn) it installs with apt-get
# and pip when they are missing (INSTALL=0 to refuse). Each load is run REPEAT times,
# alternating ours and nginx, and the report gives the median of each figure: single runs
# on two shared cores vary by 20 % from one to the next.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh
DURATION=${DURATION:-10s}
REPEAT=${REPEAT:-3}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
SEED=${SEED:-1}
PORT=18401 NGINX_PORT=18402 PYGEOAPI_PORT=18403 NGINX_COPY_PORT=18404
BIN=$TARGET_DIR/release/boligsocial
WORK=$(mktemp -d)
chmod 755 "$WORK" # nginx's workers read the bodies from here
DB="boligsocial_bench_$$"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
missing_packages=()
for tool in wrk:wrk curl:curl psql:postgresql-client nginx:nginx-light /usr/bin/time:time bc:bc python3:python3; do
  command -v "${tool%%:*}" >/dev/null || missing_packages+=("${tool#*:}")
done
if [ ${#missing_packages[@]} -gt 0 ]; then
  [ "${INSTALL:-1}" = 1 ] || { echo "missing: ${missing_packages[*]}" >&2; exit 1; }
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing_packages[@]}" >/dev/null
fi
if [ "${INSTALL:-1}" = 1 ] && ! { python3 -c 'import pygeoapi' 2>/dev/null && command -v gunicorn >/dev/null; }; then
  python3 -m pip install -q pygeoapi gunicorn || echo "pip could not install pygeoapi and gunicorn" >&2
fi

echo "== machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB, load $(cut -d' ' -f1-3 /proc/loadavg)"
cargo build --release --quiet
"$BIN" national-extract "$WORK/extract" --seed "$SEED"

echo "== import"
psql "$PG_URL/postgres" -qc "CREATE DATABASE $DB" >/dev/null
timed() { # label, command…
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" > "$WORK/out" 2>&1 || { cat "$WORK/out"; exit 1; }
  read -r secs kb < "$WORK/time"
  printf '%-36s %7.1f s  %6d MB peak RSS\n' "$label" "$secs" "$((kb / 1024))"
  echo "$secs" > "$WORK/last_secs"
}
timed "import into SQLite" "$BIN" import --database-url "sqlite://$WORK/bench.db" "$WORK/extract"
sqlite_import=$(cat "$WORK/last_secs")
timed "import into PostgreSQL" "$BIN" import --database-url "$PG_URL/$DB" "$WORK/extract"
pg_import=$(cat "$WORK/last_secs")
psql "$PG_URL/$DB" -qc "CREATE TABLE copy_floor (level text, unit text, indicator text, year int, numerator double precision, denominator bigint)"
timed "psql \\copy of the observations" psql "$PG_URL/$DB" -qc "\\copy copy_floor FROM '$WORK/extract/observations.csv' CSV HEADER"
copy_floor=$(cat "$WORK/last_secs")
psql "$PG_URL/$DB" -qc "DROP TABLE copy_floor"

echo "== start to ready (an already imported national-scale database)"
start_to_ready() { # label, url → leaves the server running, pid in SERVER
  local started ready
  started=$(date +%s.%N)
  BOLIGSOCIAL__LOG__LEVEL=warn "$BIN" serve --database-url "$2" --listen "127.0.0.1:$PORT" > "$WORK/server-$1.log" 2>&1 &
  SERVER=$!
  wait_ready "http://127.0.0.1:$PORT/readyz" "$SERVER" "$WORK/server-$1.log"
  ready=$(date +%s.%N)
  printf '%-36s %7.2f s\n' "start to ready, $1" "$(echo "$ready - $started" | bc)"
  printf -v "ready_$1" '%.2f' "$(echo "$ready - $started" | bc)"
}
start_to_ready sqlite "sqlite://$WORK/bench.db"
kill $SERVER; wait $SERVER 2>/dev/null || true
start_to_ready postgresql "$PG_URL/$DB"
PIDS+=("$SERVER")

B="http://127.0.0.1:$PORT"
declare -A PATHS=(
  [comparisons]="/v1/comparisons?indicator=outside_work_education&from=2012&to=2023&reference=municipality"
  [series]="/v1/areas/A0001/series?indicator=outside_work_education"
  [map_layer]="/v1/map/areas?indicator=outside_work_education&year=2023"
  # what a map of all Denmark asks for: 100 m simplification (a pixel is about a kilometre
  # at that zoom) and five decimals (about a metre)
  [map_national]="/v1/map/areas?indicator=outside_work_education&year=2023&simplify=100&precision=5"
  [ogc_items]="/ogc/collections/areas/items?limit=100&offset=200"
  # the legal criteria of every area in the latest year (the national extract maps their
  # roles onto its catalogue in the manifest)
  [criteria]="/v1/criteria?year=2024"
  # a vector tile over Zealand at zoom 9, with the values (what a MapLibre front end asks)
  [tile]="/tiles/areas/9/272/160.mvt?indicator=outside_work_education&year=2023"
)
ORDER=(comparisons series map_layer map_national ogc_items criteria tile)

# the same bodies for nginx, with gzip variants made as our service makes them
mkdir -p "$WORK/www"
for name in "${ORDER[@]}"; do
  curl -sf "$B${PATHS[$name]}" -o "$WORK/www/$name.json"
  [ -s "$WORK/www/$name.json" ] || { echo "$name: an empty answer" >&2; exit 1; }
  gzip -6 -k -n "$WORK/www/$name.json"
done
ETAG=$(curl -sfI -H 'Accept:' -H 'Accept-Encoding: gzip' "$B${PATHS[comparisons]}" | awk 'tolower($1) == "etag:" {print $2}' | tr -d '\r')
[ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Accept:' -H 'Accept-Encoding: gzip' -H "If-None-Match: $ETAG" "$B${PATHS[comparisons]}")" = 304 ] \
  || { echo "revalidation does not answer 304" >&2; exit 1; }
cat > "$WORK/nginx.conf" <<NGINX
worker_processes auto;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log $WORK/nginx-access.log combined buffer=64k;
  sendfile on; tcp_nopush on; keepalive_requests 100000;
  open_file_cache max=100;
  gzip_static on;
  default_type application/json;
  server { listen 127.0.0.1:$NGINX_PORT; root $WORK/www; }
  # the same without its zero-copy path, to say why a large body misses (see report)
  server { listen 127.0.0.1:$NGINX_COPY_PORT; root $WORK/www; sendfile off; }
}
NGINX
nginx -c "$WORK/nginx.conf"
until curl -sf -o /dev/null "http://127.0.0.1:$NGINX_PORT/series.json"; do sleep 0.1; done
NGINX_ETAG=$(curl -sfI -H 'Accept:' -H 'Accept-Encoding: gzip' "http://127.0.0.1:$NGINX_PORT/comparisons.json" | awk 'tolower($1) == "etag:" {print $2}' | tr -d '\r')
[ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Accept-Encoding: gzip' -H "If-None-Match: $NGINX_ETAG" "http://127.0.0.1:$NGINX_PORT/comparisons.json")" = 304 ] \
  || { echo "nginx does not answer 304" >&2; exit 1; }

# pygeoapi with the same features
PYGEOAPI=""
if python3 -c 'import pygeoapi' 2>/dev/null && command -v gunicorn >/dev/null; then
  curl -sf "$B/ogc/collections/areas/items?limit=10000" | python3 -c '
import json, sys
d = json.load(sys.stdin)
json.dump({"type": "FeatureCollection", "features": d["features"]}, open(sys.argv[1], "w"))' "$WORK/areas.geojson"
  cat > "$WORK/pygeoapi.yml" <<YAML
server:
  bind: {host: 127.0.0.1, port: $PYGEOAPI_PORT}
  url: http://127.0.0.1:$PYGEOAPI_PORT
  mimetype: application/json; charset=UTF-8
  encoding: utf-8
  language: en-US
  limits: {default_items: 100, max_items: 10000}
  map: {url: "https://tile.openstreetmap.org/{z}/{x}/{y}.png", attribution: none}
logging: {level: ERROR}
metadata:
  identification: {title: areas, description: benchmark, keywords: [areas], keywords_type: theme, terms_of_service: none, url: "http://example.org"}
  license: {name: CC-BY 4.0, url: "https://creativecommons.org/licenses/by/4.0/"}
  provider: {name: bench, url: "http://example.org"}
  contact: {name: bench, position: bench, address: none, city: none, stateorprovince: none, postalcode: none, country: DK, phone: none, fax: none, email: none@example.org, url: "http://example.org", hours: none, instructions: none, role: pointOfContact}
resources:
  areas:
    type: collection
    title: areas
    description: areas
    keywords: [areas]
    extents: {spatial: {bbox: [8, 54.5, 15.2, 57.8], crs: "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}}
    providers:
      - {type: feature, name: GeoJSON, data: $WORK/areas.geojson, id_field: area_id}
YAML
  export PYGEOAPI_CONFIG=$WORK/pygeoapi.yml PYGEOAPI_OPENAPI=$WORK/pygeoapi-openapi.yml
  pygeoapi openapi generate "$PYGEOAPI_CONFIG" --output-file "$PYGEOAPI_OPENAPI" >/dev/null 2>&1
  gunicorn pygeoapi.flask_app:APP -w "$(nproc)" -b "127.0.0.1:$PYGEOAPI_PORT" > "$WORK/gunicorn.log" 2>&1 &
  PIDS+=("$!")
  wait_ready "http://127.0.0.1:$PYGEOAPI_PORT/" "${PIDS[-1]}" "$WORK/gunicorn.log"
  PYGEOAPI="http://127.0.0.1:$PYGEOAPI_PORT/collections/areas/items?limit=100&offset=200&f=json"
else
  echo "pygeoapi or gunicorn is missing (pip install pygeoapi gunicorn): no alternative measured" >&2
fi

# wrk, one run → "rps p50_ms p99_ms errors"
load_once() { # url, extra header…
  local args=(-t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency --timeout 10s)
  for h in "${@:2}"; do [ -n "$h" ] && args+=(-H "$h"); done
  wrk "${args[@]}" "$1" | python3 -c '
import re, sys
t = sys.stdin.read()
unit = {"us": 0.001, "ms": 1.0, "s": 1000.0}
def ms(label):
    m = re.search(r"^\s+" + label + r"%\s+([\d.]+)(us|ms|s)", t, re.M)
    return float(m.group(1)) * unit[m.group(2)] if m else float("nan")
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
bad = sum(int(x) for x in re.findall(r"Non-2xx or 3xx responses: (\d+)", t))
bad += sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", t))
p50, p99 = ms("50"), ms("99")
print(f"{rps:.0f} {p50:.2f} {p99:.2f} {bad}")'
}
# REPEAT runs of each side, alternating → "rps p50 p99 errors" of each, medians (errors summed)
compare() { # our url, nginx url, an extra header for ours, one for nginx (gzip on both)
  local r ours="" theirs=""
  for ((r = 0; r < REPEAT; r++)); do
    ours+="$(load_once "$1" "Accept-Encoding: gzip" "${3:-}")"$'\n'
    theirs+="$(load_once "$2" "Accept-Encoding: gzip" "${4:-}")"$'\n'
  done
  for runs in "$ours" "$theirs"; do
    printf '%s' "$runs" | python3 -c '
import statistics, sys
runs = [list(map(float, l.split())) for l in sys.stdin if l.strip()]
m = [statistics.median(c) for c in zip(*runs)]
print(f"{m[0]:.0f} {m[1]:.2f} {m[2]:.2f} {sum(int(r[3]) for r in runs)}")'
  done
}

echo "== load: wrk -t$THREADS -c$CONNECTIONS -d$DURATION, Accept-Encoding: gzip on both sides, median of $REPEAT runs each (load $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-14s %10s %9s %9s %6s | %10s %9s %9s | %12s\n' workload "ours rps" "p50 ms" "p99 ms" errors "nginx rps" "p50 ms" "p99 ms" "ours/nginx"
TARGETS=()
verdict() { # description, condition (bc), detail
  if [ "$(echo "$2" | bc -l)" = 1 ]; then TARGETS+=("met     $1 ($3)"); else TARGETS+=("MISSED  $1 ($3)"); fi
}
report() { # name, ours, nginx[, the nginx url without sendfile]
  read -r r1 a1 b1 e1 <<<"$2"
  read -r r2 a2 b2 _ <<<"$3"
  local ratio why=""
  ratio=$(echo "scale=2; $r1 / $r2" | bc)
  printf '%-14s %10s %9s %9s %6s | %10s %9s %9s | %12s\n' "$1" "$r1" "$a1" "$b1" "$e1" "$r2" "$a2" "$b2" "$ratio"
  # A miss on a large body: nginx hands the file's pages to the socket (sendfile), where any
  # server sending from its own memory copies them; one run of nginx copying says how much
  # of the gap that is.
  if [ -n "${4:-}" ] && [ "$(echo "$ratio < 0.8" | bc -l)" = 1 ]; then
    read -r r3 _ _ _ <<<"$(load_once "$4" "Accept-Encoding: gzip")"
    why="; nginx with sendfile off: $r3 req/s, ours/that $(echo "scale=2; $r1 / $r3" | bc)x"
  fi
  verdict "$1: at least 0.8x nginx's requests per second" "$ratio >= 0.8" "${ratio}x$why"
  # Little's law: C connections kept busy at R requests/s wait C/R seconds on average, so a
  # p99 under 10 ms needs at least 100*C requests/s, whatever the server
  verdict "$1: p99 under 10 ms at $CONNECTIONS connections" "$b1 < 10" \
    "p99 $b1 ms; nginx $b2 ms on the same bytes; mean by Little's law $(echo "scale=2; 1000 * $CONNECTIONS / $r1" | bc) ms"
  verdict "$1: no failed requests" "$e1 == 0" "$e1 failed"
}
declare -A OURS_RPS
for name in "${ORDER[@]}"; do
  { read -r ours; read -r theirs; } < <(compare "$B${PATHS[$name]}" "http://127.0.0.1:$NGINX_PORT/$name.json")
  report "$name" "$ours" "$theirs" "http://127.0.0.1:$NGINX_COPY_PORT/$name.json"
  OURS_RPS[$name]=${ours%% *}
  [ "$name" = ogc_items ] && OGC_OURS=$ours
done
{ read -r ours; read -r theirs; } < <(compare "$B${PATHS[comparisons]}" "http://127.0.0.1:$NGINX_PORT/comparisons.json" \
  "If-None-Match: $ETAG" "If-None-Match: $NGINX_ETAG")
report "304 revalidate" "$ours" "$theirs"

if [ -n "$PYGEOAPI" ]; then
  pyg=$(load_once "$PYGEOAPI" "Accept-Encoding: gzip")
  read -r r1 _ _ _ <<<"$OGC_OURS"
  read -r r2 a2 b2 e2 <<<"$pyg"
  printf '%-14s pygeoapi (gunicorn, %s workers, GeoJSON file): %s req/s, p50 %s ms, p99 %s ms, %s errors; ours/pygeoapi %s\n' \
    ogc_items "$(nproc)" "$r2" "$a2" "$b2" "$e2" "$(echo "scale=1; $r1 / $r2" | bc)"
  verdict "ogc_items: at least 50x pygeoapi" "$r1 >= 50 * $r2" "$(echo "scale=0; $r1 / $r2" | bc)x"
fi

# what evaluating the criteria when a version is loaded adds (the service's own gauges)
metric() { curl -sf "$B/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
criteria_s=$(metric boligsocial_snapshot_criteria_seconds)
criteria_mb=$(echo "scale=1; $(metric boligsocial_snapshot_criteria_bytes) / 1000000" | bc)
printf '== the legal criteria, evaluated at load: %.3f s of the %s s start to ready on PostgreSQL, about %s MB held\n' \
  "$criteria_s" "$ready_postgresql" "$criteria_mb"
peak=$(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$SERVER/status")
now=$(awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$SERVER/status")
echo "== server memory (PostgreSQL instance): peak RSS $peak MB, now $now MB"
echo "== import against the floor: PostgreSQL $(echo "scale=2; $pg_import / $copy_floor" | bc)× psql \\copy; SQLite $sqlite_import s"
for name in "${ORDER[@]}"; do
  gz=$(stat -c %s "$WORK/www/$name.json.gz")
  printf '%-14s %9d bytes, %9d gzip; ours sent %5d MB/s\n' "$name" "$(stat -c %s "$WORK/www/$name.json")" "$gz" "$((gz * OURS_RPS[$name] / 1000000))"
done
echo "== machine load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
verdict "server peak RSS under 200 MB" "$peak < 200" "$peak MB"
verdict "import within 3x psql \\copy on PostgreSQL" "$pg_import <= 3 * $copy_floor" "$pg_import s against $copy_floor s"
verdict "import under 60 s on SQLite" "$sqlite_import < 60" "$sqlite_import s"
verdict "start to ready under 2 s, SQLite" "$ready_sqlite < 2" "$ready_sqlite s"
verdict "start to ready under 2 s, PostgreSQL" "$ready_postgresql < 2" "$ready_postgresql s"
echo "== targets"
printf '%s\n' "${TARGETS[@]}"
