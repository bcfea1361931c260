#!/usr/bin/env bash
# bench/exports: a statements export of one tenant through the export API (NDJSON, then gzip NDJSON), its
# throughput and the server's memory while it runs, against a raw COPY of the same rows as the ceiling, in
# one run (issue 19). Results: bench/results/exports.{json,md}.
#
#   bench/exports/run.sh                         # 1 M statements in one tenant (the default)
#   STATEMENTS=200000 bench/exports/run.sh
#   TENANTSCOPE_BIN=/tmp/bench-bin/debug/tenantscope bench/exports/run.sh   # a debug build, labelled as such
#
# Environment:
#   TENANTSCOPE_BIN   the tenantscope binary (default .build/release/tenantscope)
#   STATEMENTS        statements to generate into the one tenant (default 1000000), SEED (default 1)
#   COPY_RUNS         timed `COPY ... TO STDOUT` runs into a file, spread around the exports (default 3)
#   SAMPLE_MS         how often the server's VmRSS is sampled during an export, in ms (default 50)
#   RESULTS_DIR       where to write exports.json and exports.md (default bench/results)
#   KEEP_STATE=1      keep the state directory (cluster stopped) and the downloaded files for inspection
#
# Needs bash, python3 (standard library), psql, gzip, and root or a `postgres` OS user as the embedded
# PostgreSQL does. Generates its data with bench/query/generate.sql in its own cluster under /tmp, stopped
# at the end. Needs about 6x the export's size free under /tmp (the database, the stored export files, the
# downloads and the COPY outputs; ~4 GiB at 1 M statements), removed at the end unless KEEP_STATE=1.
set -euo pipefail

cd "$(dirname "$0")/../.."
REPO=$(pwd)

STATEMENTS=${STATEMENTS:-1000000}
TENANTS=1
BENCH_MIN_TENANTS=1
SEED=${SEED:-1}
COPY_RUNS=${COPY_RUNS:-3}
SAMPLE_MS=${SAMPLE_MS:-50}
RESULTS_DIR=${RESULTS_DIR:-$REPO/bench/results}
BIN=${TENANTSCOPE_BIN:-.build/release/tenantscope}

BENCH_TAG=export-bench
# shellcheck source=../lib/cluster.sh
source "$REPO/bench/lib/cluster.sh"
bench_check_dataset_knobs
command -v gzip >/dev/null || fail "gzip not found"
for n in COPY_RUNS SAMPLE_MS; do [[ "${!n}" =~ ^[0-9]+$ ]] || fail "$n must be a non-negative integer"; done
[[ "$COPY_RUNS" -ge 1 ]] || fail "COPY_RUNS must be at least 1"
[[ "$SAMPLE_MS" -ge 10 ]] || fail "SAMPLE_MS must be at least 10"
if [[ "${KEEP_STATE:-0}" == 1 ]]; then
  bench_cleanup() {
    local status=$?
    trap - EXIT INT TERM
    "$BIN" db stop --state-dir "$STATE" >/dev/null 2>&1 || true
    progress "Kept the state directory $STATE (cluster stopped)"
    exit $status
  }
fi
bench_start_cluster

python3 "$REPO/bench/exports/measure.py" \
  --state-dir "$STATE" --bin "$BIN" --results-dir "$RESULTS_DIR" --generator "$REPO/bench/query/generate.sql" \
  --statements "$STATEMENTS" --seed "$SEED" --copy-runs "$COPY_RUNS" --sample-ms "$SAMPLE_MS" --load-start "$LOAD_START"
