#!/usr/bin/env bash
# bench/scaling: the same measurements at growing sizes, one dataset per size: bench/query (every tenant report
# served from the roll-ups versus cold from the raw tables, through the CLI) and bench/http (the biggest tenant's
# reports over HTTP at 1, 8 and 32 connections, report cache off and on) on the dataset bench/query generated.
# Then the scaling table: how served and cold times, latency and throughput grow with the data.
# Results: bench/results/scaling.{json,md}, and each size's own bench/results/scaling/SIZE/{query,http}.{json,md}.
#
#   bench/scaling/run.sh                                   # 100k, 1M and 10M statements over 1,000 tenants (about 1 h)
#   SIZES="100000 1000000" TENANTS=50 bench/scaling/run.sh  # quicker
#
# Environment:
#   TENANTSCOPE_BIN   the tenantscope binary (default .build/release/tenantscope)
#   SIZES             statements per dataset (default "100000 1000000 10000000"), TENANTS (default 1000), SEED (default 1)
#   SECONDS_PER_CELL  bench/http's seconds per report and connection count (default 5)
#   SERVED_RUNS, COLD_RUNS, RLS_RUNS   bench/query's runs (defaults 20, 5, 21)
#   RESULTS_DIR       where to write scaling.json, scaling.md and scaling/ (default bench/results)
#   NOTE              a sentence for the results on what else ran on the machine meanwhile
#   BINARY_COMMIT     the commit TENANTSCOPE_BIN was built from, when it is not the checkout's (the results name it)
#
# Needs what bench/query and bench/http need (psql, wrk, python3), and for 10M statements about 20 GB of disk.
set -euo pipefail

cd "$(dirname "$0")/../.."
REPO=$(pwd)

SIZES=${SIZES:-100000 1000000 10000000}
TENANTS=${TENANTS:-1000}
RESULTS_DIR=${RESULTS_DIR:-$REPO/bench/results}
BIN=${TENANTSCOPE_BIN:-.build/release/tenantscope}
export TENANTSCOPE_BIN=$BIN TENANTS SEED=${SEED:-1} SECONDS_PER_CELL=${SECONDS_PER_CELL:-5}
export SERVED_RUNS=${SERVED_RUNS:-20} COLD_RUNS=${COLD_RUNS:-5} RLS_RUNS=${RLS_RUNS:-21}

progress() { printf '[scaling %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
fail() { printf 'bench/scaling: %s\n' "$*" >&2; exit 1; }

[[ -x "$BIN" ]] || fail "no tenantscope binary at $BIN: run \`swift build -c release --product tenantscope\` first or set TENANTSCOPE_BIN"
for size in $SIZES; do [[ "$size" =~ ^[0-9]+$ && "$size" -ge 1000 ]] || fail "SIZES must be integers >= 1000, got '$size'"; done
command -v wrk >/dev/null || fail "wrk not found (apt-get install -y wrk)"

label() { python3 -c "n=$1; print(f'{n // 1000000}M' if n % 1000000 == 0 else f'{n // 1000}k' if n % 1000 == 0 else str(n))"; }

STARTED=$(date +%s)
WORK=$(mktemp -d /tmp/tenantscope-scaling.XXXXXX)
chmod 755 "$WORK"
STATE=""
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [[ -n "$STATE" && -d "$STATE" ]]; then
    "$BIN" db stop --state-dir "$STATE" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
  [[ $status -eq 0 ]] || progress "FAILED (exit $status)"
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

labels=()
for size in $SIZES; do
  name=$(label "$size")
  labels+=("$name")
  out="$RESULTS_DIR/scaling/$name"
  mkdir -p "$out"
  STATE="$WORK/$name"
  progress "$name: bench/query ($size statements over $TENANTS tenants), keeping its dataset"
  STATEMENTS=$size KEEP_STATE=1 STATE_DIR="$STATE" RESULTS_DIR="$out" bench/query/run.sh
  progress "$name: bench/http on the same dataset"
  STATEMENTS=$size BENCH_REUSE_STATE="$STATE" RESULTS_DIR="$out" bench/http/run.sh
  rm -rf "$STATE"
  STATE=""
done

python3 "$REPO/bench/scaling/summarize.py" --results-dir "$RESULTS_DIR" --labels "${labels[@]}" --note "${NOTE:-}"
progress "Wrote $RESULTS_DIR/scaling.json and scaling.md in $(( $(date +%s) - STARTED )) s"
