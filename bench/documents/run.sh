#!/usr/bin/env bash
# bench/documents: xAPI document reads and writes per second over HTTP (State GET, PUT and POST at 1 and 16
# connections, wrk) against the same reads and writes as bare SQL (pgbench, same cluster, same run).
# Results: bench/results/documents.{json,md}.
#
#   bench/documents/run.sh
#   SECONDS_PER_CELL=3 ROUNDS=1 bench/documents/run.sh                    # quicker
#   INGEST_RESULTS=/tmp/ingest-check/ingest.json bench/documents/run.sh   # also compare a fresh ingest run
#
# Environment:
#   TENANTSCOPE_BIN   the tenantscope binary (default .build/release/tenantscope)
#   DOCUMENTS         State documents (one per learner) the requests spread over (default 1000)
#   DOCUMENT_BYTES    size of each document (default 1024)
#   SECONDS_PER_CELL  how long each operation is driven at each connection count (default 5)
#   ROUNDS            rounds over every cell; each figure is the median of its rounds (default 3)
#   INGEST_RESULTS    an ingest.json from `RESULTS_DIR=... bench/ingest/run.sh`, compared with
#                     bench/results/ingest.json in documents.md (optional)
#   COMPARE_RESULTS   a documents.json of another build (e.g. the commit before a change, run with
#                     BINARY_COMMIT and RESULTS_DIR set), compared table by table in documents.md (optional)
#   INGEST_BASE_RESULTS  an ingest.json of that other build, compared too (optional)
#   BINARY_COMMIT     the commit TENANTSCOPE_BIN was built from, when it is not the checkout's HEAD
#   RESULTS_DIR       where to write documents.json and documents.md (default bench/results)
#
# Needs bash, python3 (standard library), psql, pgbench (postgresql-client), wrk (apt-get install -y wrk),
# and root or a `postgres` OS user as the embedded PostgreSQL does.
set -euo pipefail

cd "$(dirname "$0")/../.."
REPO=$(pwd)

DOCUMENTS=${DOCUMENTS:-1000}
DOCUMENT_BYTES=${DOCUMENT_BYTES:-1024}
SECONDS_PER_CELL=${SECONDS_PER_CELL:-5}
ROUNDS=${ROUNDS:-3}
INGEST_RESULTS=${INGEST_RESULTS:-}
INGEST_BASE_RESULTS=${INGEST_BASE_RESULTS:-}
COMPARE_RESULTS=${COMPARE_RESULTS:-}
RESULTS_DIR=${RESULTS_DIR:-$REPO/bench/results}
BIN=${TENANTSCOPE_BIN:-.build/release/tenantscope}

BENCH_TAG=documents-bench
BENCH_DATASET="$DOCUMENTS State documents of $DOCUMENT_BYTES bytes"
# shellcheck source=../lib/cluster.sh
source "$REPO/bench/lib/cluster.sh"
[[ -x "$BIN" ]] || fail "no tenantscope binary at $BIN: run \`swift build -c release --product tenantscope\` first or set TENANTSCOPE_BIN"
BIN=$(realpath "$BIN")
for tool in psql pgbench python3 wrk; do command -v "$tool" >/dev/null || fail "$tool not found (apt-get install -y postgresql-client wrk)"; done
for n in DOCUMENTS DOCUMENT_BYTES SECONDS_PER_CELL ROUNDS; do [[ "${!n}" =~ ^[0-9]+$ && "${!n}" -ge 1 ]] || fail "$n must be a positive integer"; done
[[ "$DOCUMENT_BYTES" -ge 64 ]] || fail "DOCUMENT_BYTES must be at least 64"
for n in INGEST_RESULTS INGEST_BASE_RESULTS COMPARE_RESULTS; do [[ -z "${!n}" || -f "${!n}" ]] || fail "$n names no file: ${!n}"; done
bench_start_cluster

python3 "$REPO/bench/documents/measure.py" \
  --state-dir "$STATE" --bin "$BIN" --results-dir "$RESULTS_DIR" --documents "$DOCUMENTS" --document-bytes "$DOCUMENT_BYTES" \
  --seconds "$SECONDS_PER_CELL" --rounds "$ROUNDS" --load-start "$LOAD_START" \
  --ingest-results "$INGEST_RESULTS" --ingest-baseline "$REPO/bench/results/ingest.json" --ingest-base-results "$INGEST_BASE_RESULTS" \
  --compare-results "$COMPARE_RESULTS"
