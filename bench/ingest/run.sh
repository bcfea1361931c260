#!/usr/bin/env bash
# Ingest benchmark: xAPI statements per second over HTTP (batches of 100 and 500, several tenants) and, in
# the same run, a raw COPY of the same rows as the ceiling. Writes bench/results/ingest.{json,md}.
#
#   swift build -c release && bench/ingest/run.sh
#   STATEMENTS=50000 CONCURRENCY=4 ROUNDS=5 TENANTSCOPE_BIN=.build/release/tenantscope bench/ingest/run.sh
#   KEEP_STATE=1 bench/ingest/run.sh    # keep the state directory (and its database) for a closer look
#   RESULTS_DIR=/tmp/ingest-check bench/ingest/run.sh   # write ingest.{json,md} elsewhere (a check run)
#   BINARY_COMMIT=abc1234 TENANTSCOPE_BIN=/tmp/old/release/tenantscope ...  # a binary built from another commit
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${TENANTSCOPE_BIN:-.build/release/tenantscope}
[[ -x "$BIN" ]] || { echo "error: $BIN is missing: run \`swift build -c release\` first or set TENANTSCOPE_BIN" >&2; exit 1; }
case "$BIN" in *release*) KIND=release ;; *debug*) KIND=debug ;; *) KIND=unknown ;; esac
RESULTS_DIR=${RESULTS_DIR:-$PWD/bench/results}
mkdir -p "$RESULTS_DIR"

STATE=$(mktemp -d /tmp/tenantscope-ingest.XXXXXX)
chmod 755 "$STATE"
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then kill -INT "$SERVER_PID"; wait "$SERVER_PID" || true; fi
  if [[ -n "${KEEP_STATE:-}" ]]; then echo "• State kept in $STATE"; else rm -rf "$STATE"; fi
}
trap cleanup EXIT

echo "• Creating 4 tenants with LRS keys, and a tenant for the COPY ceiling ($KIND build)"
KEYS="["
for n in 1 2 3 4; do
  "$BIN" tenant create "bench-$n" --name "Bench $n" --state-dir "$STATE" >/dev/null 2>&1
  out=$("$BIN" lrs-key create --tenant "bench-$n" --state-dir "$STATE" 2>/dev/null)
  KEYS+="[\"bench-$n\",\"$(awk '/^key:/{print $2}' <<<"$out")\",\"$(awk '/^secret:/{print $2}' <<<"$out")\"]"
  [[ $n -lt 4 ]] && KEYS+=","
done
KEYS+="]"
"$BIN" tenant create copy-ceiling --name "COPY ceiling" --state-dir "$STATE" >/dev/null 2>&1

echo "• Starting the server"
# --no-tenant-limits: this measures capacity, not one tenant's share of it (that is bench/noisy-neighbour).
"$BIN" serve --state-dir "$STATE" --port 0 --max-body-bytes 16777216 --rollup-interval 0.5 --no-tenant-limits >"$STATE/server.out" 2>"$STATE/server.err" &
SERVER_PID=$!
URL=""
for _ in $(seq 1 120); do
  URL=$(grep -o 'http://[0-9.]*:[0-9]*' "$STATE/server.out" 2>/dev/null | head -n 1 || true)
  [[ -n "$URL" ]] && break
  sleep 0.5
done
[[ -n "$URL" ]] || { cat "$STATE/server.err" >&2; exit 1; }

OWNER_URL=$("$BIN" db url --state-dir "$STATE" 2>/dev/null)
SUPERUSER_URL=$(python3 -c "import json,sys; s=json.load(open('$STATE/embedded.json')); print('postgresql://postgres:%s@127.0.0.1:%d/tenantscope?sslmode=disable' % (s['superuserPassword'], s['port']))")
tenant_id() { psql "$SUPERUSER_URL" -XAtq -c "SELECT id FROM app.tenants WHERE slug = '$1'"; }

SERVER_URL="$URL" OWNER_URL="$OWNER_URL" SUPERUSER_URL="$SUPERUSER_URL" LRS_KEYS="$KEYS" \
COPY_TENANT_ID=$(tenant_id copy-ceiling) SOURCE_TENANT_ID=$(tenant_id bench-1) BINARY_KIND="$KIND" \
RESULTS_DIR="$RESULTS_DIR" python3 bench/ingest/ingest.py
