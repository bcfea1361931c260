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
#   BENCH_REUSE_STATE a stopped cluster that bench/query kept (KEEP_STATE=1) with STATEMENTS over TENANTS: measured
#                     as it is, without generating (bench/scaling uses it)
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

BENCH_TAG=http-bench
# shellcheck source=../lib/cluster.sh
source "$REPO/bench/lib/cluster.sh"
bench_check_dataset_knobs
command -v wrk >/dev/null || fail "wrk not found (apt-get install -y wrk)"
for n in SECONDS_PER_CELL; do [[ "${!n}" =~ ^[0-9]+$ ]] || fail "$n must be a non-negative integer"; done
[[ "$SECONDS_PER_CELL" -ge 1 ]] || fail "SECONDS_PER_CELL must be at least 1"
bench_start_cluster

python3 "$REPO/bench/http/measure.py" \
  --state-dir "$STATE" --bin "$BIN" --results-dir "$RESULTS_DIR" --generator "$REPO/bench/query/generate.sql" \
  --statements "$STATEMENTS" --tenants "$TENANTS" --seed "$SEED" --seconds "$SECONDS_PER_CELL" --load-start "$LOAD_START" \
  ${BENCH_REUSE_STATE:+--reuse}
