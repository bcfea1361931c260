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
RESULTS_DIR=${RESULTS_DIR:-$REPO/bench/results}
BIN=${TENANTSCOPE_BIN:-.build/release/tenantscope}

progress() { printf '[rollup-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
fail() { printf 'bench/rollups: %s\n' "$*" >&2; exit 1; }

[[ -x "$BIN" ]] || fail "no tenantscope binary at $BIN: run \`swift build -c release\` first or set TENANTSCOPE_BIN"
BIN=$(realpath "$BIN")
command -v psql >/dev/null || fail "psql not found (apt-get install -y postgresql-client)"
[[ "$STATEMENTS" =~ ^[0-9]+$ && "$STATEMENTS" -ge 1000 ]] || fail "STATEMENTS must be an integer >= 1000"
[[ "$TENANTS" =~ ^[0-9]+$ && "$TENANTS" -ge 3 && "$TENANTS" -le 999 ]] || fail "TENANTS must be an integer in 3...999"
for n in SEED IDLE_PASSES IDLE_SECONDS INCREMENT_PERCENT; do [[ "${!n}" =~ ^[0-9]+$ ]] || fail "$n must be a non-negative integer"; done
[[ "$INCREMENT_PERCENT" -ge 1 && "$INCREMENT_PERCENT" -le 50 ]] || fail "INCREMENT_PERCENT must be in 1...50"

unset DATABASE_URL TENANTSCOPE_STATE_DIR
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
STATE=$(mktemp -d /tmp/tenantscope-rbench.XXXXXX)
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

python3 "$REPO/bench/rollups/measure.py" \
  --state-dir "$STATE" --bin "$BIN" --results-dir "$RESULTS_DIR" --generator "$REPO/bench/query/generate.sql" \
  --statements "$STATEMENTS" --tenants "$TENANTS" --seed "$SEED" --idle-passes "$IDLE_PASSES" \
  --idle-seconds "$IDLE_SECONDS" --increment-percent "$INCREMENT_PERCENT" --load-start "$LOAD_START"
