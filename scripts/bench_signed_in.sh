#!/usr/bin/env bash
# Signed-in access at national scale (access.md; called at the end of scripts/bench.sh, or
# alone): a synthetic national extract on PostgreSQL, the service with signed-in access on
# against the test OpenID Provider (tests/oidc) and the audit writing every request, and wrk
# alternating a public area series and a signed-in department series (same indicator), with
# the same connections. Reports both, the first request of a grant (its view and disclosure
# guard worked out), the audit records written, and what validating one token costs.
#
#   scripts/bench_signed_in.sh        # needs: cargo, node + npm, wrk, PostgreSQL at PG_URL
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh
DURATION=${DURATION:-10s}
REPEAT=${REPEAT:-3}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
PORT=18431 IDP_PORT=18432
BIN=$TARGET_DIR/release/boligsocial
WORK=$(mktemp -d)
DB="boligsocial_signed_in_$$"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
for tool in wrk node npm psql curl python3; do command -v $tool >/dev/null || { echo "missing: $tool" >&2; exit 1; }; done

cargo build --release --quiet --bin boligsocial --example verify-cost --example view-cost
"$BIN" national-extract "$WORK/extract" >/dev/null
psql "$PG_URL/postgres" -qc "CREATE DATABASE $DB" >/dev/null
"$BIN" import --database-url "$PG_URL/$DB" "$WORK/extract" >/dev/null

# the organisation with the most departments, and its CVR number
read -r ORG CVR < <(python3 - "$WORK/extract" <<'PY'
import csv, collections, sys
d = sys.argv[1]
count = collections.Counter(r["organisation"] for r in csv.DictReader(open(f"{d}/departments.csv")))
org = count.most_common(1)[0][0]
cvr = next(r["cvr"] for r in csv.DictReader(open(f"{d}/organisations.csv")) if r["organisation_id"] == org)
print(org, cvr)
PY
)
[ -d tests/oidc/node_modules ] || (cd tests/oidc && npm ci --no-audit --no-fund --silent)
(cd tests/oidc && EXTRA_CLIENTS="bench-org:$CVR" PORT=$IDP_PORT exec node provider.js) > "$WORK/idp.log" 2>&1 &
PIDS+=($!)
until curl -sf "http://127.0.0.1:$IDP_PORT/.well-known/openid-configuration" >/dev/null; do sleep 0.1; done

BOLIGSOCIAL__LOG__LEVEL=warn BOLIGSOCIAL__AUTH__ISSUER="http://127.0.0.1:$IDP_PORT" BOLIGSOCIAL__ADMIN__TOKEN=bench-admin-token-0123 \
  BOLIGSOCIAL__AUTH__REQUESTS_PER_MINUTE=100000000 \
  "$BIN" serve --database-url "$PG_URL/$DB" --listen "127.0.0.1:$PORT" > "$WORK/server.log" 2>&1 &
SERVER=$!
PIDS+=("$SERVER")
wait_ready "http://127.0.0.1:$PORT/readyz" "$SERVER" "$WORK/server.log"
B="http://127.0.0.1:$PORT"
TOKEN=$(curl -sf -u bench-org:bench-org-secret -d grant_type=client_credentials -d resource=https://api.boligsocial.test/ \
  -d scope=boligsocial:departments "http://127.0.0.1:$IDP_PORT/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
AUTH="Authorization: Bearer $TOKEN"
DEPARTMENT=$(curl -sf -H "$AUTH" "$B/v1/me/departments" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["department_id"])')
COUNT=$(curl -sf -H "$AUTH" "$B/v1/me" | python3 -c 'import json,sys; print(json.load(sys.stdin)["departments"])')
PUBLIC="$B/v1/areas/A0001/series?indicator=outside_work_education"
SIGNED="$B/v1/me/departments/$DEPARTMENT/series?indicator=outside_work_education"
first=$(curl -s -o /dev/null -w '%{time_total}' -H "$AUTH" "$SIGNED")
echo "== signed in, national scale on PostgreSQL, audit on: $ORG ($COUNT departments), machine load $(cut -d' ' -f1-3 /proc/loadavg)"
printf 'first request of the grant (its view and guard worked out): %.2f s\n' "$first"
# the same work alone, for the largest organisation and municipality (scripts/view_cost.rs)
"$TARGET_DIR/release/examples/view-cost" "$PG_URL/$DB"
load_once() { # url, header…
  local args=(-t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency --timeout 10s -H "Accept-Encoding: gzip")
  for h in "${@:2}"; do args+=(-H "$h"); done
  wrk "${args[@]}" "$1" | summarize
}
audit_count() { psql "$PG_URL/$DB" -tAc "SELECT count(*) FROM audit_log"; }
audit_before=$(audit_count)
: > "$WORK/public"
: > "$WORK/signed"
for ((r = 0; r < REPEAT; r++)); do
  load_once "$PUBLIC" >> "$WORK/public"
  load_once "$SIGNED" "$AUTH" >> "$WORK/signed"
done
median() { python3 -c '
import statistics, sys
runs = [list(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
m = [statistics.median(c) for c in zip(*runs)]
print(f"{m[0]:.0f} {m[1]:.2f} {m[2]:.2f} {sum(int(r[3]) for r in runs)} {sum(int(r[4]) for r in runs)}")' "$1"; }
read -r pub_rps pub_p50 pub_p99 pub_bad _ < <(median "$WORK/public")
read -r sig_rps sig_p50 sig_p99 sig_bad sig_total < <(median "$WORK/signed")
printf '%-34s %8s %8s %8s %6s\n' "wrk -t$THREADS -c$CONNECTIONS -d$DURATION, median of $REPEAT" "rps" "p50 ms" "p99 ms" errors
printf '%-34s %8s %8s %8s %6s\n' "public area series" "$pub_rps" "$pub_p50" "$pub_p99" "$pub_bad"
printf '%-34s %8s %8s %8s %6s\n' "signed-in department series" "$sig_rps" "$sig_p50" "$sig_p99" "$sig_bad"
audit_after=$(audit_count)
echo "audit records: $audit_before before the signed-in runs, $audit_after after; signed-in requests answered in them: $sig_total"
curl -sf -H "Authorization: Bearer bench-admin-token-0123" "$B/v1/admin/audit?since=2000-01-01" >/dev/null
# another organisation's department and one that does not exist: the same answer, in the same time
OTHER=$(python3 - "$WORK/extract" "$ORG" <<'PY'
import csv, sys
print(next(r["department_id"] for r in csv.DictReader(open(f"{sys.argv[1]}/departments.csv")) if r["organisation"] != sys.argv[2]))
PY
)
for ((r = 0; r < REPEAT; r++)); do
  load_once "$B/v1/me/departments/$OTHER/series?indicator=outside_work_education" "$AUTH" >> "$WORK/others"
  load_once "$B/v1/me/departments/NO-SUCH-0000/series?indicator=outside_work_education" "$AUTH" >> "$WORK/none"
done
read -r oth_rps oth_p50 oth_p99 _ < <(median "$WORK/others")
read -r non_rps non_p50 non_p99 _ < <(median "$WORK/none")
printf '%-34s %8s %8s %8s\n' "another's department (404)" "$oth_rps" "$oth_p50" "$oth_p99"
printf '%-34s %8s %8s %8s\n' "no such department (404)" "$non_rps" "$non_p50" "$non_p99"
"$TARGET_DIR/release/examples/verify-cost" > "$WORK/verify"
read -r _ rs256 rs256_kept < <(grep RS256 "$WORK/verify")
read -r _ es256 es256_kept < <(grep ES256 "$WORK/verify")
printf 'validating a token on one core (scripts/verify_cost.rs): the first time RS256 %s µs, ES256 %s µs; seen before %s µs, %s µs\n' \
  "$rs256" "$es256" "$rs256_kept" "$es256_kept"
printf 'a signed-in request costs %.0f µs more than a public one at this load (token, view, audit record, private answer)\n' \
  "$(echo "1000000 / $sig_rps - 1000000 / $pub_rps" | bc -l)"
ok() { [ "$(echo "$2" | bc -l)" = 1 ] && echo "met     $1 ($3)" || echo "MISSED  $1 ($3)"; }
ok "signed-in series at least half the public series' rps" "$sig_rps >= 0.5 * $pub_rps" "$(echo "scale=2; $sig_rps / $pub_rps" | bc)x"
ok "signed-in series p99 under 20 ms" "$sig_p99 < 20" "$sig_p99 ms"
ok "no failed signed-in requests" "$sig_bad == 0" "$sig_bad"
ok "a grant's first request under a second (access.md: well under)" "$first < 1" "$first s"
ok "another's department and none answered alike in time (p50 within 20 %)" \
  "$oth_p50 <= 1.2 * $non_p50 && $non_p50 <= 1.2 * $oth_p50" "$oth_p50 ms against $non_p50 ms"
