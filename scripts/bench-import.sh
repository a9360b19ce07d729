#!/usr/bin/env bash
# Import benchmark: a national-scale synthetic extract (about 7,500 departments, 30
# indicators, 15 years: about 3.4 million observation rows) into a fresh SQLite file and a
# fresh PostgreSQL database, with wall time and peak memory (RSS) of each, and `psql \copy`
# of the same observations file into a bare table as the floor for PostgreSQL.
#
#   scripts/bench-import.sh                       # PostgreSQL at postgres://postgres@127.0.0.1:5432
#   PG_URL=postgres://user@host:5432 scripts/bench-import.sh
#
# Needs: cargo, psql, GNU time (/usr/bin/time, Debian package `time`).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
WORK=${WORK:-$(mktemp -d)}
SEED=${SEED:-1}
BIN=$TARGET_DIR/release/boligsocial

command -v /usr/bin/time >/dev/null || { echo "GNU time is needed: apt-get install time" >&2; exit 1; }
cargo build --release --quiet
"$BIN" national-extract "$WORK/extract" --seed "$SEED"

measure() { # label, command…
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" > "$WORK/out" 2>&1 || { cat "$WORK/out"; exit 1; }
  read -r secs kb < "$WORK/time"
  printf '%-34s %8.1f s %8.0f MB peak RSS\n' "$label" "$secs" "$((kb / 1024))"
}

db="boligsocial_bench_$$"
psql "$PG_URL/postgres" -qc "CREATE DATABASE $db" >/dev/null
trap 'psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null; rm -rf "$WORK"' EXIT

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(du -sh "$WORK/extract/observations.csv" | cut -f1) observations.csv, $(($(wc -l < "$WORK/extract/observations.csv") - 1)) rows"
measure "import into SQLite" "$BIN" import --database-url "sqlite://$WORK/bench.db" "$WORK/extract"
measure "import into PostgreSQL" "$BIN" import --database-url "$PG_URL/$db" "$WORK/extract"
psql "$PG_URL/$db" -qc "CREATE TABLE copy_floor (level text, unit text, indicator text, year int, numerator double precision, denominator bigint)"
measure "psql \\copy of observations.csv" psql "$PG_URL/$db" -qc "\\copy copy_floor FROM '$WORK/extract/observations.csv' CSV HEADER"
