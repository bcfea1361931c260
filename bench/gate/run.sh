#!/usr/bin/env bash
# bench/gate: what the tenant gate (migration 28, architecture decision 49) costs a tenant transaction. The
# same transactions a request opens (BEGIN, the scope's first statement, one statement, COMMIT), as the tenant
# login under row-level security, with pgbench: once with the first statement as it was before the gate (four
# set_config) and once as it is now (the same settings, and gate.tenant_gate in the same statement), for a
# read and for a write, at 1 and 8 connections, alternating in the same run. Results: bench/results/gate.{json,md}.
#
#   bench/gate/run.sh
#   SECONDS_PER_CELL=3 ROUNDS=1 bench/gate/run.sh   # quicker
#
# Environment:
#   TENANTSCOPE_BIN   the tenantscope binary, used only to start the cluster and create the tenant
#                     (default .build/release/tenantscope, else .build/debug/tenantscope)
#   SECONDS_PER_CELL  how long each transaction is driven at each connection count (default 5)
#   ROUNDS            rounds over every cell; each figure is the median of its rounds (default 3)
#   RESULTS_DIR       where to write gate.json and gate.md (default bench/results)
#
# Needs bash, python3 (standard library), psql and pgbench (postgresql-client), and root or a `postgres` OS user
# as the embedded PostgreSQL does.
set -euo pipefail

cd "$(dirname "$0")/../.."
REPO=$(pwd)

SECONDS_PER_CELL=${SECONDS_PER_CELL:-5}
ROUNDS=${ROUNDS:-3}
RESULTS_DIR=${RESULTS_DIR:-$REPO/bench/results}
BIN=${TENANTSCOPE_BIN:-.build/release/tenantscope}
[[ -x "$BIN" || -n "${TENANTSCOPE_BIN:-}" ]] || BIN=.build/debug/tenantscope

BENCH_TAG=gate-bench
BENCH_DATASET="one tenant"
# shellcheck source=../lib/cluster.sh
source "$REPO/bench/lib/cluster.sh"
[[ -x "$BIN" ]] || fail "no tenantscope binary at $BIN: run \`swift build\` first or set TENANTSCOPE_BIN"
BIN=$(realpath "$BIN")
for tool in psql pgbench python3; do command -v "$tool" >/dev/null || fail "$tool not found (apt-get install -y postgresql-client)"; done
for n in SECONDS_PER_CELL ROUNDS; do [[ "${!n}" =~ ^[0-9]+$ && "${!n}" -ge 1 ]] || fail "$n must be a positive integer"; done
bench_start_cluster

python3 "$REPO/bench/gate/measure.py" --state-dir "$STATE" --bin "$BIN" --results-dir "$RESULTS_DIR" \
  --seconds "$SECONDS_PER_CELL" --rounds "$ROUNDS" --load-start "$LOAD_START"
