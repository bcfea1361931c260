#!/usr/bin/env bash
# bench/rollups: what the roll-up service costs at rest and for a small increment, against a full rebuild
# of the same data measured in the same run (architecture decision 32). Results: bench/results/rollups.{json,md}.
#
#   bench/rollups/run.sh                         # 1 M statements over 50 tenants (the defaults)
#   STATEMENTS=200000 TENANTS=20 bench/rollups/run.sh
#
# Environment:
#   TENANTSCOPE_BIN    the tenantscope binary (default .build/release/tenantscope)
#   STATEMENTS         statements to generate (default 1000000), TENANTS (default 50), SEED (default 1)
#   IDLE_PASSES        timed passes with nothing queued (default 20)
#   IDLE_SECONDS       how long `serve` is watched at rest for PostgreSQL's CPU time (default 60)
#   INCREMENT_PERCENT  share of every tenant's statements added as the increment (default 1)
#   INCREMENT_ROUNDS   increments added and caught up one after another; the median pass counts (default 3)
#   RESULTS_DIR        where to write rollups.json and rollups.md (default bench/results)
#
# Needs bash, python3 (standard library), psql, and root or a `postgres` OS user as the embedded PostgreSQL
# does. Generates its data with bench/query/generate.sql in its own cluster under /tmp, stopped at the end.
set -euo pipefail

cd "$(dirname "$0")/../.."
REPO=$(pwd)

STATEMENTS=${STATEMENTS:-1000000}
TENANTS=${TENANTS:-50}
SEED=${SEED:-1}
IDLE_PASSES=${IDLE_PASSES:-20}
IDLE_SECONDS=${IDLE_SECONDS:-60}
INCREMENT_PERCENT=${INCREMENT_PERCENT:-1}
INCREMENT_ROUNDS=${INCREMENT_ROUNDS:-3}
RESULTS_DIR=${RESULTS_DIR:-$REPO/bench/results}
BIN=${TENANTSCOPE_BIN:-.build/release/tenantscope}

BENCH_TAG=rollup-bench
# shellcheck source=../lib/cluster.sh
source "$REPO/bench/lib/cluster.sh"
bench_check_dataset_knobs
for n in IDLE_PASSES IDLE_SECONDS INCREMENT_PERCENT INCREMENT_ROUNDS; do [[ "${!n}" =~ ^[0-9]+$ ]] || fail "$n must be a non-negative integer"; done
[[ "$INCREMENT_PERCENT" -ge 1 && "$INCREMENT_PERCENT" -le 50 ]] || fail "INCREMENT_PERCENT must be in 1...50"
[[ "$INCREMENT_ROUNDS" -ge 1 && "$INCREMENT_ROUNDS" -le 10 ]] || fail "INCREMENT_ROUNDS must be in 1...10"
bench_start_cluster

python3 "$REPO/bench/rollups/measure.py" \
  --state-dir "$STATE" --bin "$BIN" --results-dir "$RESULTS_DIR" --generator "$REPO/bench/query/generate.sql" \
  --statements "$STATEMENTS" --tenants "$TENANTS" --seed "$SEED" --idle-passes "$IDLE_PASSES" \
  --idle-seconds "$IDLE_SECONDS" --increment-percent "$INCREMENT_PERCENT" --increment-rounds "$INCREMENT_ROUNDS" --load-start "$LOAD_START"
