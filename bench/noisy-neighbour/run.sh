#!/usr/bin/env bash
# bench/noisy-neighbour: one tenant floods reports (16 connections) and ingest while another loads its dashboard;
# the quiet tenant's p99 idle, under the flood with the per-tenant limits off, and under the flood with them on
# (the default), in one run. Results: bench/results/noisy-neighbour.{json,md}.
#
#   bench/noisy-neighbour/run.sh                       # 200 000 statements over 10 tenants, 20 s per phase
#   STATEMENTS=100000 SECONDS_PER_PHASE=10 bench/noisy-neighbour/run.sh
#
# Environment:
#   TENANTSCOPE_BIN    the tenantscope binary (default .build/release/tenantscope)
#   STATEMENTS         statements to generate (default 200000), TENANTS (default 10), SEED (default 1)
#   SECONDS_PER_PHASE  how long each phase measures (default 20)
#   RESULTS_DIR        where to write noisy-neighbour.json and .md (default bench/results)
#
# Needs bash, python3 (standard library), psql, wrk (apt-get install -y wrk), and root or a `postgres` OS user
# as the embedded PostgreSQL does. Generates its data with bench/query/generate.sql in its own cluster.
set -euo pipefail

cd "$(dirname "$0")/../.."
REPO=$(pwd)

STATEMENTS=${STATEMENTS:-200000}
TENANTS=${TENANTS:-10}
SEED=${SEED:-1}
SECONDS_PER_PHASE=${SECONDS_PER_PHASE:-20}
RESULTS_DIR=${RESULTS_DIR:-$REPO/bench/results}
BIN=${TENANTSCOPE_BIN:-.build/release/tenantscope}

BENCH_TAG=noisy-neighbour
# shellcheck source=../lib/cluster.sh
source "$REPO/bench/lib/cluster.sh"
bench_check_dataset_knobs
command -v wrk >/dev/null || fail "wrk not found (apt-get install -y wrk)"
[[ "$SECONDS_PER_PHASE" =~ ^[0-9]+$ && "$SECONDS_PER_PHASE" -ge 3 ]] || fail "SECONDS_PER_PHASE must be an integer >= 3"
bench_start_cluster

python3 "$REPO/bench/noisy-neighbour/measure.py" \
  --state-dir "$STATE" --bin "$BIN" --results-dir "$RESULTS_DIR" --generator "$REPO/bench/query/generate.sql" \
  --ingest-script "$REPO/bench/noisy-neighbour/ingest.lua" \
  --statements "$STATEMENTS" --tenants "$TENANTS" --seed "$SEED" --seconds "$SECONDS_PER_PHASE" --load-start "$LOAD_START"
