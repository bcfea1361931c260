#!/usr/bin/env bash
# bench/http: every tenant report of the biggest tenant over HTTP with wrk at 1, 8 and 32 connections, with the
# report cache off and then on, in one run. Results: bench/results/http.{json,md}.
#
#   bench/http/run.sh                          # 1 M statements over 50 tenants (the defaults)
#   STATEMENTS=100000 SECONDS_PER_CELL=3 bench/http/run.sh
#
# Environment:
#   TENANTSCOPE_BIN   the tenantscope binary (default .build/release/tenantscope)
#   STATEMENTS        statements to generate (default 1000000), TENANTS (default 50), SEED (default 1)
#   SECONDS_PER_CELL  how long wrk drives each report at each connection count (default 5)
#   RESULTS_DIR       where to write http.json and http.md (default bench/results)
#
# Needs bash, python3 (standard library), psql, wrk (apt-get install -y wrk), and root or a `postgres` OS user
# as the embedded PostgreSQL does. Generates its data with bench/query/generate.sql in its own cluster.
set -euo pipefail

cd "$(dirname "$0")/../.."
REPO=$(pwd)

STATEMENTS=${STATEMENTS:-1000000}
TENANTS=${TENANTS:-50}
SEED=${SEED:-1}
SECONDS_PER_CELL=${SECONDS_PER_CELL:-5}
RESULTS_DIR=${RESULTS_DIR:-$REPO/bench/results}
BIN=${TENANTSCOPE_BIN:-.build/release/tenantscope}

progress() { printf '[http-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
fail() { printf 'bench/http: %s\n' "$*" >&2; exit 1; }

[[ -x "$BIN" ]] || fail "no tenantscope binary at $BIN: run \`swift build -c release\` first or set TENANTSCOPE_BIN"
BIN=$(realpath "$BIN")
command -v psql >/dev/null || fail "psql not found (apt-get install -y postgresql-client)"
command -v wrk >/dev/null || fail "wrk not found (apt-get install -y wrk)"
[[ "$STATEMENTS" =~ ^[0-9]+$ && "$STATEMENTS" -ge 1000 ]] || fail "STATEMENTS must be an integer >= 1000"
[[ "$TENANTS" =~ ^[0-9]+$ && "$TENANTS" -ge 3 && "$TENANTS" -le 999 ]] || fail "TENANTS must be an integer in 3...999"
for n in SEED SECONDS_PER_CELL; do [[ "${!n}" =~ ^[0-9]+$ ]] || fail "$n must be a non-negative integer"; done
[[ "$SECONDS_PER_CELL" -ge 1 ]] || fail "SECONDS_PER_CELL must be at least 1"

unset DATABASE_URL TENANTSCOPE_STATE_DIR
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
STATE=$(mktemp -d /tmp/tenantscope-hbench.XXXXXX)
chmod 755 "$STATE"

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  progress "Stopping the cluster"
  "$BIN" db stop --state-dir "$STATE" >/dev/null 2>&1 || progress "warning: could not stop the cluster in $STATE"
  rm -rf "$STATE"
  [[ $status -eq 0 ]] || progress "FAILED (exit $status)"
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

progress "Binary $BIN; $STATEMENTS statements over $TENANTS tenants; state in $STATE"
"$BIN" db start --state-dir "$STATE" >/dev/null 2>"$STATE/start.log" || { cat "$STATE/start.log" >&2; fail "db start failed"; }

python3 "$REPO/bench/http/measure.py" \
  --state-dir "$STATE" --bin "$BIN" --results-dir "$RESULTS_DIR" --generator "$REPO/bench/query/generate.sql" \
  --statements "$STATEMENTS" --tenants "$TENANTS" --seed "$SEED" --seconds "$SECONDS_PER_CELL" --load-start "$LOAD_START"
